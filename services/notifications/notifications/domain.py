"""Notifications' rules: who is told what about each event, which messages a person must get
whatever their preferences, and which reminders each event schedules or cancels. Pure: the
wording lives in the templates (`templates/<locale>/<message>.j2`), sending in `mail.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

from contracts.text import control_character_fault

Channel = Literal["in_app", "email"]
CHANNELS: tuple[Channel, ...] = ("in_app", "email")


@dataclass(frozen=True)
class Intent:
    """One message for one person: `message` names the template."""

    recipient_id: str
    message: str
    order_id: str | None
    must: bool = False  # sent on every channel, whatever the preferences


@dataclass(frozen=True)
class Preferences:
    email: bool = True
    in_app: bool = True

    def channels(self, must: bool) -> list[Channel]:
        if must:
            return list(CHANNELS)
        return [c for c in CHANNELS if (self.email if c == "email" else self.in_app)]


@dataclass(frozen=True)
class OrderParties:
    """What notifications knows of an order (from `order.placed`)."""

    order_id: str
    buyer_id: str
    seller_id: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reminder:
    """A message due at `due_at` unless what it reminds of happens first."""

    kind: str  # also the template name
    order_id: str
    recipient_id: str
    due_at: datetime


# Which events tell whom. Each function gets the event's data and the order's parties.
Audience = Callable[[dict[str, Any], OrderParties], list[Intent]]


def _to(role: Literal["buyer", "seller"], message: str, *, must: bool = False) -> Audience:
    def audience(_: dict[str, Any], order: OrderParties) -> list[Intent]:
        recipient = order.buyer_id if role == "buyer" else order.seller_id
        return [Intent(recipient, f"{message}.{role}", order.order_id, must)]

    return audience


def _both(*audiences: Audience) -> Audience:
    def audience(data: dict[str, Any], order: OrderParties) -> list[Intent]:
        return [intent for each in audiences for intent in each(data, order)]

    return audience


def _message_posted(data: dict[str, Any], order: OrderParties) -> list[Intent]:
    other = "seller" if data["sender_role"] == "buyer" else "buyer"
    return _to(other, "message_posted")(data, order)  # type: ignore[arg-type]


def _ticket_resolved(data: dict[str, Any], order: OrderParties) -> list[Intent]:
    return _both(_to("buyer", "ticket_resolved"), _to("seller", "ticket_resolved"))(data, order)


def _ticket_replied(data: dict[str, Any], order: OrderParties | None) -> list[Intent]:
    """An agent's public reply: the party it is addressed to (`to`), or every party of the
    ticket when none (a ticket about a seller has no buyer), sees it, so they are told. The
    event names them: a ticket about a seller has no order here to look them up in."""
    return [
        Intent(data[f"{role}_id"], f"ticket_replied.{role}", data.get("order_id"))
        for role in ("buyer", "seller")
        if data.get(f"{role}_id") and data.get("to") in (None, role)
    ]


def _cancelled(data: dict[str, Any], order: OrderParties) -> list[Intent]:
    """The buyer always hears; the seller when it was not their own doing."""
    told = _to("buyer", "order_cancelled", must=True)(data, order)
    if data["cancelled_by"] != "seller":
        told += _to("seller", "order_cancelled")(data, order)
    return told


# A resale event's ticket or hotel booking (#20): orders' events name the event (`event`), and
# each step of the transfer has words of its own: who does what next, and until when the money
# waits (source 02: keep the buyer in the loop, never in the dark).
def _for_event(for_event: Audience, otherwise: Audience) -> Audience:
    def audience(data: dict[str, Any], order: OrderParties) -> list[Intent]:
        chosen = for_event if isinstance(data.get("event"), dict) else otherwise
        return chosen(data, order)

    return audience


def _only_for_event(for_event: Audience) -> Audience:
    return _for_event(for_event, lambda data, order: [])


def _cancelled_or_event(data: dict[str, Any], order: OrderParties) -> list[Intent]:
    """An event the operator cancelled: both sides told, the buyer whatever they chose."""
    if data.get("reason") == "event_cancelled" and isinstance(data.get("event"), dict):
        return _both(_to("buyer", "event_cancelled", must=True), _to("seller", "event_cancelled"))(
            data, order
        )
    return _cancelled(data, order)


CATALOGUE: dict[str, Audience] = {
    "marketplace.payment.authorized.v1": _both(
        _to("buyer", "order_confirmed"), _to("seller", "new_order")
    ),
    "marketplace.payment.authorization_failed.v1": _to("buyer", "payment_failed", must=True),
    "marketplace.payment.hold_lapsed.v1": _to("buyer", "hold_lapsed", must=True),
    "marketplace.order.accepted.v1": _for_event(
        _to("buyer", "transfer_accepted"), _to("buyer", "order_accepted")
    ),
    "marketplace.order.declined.v1": _to("buyer", "order_declined", must=True),
    "marketplace.order.cancelled.v1": _cancelled_or_event,
    "marketplace.order.seller_backed_out.v1": _to("buyer", "seller_backed_out", must=True),
    # Support rebooked the buyer on another seller's ticket (#20): the order goes on.
    "marketplace.order.rebooked.v1": _to("buyer", "order_rebooked", must=True),
    # Orders could not place that rebooking (#20): the ticket is open again, nothing is lost.
    "marketplace.order.rebook_failed.v1": _to("buyer", "order_rebook_failed", must=True),
    "marketplace.order.shipped.v1": _for_event(
        _to("buyer", "transfer_done"), _to("buyer", "order_shipped")
    ),
    "marketplace.order.shipment_overdue.v1": _both(
        _for_event(_to("buyer", "transfer_late"), _to("buyer", "shipment_late")),
        _to("seller", "shipment_late"),
    ),
    "marketplace.order.transfer_confirmed.v1": _only_for_event(_to("buyer", "transfer_confirmed")),
    "marketplace.order.event_postponed.v1": _only_for_event(
        _to("buyer", "event_postponed", must=True)
    ),
    "marketplace.order.delivery_unconfirmed.v1": _to("buyer", "delivery_unconfirmed"),
    "marketplace.order.exchange_overdue.v1": _both(
        _to("buyer", "exchange_late"), _to("seller", "exchange_late")
    ),
    "marketplace.order.shipping_address_changed.v1": _to("seller", "address_changed"),
    "marketplace.order.delivery_failed.v1": _to("buyer", "delivery_failed"),
    "marketplace.order.redelivery_requested.v1": _to("seller", "redelivery_requested"),
    "marketplace.order.delivered.v1": _to("buyer", "order_delivered"),
    "marketplace.order.problem_reported.v1": _to("seller", "problem_reported"),
    # the seller hears "paid" from payment.released
    "marketplace.order.completed.v1": _to("buyer", "order_completed"),
    "marketplace.order.return_requested.v1": _both(
        _to("seller", "return_requested"), _to("buyer", "return_requested")
    ),
    "marketplace.order.exchange_requested.v1": _to("seller", "exchange_requested"),
    "marketplace.order.message_posted.v1": _message_posted,
    "marketplace.payment.released.v1": _to("seller", "payout_released"),
    "marketplace.payment.refunded.v1": _to("buyer", "refunded", must=True),
    # A refund Stripe refused: the buyer hears the truth (not refunded yet; support acts).
    "marketplace.payment.refund_failed.v1": _to("buyer", "refund_failed", must=True),
    "marketplace.payment.credit_issued.v1": _to("buyer", "credit_issued", must=True),
    "marketplace.payment.dispute_opened.v1": _to("seller", "chargeback_opened", must=True),
    "marketplace.support.ticket_resolved.v1": _ticket_resolved,
    "marketplace.support.ticket_replied.v1": _ticket_replied,
}

# Events that name whom they concern, so they tell someone even about no order.
ABOUT_NO_ORDER: dict[str, Callable[[dict[str, Any], OrderParties | None], list[Intent]]] = {
    "marketplace.support.ticket_replied.v1": _ticket_replied,
}


def intents_for(event_type: str, data: dict[str, Any], order: OrderParties | None) -> list[Intent]:
    """Who is told about this order event (nobody if the order is unknown here, unless the
    event names its people itself: `ABOUT_NO_ORDER`)."""
    if order is None:
        named = ABOUT_NO_ORDER.get(event_type)
        return named(data, None) if named else []
    audience = CATALOGUE.get(event_type)
    if audience is None:
        return []
    return audience(data, order)


def standing_intent(data: dict[str, Any]) -> Intent | None:
    """Sellers hear about every standing change; anything but good news is a must."""
    if data["standing"] == data["previous"]:
        return None
    return Intent(data["seller_id"], f"standing_{data['standing']}.seller", None, must=True)


def surge_intent(data: dict[str, Any]) -> Intent:
    """A seller whose orders surge hears of it (seller standards publishes it at most once a
    week while it lasts), as a must: buyers are waiting on them."""
    return Intent(data["seller_id"], "order_surge.seller", None, must=True)


# A seller's payouts (payments, #18): per seller, not per order, like a standing change.
PAYOUT_MESSAGES = {
    "marketplace.payment.payout_paid.v1": "payout_paid.seller",
    "marketplace.payment.payout_failed.v1": "payout_failed.seller",
    "marketplace.payment.payout_account_needed.v1": "payout_account_needed.seller",
}


def payout_intent(event_type: str, data: dict[str, Any]) -> Intent:
    """The seller hears of every payout, paid or refused, and once that money waits for a
    payout account; all of them are musts (it is their money)."""
    return Intent(data["seller_id"], PAYOUT_MESSAGES[event_type], None, must=True)


# Where a message's button lands: the web portal's page for it (the gateway serves the portal
# under /portal; sign-in returns there). An order's page; a ticket's own page; a seller's
# payouts or standards for messages about no order.
PORTAL = "/portal"


def portal_path(intent: Intent, data: dict[str, Any]) -> str:
    ticket_id = data.get("ticket_id")
    if intent.message.startswith("ticket_") and isinstance(ticket_id, str) and ticket_id:
        return f"{PORTAL}/tickets/{quote(ticket_id, safe='')}"
    if intent.order_id:
        return f"{PORTAL}/orders/{quote(intent.order_id, safe='')}"
    if intent.message in PAYOUT_MESSAGES.values():
        return f"{PORTAL}/payouts"
    return f"{PORTAL}/standards"


ACCEPT_REMINDER = "accept_reminder.seller"
SHIP_REMINDER = "ship_reminder.seller"


def reminders_for(
    event_type: str,
    data: dict[str, Any],
    order: OrderParties,
    *,
    accept_lead: timedelta,
    ship_lead: timedelta,
) -> list[Reminder]:
    """Reminders a seller gets before a deadline passes."""
    if event_type == "marketplace.payment.authorized.v1" and order.facts.get("accept_by"):
        accept_by = datetime.fromisoformat(order.facts["accept_by"])
        return [Reminder(ACCEPT_REMINDER, order.order_id, order.seller_id, accept_by - accept_lead)]
    if event_type == "marketplace.order.accepted.v1":
        ship_by = datetime.fromisoformat(data["ship_by"])
        return [Reminder(SHIP_REMINDER, order.order_id, order.seller_id, ship_by - ship_lead)]
    return []


# What makes a reminder pointless: the seller acted, or the order ended.
CANCELS: dict[str, tuple[str, ...]] = {
    "marketplace.order.accepted.v1": (ACCEPT_REMINDER,),
    "marketplace.order.declined.v1": (ACCEPT_REMINDER,),
    "marketplace.order.cancelled.v1": (ACCEPT_REMINDER, SHIP_REMINDER),
    "marketplace.order.shipped.v1": (SHIP_REMINDER,),
    "marketplace.order.seller_backed_out.v1": (SHIP_REMINDER,),
}


@dataclass(frozen=True)
class Reaction:
    """What one order event causes here: the order as now known (with any fact the event
    adds, such as the ship-by date, in `noted`), who is told, reminders scheduled and the
    kinds of reminder it makes pointless."""

    order: OrderParties
    noted: dict[str, Any]
    intents: list[Intent]
    reminders: list[Reminder]
    cancelled: tuple[str, ...]


def react(
    event_type: str,
    data: dict[str, Any],
    order: OrderParties,
    *,
    accept_lead: timedelta,
    ship_lead: timedelta,
) -> Reaction:
    noted = {"ship_by": data["ship_by"]} if event_type == "marketplace.order.accepted.v1" else {}
    known = replace(order, facts=order.facts | noted)
    return Reaction(
        order=known,
        noted=noted,
        intents=intents_for(event_type, data, known),
        reminders=reminders_for(
            event_type, data, known, accept_lead=accept_lead, ship_lead=ship_lead
        ),
        cancelled=CANCELS.get(event_type, ()),
    )


def retry_delay(attempts: int) -> timedelta:
    """Backoff for a channel that failed: 30 s, 1, 2, 4 ... minutes, at most an hour."""
    return min(timedelta(seconds=30) * 2 ** max(attempts - 1, 0), timedelta(hours=1))


GIVE_UP_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class AfterFailure:
    """What becomes of an e-mail that was not sent: tried again at `retry_at`, or, when that
    is None, set aside as `failed` for good with `reason`."""

    retry_at: datetime | None
    reason: str


def after_failure(
    error: str,
    *,
    permanent: bool,
    attempts: int,
    written_at: datetime,
    now: datetime,
    give_up_after: timedelta = GIVE_UP_AFTER,
) -> AfterFailure:
    """A permanent failure is final at once; a transient one is retried with backoff until
    `give_up_after` from when the message was written, then final too. Either way the queue
    moves on: one e-mail never holds up the others."""
    if permanent:
        return AfterFailure(None, f"undeliverable: {error}")
    retry_at = now + retry_delay(attempts)
    if retry_at > written_at + give_up_after:
        return AfterFailure(None, f"gave up after {attempts} attempts: {error}")
    return AfterFailure(retry_at, error)


# --- what other services tell us about people -----------------------------------------------

NAME_LENGTH = 200
EMAIL_LENGTH = 320  # RFC 5321: 64 for the local part, @, 255 for the domain
_CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0, DEL, C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks and overrides
    "\u2028\u2029]+"  # line and paragraph separators
)
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


def one_line(text: str) -> str:
    """`text` as one line of plain text: every run of control characters (line breaks,
    escapes, bidirectional overrides) becomes one space."""
    return _CONTROLS.sub(" ", text).strip()


class UnusableContact(ValueError):
    """A principal event that cannot be stored as it is (dead-lettered with this reason)."""


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    locale: str
    name_changed: bool = False  # control characters taken out, shortened or replaced
    address_fault: str | None = None  # why the address cannot go into a header, if so

    @property
    def suspicious(self) -> bool:
        return self.name_changed or self.address_fault is not None


def contact(name: str, email: str, locale: str) -> Contact:
    """How a registered principal is kept. The gateway refuses control characters, but the
    event may be older than that rule or not from it: a name is kept as one line of plain
    text; an address is kept as given, and the mail worker sets aside what is sent to an
    address that is not one (with the reason, where operators see it); an unknown locale is
    English. An address longer than any address can be is refused."""
    if len(email) > EMAIL_LENGTH:
        raise UnusableContact(f"the e-mail address is longer than {EMAIL_LENGTH} characters")
    kept_name = one_line(name)[:NAME_LENGTH] or "there"
    return Contact(
        kept_name,
        email,
        locale if _LOCALE.match(locale) else "en",
        name_changed=kept_name != name,
        address_fault=address_fault(email),
    )


def address_fault(email: str) -> str | None:
    """Why `email` cannot be written into a header, if it cannot (the mail worker checks it
    fully)."""
    return control_character_fault(email, multiline=False)
