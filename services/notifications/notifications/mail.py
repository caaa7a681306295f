"""E-mail over SMTP (aiosmtplib): a real SMTP server in development and tests (aiosmtpd,
started by the stack and the fixtures), the marketplace's relay in production."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr

import aiosmtplib


class MailError(Exception):
    """The message was not accepted; it is tried again later."""


class Mailer:
    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout

    async def send(
        self,
        *,
        to: tuple[str, str],
        subject: str,
        text: str,
        html: str,
        message_id: str,
        in_doubt: bool = False,
    ) -> None:
        """Send one message. `in_doubt`: an earlier attempt may have been accepted before its
        sender died (SMTP cannot be asked), so this one says it may be a repeat, and carries
        the same Message-ID, which mail clients use to show it once."""
        address, name = to
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = formataddr((name, address))
        message["Subject"] = subject
        # The notification's id: a rare resend after a crash is recognisable as the same mail.
        message["Message-ID"] = f"<{message_id}@marketplace>"
        message["X-Notification-Id"] = message_id
        if in_doubt:
            message["X-Resent-In-Doubt"] = "yes"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        try:
            await aiosmtplib.send(message, hostname=self.host, port=self.port, timeout=self.timeout)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise MailError(str(error)) from error
