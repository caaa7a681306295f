"""The mail worker: sends the e-mails that are due, one pass at a time, and records what became
of each (sent, retried with backoff, or set aside as failed with its reason). Whatever goes
wrong with one e-mail is recorded on it alone, so the worker always moves on. A delivery
claimed (`sending`) by a pass that died is sent again marked as possibly a repeat, with the
same Message-ID."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from prometheus_client import Counter

from notifications import domain
from notifications.handlers import NotificationsContext
from notifications.mail import MailError, Undeliverable

log = structlog.get_logger(__name__)

EMAILS = Counter(
    "marketplace_emails_total",
    "E-mail attempts by outcome: sent, retrying (a transient failure), failed (set aside for "
    "good with its reason: an unusable address or header, a 5xx refusal, or the deadline "
    "passed)",
    ["outcome"],
)


async def send_emails(ctx: NotificationsContext) -> bool:
    """One pass of the mail worker; True if there may be more to send."""
    if ctx.lock is not None and not await ctx.lock.held():
        return False
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        inbox, directory = uow.inbox, uow.directory
        due = await inbox.due_emails(now, ctx.batch_size)
        addresses = {}
        for row in due:
            person = await directory.principal(row.recipient_id)
            addresses[row.id] = (person.email, person.name) if person else None
        await inbox.sending([row.id for row in due])
        await uow.commit()
    for row in due:
        await _send_one(ctx, row, addresses[row.id])
    return len(due) == ctx.batch_size


async def _send_one(ctx: NotificationsContext, row: Any, address: tuple[str, str] | None) -> None:
    """Send one e-mail and record what became of it. Whatever goes wrong is recorded on this
    delivery alone, so the worker always moves on to the next one."""
    now = ctx.clock.now()
    attempts = row.attempts + 1
    try:
        if address is None:
            raise MailError("the recipient's address is not known yet")
        await ctx.mailer.send(
            to=address,
            subject=row.title,
            text=row.text,
            html=row.html,
            message_id=row.notification_id,
            in_doubt=row.state == "sending",
        )
    except Exception as error:
        if not isinstance(error, MailError | Undeliverable):
            log.exception("e-mail could not be sent", notification=row.notification_id)
        outcome = domain.after_failure(
            str(error) or type(error).__name__,
            permanent=isinstance(error, Undeliverable),
            attempts=attempts,
            written_at=row.created_at,
            now=now,
            give_up_after=ctx.give_up_after,
        )
        await _record_failure(ctx, row, attempts, outcome, now)
        return
    EMAILS.labels("sent").inc()
    async with ctx.db.unit_of_work() as uow:
        await uow.inbox.delivered(
            row.id,
            state="sent",
            attempts=attempts,
            sent_at=now,
            next_attempt_at=None,
            last_error=None,
        )
        await uow.commit()


async def _record_failure(
    ctx: NotificationsContext,
    row: Any,
    attempts: int,
    outcome: domain.AfterFailure,
    now: datetime,
) -> None:
    failed = outcome.retry_at is None
    EMAILS.labels("failed" if failed else "retrying").inc()
    if failed:
        log.error(
            "e-mail failed for good and was set aside",
            notification=row.notification_id,
            recipient=row.recipient_id,
            reason=outcome.reason,
            attempts=attempts,
        )
    else:
        log.warning(
            "e-mail not sent; will retry",
            notification=row.notification_id,
            error=outcome.reason,
            retry_at=outcome.retry_at.isoformat() if outcome.retry_at else None,
        )
    async with ctx.db.unit_of_work() as uow:
        await uow.inbox.delivered(
            row.id,
            state="failed" if failed else "pending",
            attempts=attempts,
            last_error=outcome.reason[:500],
            next_attempt_at=outcome.retry_at,
            failed_at=now if failed else None,
        )
        await uow.commit()
