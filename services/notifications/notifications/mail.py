"""E-mail over SMTP (aiosmtplib): a real SMTP server in development and tests (aiosmtpd,
started by the stack and the fixtures), the marketplace's relay in production.

Headers are built from `email.headerregistry.Address` under the SMTP policy, which refuses
CR and LF in any header: what a person calls themselves can never add a header or a
recipient. A message that can never go (an unusable address, a permanent 5xx refusal) raises
`Undeliverable`; one that may go later (the server unreachable, a 4xx) raises `MailError`.
"""

from __future__ import annotations

from email import policy
from email.headerregistry import Address
from email.message import EmailMessage

import aiosmtplib

from contracts.text import control_character_fault
from notifications.domain import one_line


class MailError(Exception):
    """The message was not accepted this time; it is tried again later."""


class Undeliverable(Exception):
    """The message can never be sent as it is: it is set aside with this reason."""


def recipient(email: str, name: str) -> Address:
    """The `To` address. A display name that is not plain text is dropped (the person still
    gets their mail, by address alone); an address that is not one is `Undeliverable`."""
    if fault := control_character_fault(email, multiline=False):
        raise Undeliverable(f"the recipient's e-mail address is not usable: {fault}")
    try:
        parsed = Address(addr_spec=email)
    except Exception as error:  # the parser raises several kinds of defects
        raise Undeliverable(f"the recipient's e-mail address is not usable: {error}") from error
    if not parsed.username or not parsed.domain:
        raise Undeliverable("the recipient's e-mail address is not usable: no user or domain")
    display_name = name if control_character_fault(name, multiline=False) is None else ""
    return Address(display_name=display_name, username=parsed.username, domain=parsed.domain)


def _refusal(error: aiosmtplib.SMTPException) -> Exception:
    """A 5xx answer about this message (its recipient, its content) is the server's final
    word on it. Anything else may pass later, or is about the server or the sender and so
    about every message alike (a greeting or HELO refused): those are retried."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        permanent = bool(codes) and all(code >= 500 for code in codes)
    elif isinstance(error, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        permanent = error.code >= 500
    else:
        permanent = False
    if permanent:
        return Undeliverable(f"the mail server refused it: {error}")
    return MailError(str(error))


class Mailer:
    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout

    def message(
        self,
        *,
        to: tuple[str, str],
        subject: str,
        text: str,
        html: str,
        message_id: str,
        in_doubt: bool = False,
    ) -> EmailMessage:
        """The message as it goes out; `Undeliverable` if it cannot be built."""
        address, name = to
        message = EmailMessage(policy=policy.SMTP)
        try:
            message["From"] = self.sender
            message["To"] = recipient(address, name)
            message["Subject"] = one_line(subject)
            # The notification's id: a rare resend after a crash is recognisable as the same mail.
            message["Message-ID"] = f"<{message_id}@marketplace>"
            message["X-Notification-Id"] = message_id
            if in_doubt:
                message["X-Resent-In-Doubt"] = "yes"
        except Undeliverable:
            raise
        except Exception as error:  # a header the policy refuses
            raise Undeliverable(f"a header could not be built: {error}") from error
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message

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
        message = self.message(
            to=to,
            subject=subject,
            text=text,
            html=html,
            message_id=message_id,
            in_doubt=in_doubt,
        )
        try:
            await aiosmtplib.send(message, hostname=self.host, port=self.port, timeout=self.timeout)
        except aiosmtplib.SMTPException as error:
            raise _refusal(error) from error
        except (OSError, TimeoutError) as error:
            raise MailError(str(error) or type(error).__name__) from error
