"""Notifications' use cases: turn events into messages (once per event, recipient and
message), schedule and send reminders, and deliver e-mail with retries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog

from contracts.events import event_type_registry
from contracts.orders import OrderPlaced
from contracts.principals import PrincipalRegistered
from contracts.seller_standards import SellerOrderSurge, SellerStandingChanged
from notifications import domain
from notifications.db import NotificationsUnit
from notifications.domain import CANCELS, CATALOGUE, Intent, OrderParties
from notifications.mail import Mailer
from notifications.templates import Catalogue
from servicekit.domain.clock import Clock
from servicekit.messaging.events import EventRouter, Received
from servicekit.messaging.exclusive import ExclusiveLock
from servicekit.messaging.uow import Database

log = structlog.get_logger(__name__)


@dataclass
class NotificationsContext:
    db: Database[NotificationsUnit]
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
    uow: NotificationsUnit,
    intent: Intent,
    cause: str,
    data: dict[str, Any],
    order: OrderParties | None,
) -> bool:
    """Write `intent`'s message once for `cause` (an event or reminder id); False if it was
    written before (a redelivered event). `order` is the intent's order as known here."""
    directory = uow.directory
    person = await directory.principal(intent.recipient_id)
    link = f"{ctx.portal_url.rstrip('/')}{domain.portal_path(intent, data)}"
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
    written = await uow.inbox.add(
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
    ctx: NotificationsContext, received: Received[PrincipalRegistered], uow: NotificationsUnit
) -> None:
    event = received.event
    kept = domain.contact(event.name, event.email, event.locale)
    if kept.suspicious:
        log.warning(
            "principal with control characters in its name or address",
            principal=event.principal_id,
            name_kept=kept.name,
            address_fault=kept.address_fault,
        )
    await uow.directory.add_principal(
        id=event.principal_id,
        role=event.role,
        name=kept.name,
        email=kept.email,
        locale=kept.locale,
    )
    await uow.inbox.retry_now_for(event.principal_id, ctx.clock.now())


async def on_order_placed(
    ctx: NotificationsContext, received: Received[OrderPlaced], uow: NotificationsUnit
) -> None:
    event = received.event
    directory = uow.directory
    await directory.add_order(
        event.order_id,
        event.buyer_id,
        event.seller_id,
        {
            "total": event.total.model_dump(),
            "accept_by": event.accept_by.isoformat() if event.accept_by else None,
            # What people read: the item, never the order's id ("the item" if not told).
            "title": event.title or "the item",
            "handling_days": event.handling_days,
            # A resale event's ticket or booking: whose name it is put in (#20).
            "recipient_name": event.recipient_name,
        },
    )
    parked = await uow.parked.take(event.order_id)
    order = await directory.order(event.order_id) if parked else None
    for waiting in parked:
        assert order is not None
        order = await _tell(
            ctx, uow, order, waiting.event_type, dict(waiting.data), waiting.event_id
        )


async def on_order_event(
    ctx: NotificationsContext, received: Received[Any], uow: NotificationsUnit
) -> None:
    """Any catalogued order, payment or support event: tell whom it concerns, schedule and
    cancel reminders. An event that overtook its order's `order.placed` (a payment event on
    another topic) is parked and handled when the order arrives."""
    event = received.event
    data = event.model_dump(mode="json")
    if event.order_id is None:  # a ticket about a seller: the event names whom it concerns
        for intent in domain.intents_for(event.type, data, None):
            await notify(ctx, uow, intent, str(received.envelope.id), data, None)
        return
    order = await uow.directory.order(event.order_id)
    if order is None:
        await uow.parked.park(
            str(received.envelope.id), event.order_id, event.type, data, ctx.clock.now()
        )
        return
    await _tell(ctx, uow, order, event.type, data, str(received.envelope.id))


async def _tell(
    ctx: NotificationsContext,
    uow: NotificationsUnit,
    order: OrderParties,
    event_type: str,
    data: dict[str, Any],
    cause: str,
) -> OrderParties:
    """Persist what the event causes (`domain.react`); the order as known afterwards."""
    reaction = domain.react(
        event_type, data, order, accept_lead=ctx.accept_lead, ship_lead=ctx.ship_lead
    )
    if reaction.noted:
        await uow.directory.note_on_order(reaction.order)
    for intent in reaction.intents:
        await notify(ctx, uow, intent, cause, data, reaction.order)
    reminders = uow.reminders
    for reminder in reaction.reminders:
        await reminders.schedule(reminder)
    if reaction.cancelled:
        await reminders.cancel(order.order_id, reaction.cancelled)
    return reaction.order


async def on_standing_changed(
    ctx: NotificationsContext, received: Received[SellerStandingChanged], uow: NotificationsUnit
) -> None:
    data = received.event.model_dump(mode="json")
    intent = domain.standing_intent(data)
    if intent is not None:
        await notify(ctx, uow, intent, str(received.envelope.id), data, None)


async def on_order_surge(
    ctx: NotificationsContext, received: Received[SellerOrderSurge], uow: NotificationsUnit
) -> None:
    data = received.event.model_dump(mode="json")
    await notify(ctx, uow, domain.surge_intent(data), str(received.envelope.id), data, None)


async def on_payout_event(
    ctx: NotificationsContext, received: Received[Any], uow: NotificationsUnit
) -> None:
    data = received.event.model_dump(mode="json")
    intent = domain.payout_intent(received.event.type, data)
    await notify(ctx, uow, intent, str(received.envelope.id), data, None)


def event_router(ctx: NotificationsContext) -> EventRouter[NotificationsUnit]:
    router = EventRouter[NotificationsUnit]()

    router.add(PrincipalRegistered, partial(on_principal_registered, ctx))
    router.add(OrderPlaced, partial(on_order_placed, ctx))
    registry = event_type_registry()
    for type_name in sorted(CATALOGUE.keys() | CANCELS.keys()):
        router.add(registry[type_name], partial(on_order_event, ctx))
    router.add(SellerStandingChanged, partial(on_standing_changed, ctx))
    router.add(SellerOrderSurge, partial(on_order_surge, ctx))
    for type_name in sorted(domain.PAYOUT_MESSAGES):
        router.add(registry[type_name], partial(on_payout_event, ctx))
    return router


# --- reminders ------------------------------------------------------------------------------


async def send_due_reminders(ctx: NotificationsContext, now: datetime) -> int:
    async with ctx.db.unit_of_work() as uow:
        reminders = uow.reminders
        directory = uow.directory
        due = await reminders.due(now, ctx.batch_size)
        for reminder in due:
            intent = Intent(reminder.recipient_id, reminder.kind, reminder.order_id, must=False)
            order = await directory.order(reminder.order_id)
            await notify(ctx, uow, intent, reminder.id, {}, order)
            await reminders.sent(reminder.id)
        await uow.commit()
    return len(due)
