"""Notifications' use cases: turn events into messages (once per event, recipient and
message), schedule and send reminders, and deliver e-mail with retries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog
from prometheus_client import Counter

from contracts import events as all_events  # every event type is in the registry
from contracts.envelope import event_type_registry
from contracts.orders import OrderPlaced
from contracts.principals import PrincipalRegistered
from contracts.seller_standards import SellerStandingChanged
from notifications import domain
from notifications.db import Directory, Inbox, Parked, Reminders
from notifications.domain import CANCELS, CATALOGUE, Intent
from notifications.mail import Mailer, MailError, Undeliverable
from notifications.templates import Catalogue
from servicekit.clock import Clock
from servicekit.events import EventRouter, Received
from servicekit.exclusive import ExclusiveLock
from servicekit.uow import Database, UnitOfWork

log = structlog.get_logger(__name__)

EMAILS = Counter(
    "marketplace_emails_total",
    "E-mail attempts by outcome: sent, retrying (a transient failure), failed (set aside for "
    "good with its reason: an unusable address or header, a 5xx refusal, or the deadline "
    "passed)",
    ["outcome"],
)


@dataclass
class NotificationsContext:
    db: Database
    clock: Clock
    catalogue: Catalogue
    mailer: Mailer
    portal_url: str = "http://127.0.0.1:8000"
    accept_lead: timedelta = timedelta(hours=12)
    ship_lead: timedelta = timedelta(hours=24)
    batch_size: int = 50
    give_up_after: timedelta = domain.GIVE_UP_AFTER
    lock: ExclusiveLock | None = None
    wake_mailer: Any = lambda: None


async def notify(
    ctx: NotificationsContext,
    uow: UnitOfWork,
    intent: Intent,
    cause: str,
    data: dict[str, Any],
) -> bool:
    """Write `intent`'s message once for `cause` (an event or reminder id); False if it was
    written before (a redelivered event)."""
    directory = Directory(uow.session)
    person = await directory.principal(intent.recipient_id)
    order = await directory.order(intent.order_id) if intent.order_id else None
    link = (
        f"{ctx.portal_url}/orders/{intent.order_id}"
        if intent.order_id
        else f"{ctx.portal_url}/sellers/{intent.recipient_id}/standards"
    )
    rendered = ctx.catalogue.render(
        intent.message,
        person.locale if person else "en",
        {
            "name": person.name if person else "there",
            "data": data,
            "order": (order.facts if order else {}) | {"order_id": intent.order_id},
            "link": link,
        },
    )
    now = ctx.clock.now()
    preferences = await directory.preferences(intent.recipient_id)
    written = await Inbox(uow.session).add(
        {
            "id": f"ntf_{uuid.uuid4().hex[:24]}",
            "dedupe_key": f"{cause}:{intent.recipient_id}:{intent.message}",
            "recipient_id": intent.recipient_id,
            "message": intent.message,
            "order_id": intent.order_id,
            "title": rendered.title,
            "text": rendered.text,
            "html": rendered.html,
            "link": link,
            "must": intent.must,
            "created_at": now,
        },
        preferences.channels(intent.must),
        now,
    )
    if written:
        ctx.wake_mailer()
    return written


# --- events -------------------------------------------------------------------------------


async def on_principal_registered(
    ctx: NotificationsContext, received: Received[PrincipalRegistered], uow: UnitOfWork
) -> None:
    event = received.event
    kept = domain.contact(event.name, event.email, event.locale)
    if kept.name != event.name or domain.address_fault(event.email):
        log.warning(
            "principal with control characters in its name or address",
            principal=event.principal_id,
            name_kept=kept.name,
            address_fault=domain.address_fault(event.email),
        )
    await Directory(uow.session).add_principal(
        id=event.principal_id,
        role=event.role,
        name=kept.name,
        email=kept.email,
        locale=kept.locale,
    )


async def on_order_placed(
    ctx: NotificationsContext, received: Received[OrderPlaced], uow: UnitOfWork
) -> None:
    event = received.event
    await Directory(uow.session).add_order(
        event.order_id,
        event.buyer_id,
        event.seller_id,
        {
            "total": event.total.model_dump(),
            "accept_by": event.accept_by.isoformat() if event.accept_by else None,
            "title": f"order {event.order_id}",
        },
    )
    for waiting in await Parked(uow.session).take(event.order_id):
        await _tell(ctx, uow, waiting.event_type, dict(waiting.data), waiting.event_id)


async def on_order_event(
    ctx: NotificationsContext, received: Received[Any], uow: UnitOfWork
) -> None:
    """Any catalogued order, payment or support event: tell whom it concerns, schedule and
    cancel reminders. An event that overtook its order's `order.placed` (a payment event on
    another topic) is parked and handled when the order arrives."""
    event = received.event
    data = event.model_dump(mode="json")
    if await Directory(uow.session).order(event.order_id) is None:
        await Parked(uow.session).park(
            str(received.envelope.id), event.order_id, event.type, data, ctx.clock.now()
        )
        return
    await _tell(ctx, uow, event.type, data, str(received.envelope.id))


async def _tell(
    ctx: NotificationsContext, uow: UnitOfWork, event_type: str, data: dict[str, Any], cause: str
) -> None:
    directory = Directory(uow.session)
    order_id = data["order_id"]
    if event_type == "marketplace.order.accepted.v1":
        await directory.note_on_order(order_id, ship_by=data["ship_by"])
    order = await directory.order(order_id)
    assert order is not None
    for intent in domain.intents_for(event_type, data, order):
        await notify(ctx, uow, intent, cause, data)
    reminders = Reminders(uow.session)
    for reminder in domain.reminders_for(
        event_type, data, order, accept_lead=ctx.accept_lead, ship_lead=ctx.ship_lead
    ):
        await reminders.schedule(reminder)
    if event_type in CANCELS:
        await reminders.cancel(order_id, CANCELS[event_type])


async def on_standing_changed(
    ctx: NotificationsContext, received: Received[SellerStandingChanged], uow: UnitOfWork
) -> None:
    data = received.event.model_dump(mode="json")
    intent = domain.standing_intent(data)
    if intent is not None:
        await notify(ctx, uow, intent, str(received.envelope.id), data)


def event_router(ctx: NotificationsContext) -> EventRouter:
    router = EventRouter()

    router.add(PrincipalRegistered, partial(on_principal_registered, ctx))
    router.add(OrderPlaced, partial(on_order_placed, ctx))
    registry = event_type_registry()
    assert all_events  # imported for its registrations
    for type_name in sorted(CATALOGUE.keys() | CANCELS.keys()):
        router.add(registry[type_name], partial(on_order_event, ctx))
    router.add(SellerStandingChanged, partial(on_standing_changed, ctx))
    return router


# --- reminders ------------------------------------------------------------------------------


async def send_due_reminders(ctx: NotificationsContext, now: datetime) -> int:
    async with ctx.db.unit_of_work() as uow:
        reminders = Reminders(uow.session)
        due = await reminders.due(now, ctx.batch_size)
        for reminder in due:
            intent = Intent(reminder.recipient_id, reminder.kind, reminder.order_id, must=False)
            await notify(ctx, uow, intent, reminder.id, {})
            await reminders.sent(reminder.id)
        await uow.commit()
    return len(due)


# --- e-mail -----------------------------------------------------------------------------------


async def send_emails(ctx: NotificationsContext) -> bool:
    """One pass of the mail worker; True if there may be more to send."""
    if ctx.lock is not None and not await ctx.lock.held():
        return False
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        due = await Inbox(uow.session).due_emails(now, ctx.batch_size)
        addresses = {}
        for row in due:
            person = await Directory(uow.session).principal(row.recipient_id)
            addresses[row.id] = (person.email, person.name) if person else None
        await Inbox(uow.session).sending([row.id for row in due])
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
        await Inbox(uow.session).delivered(
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
        await Inbox(uow.session).delivered(
            row.id,
            state="failed" if failed else "pending",
            attempts=attempts,
            last_error=outcome.reason[:500],
            next_attempt_at=outcome.retry_at,
            failed_at=now if failed else None,
        )
        await uow.commit()
