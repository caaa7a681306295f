"""The support agent's workspace, without I/O: the queue's views, an SLA target as a countdown,
the complaint and the order's money in a line, and a resolution: what each one does (said
before it is sent), and the resolve form as the API's body, amounts typed in the currency's
units and never above what the order can give back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contracts.dates import as_moment
from contracts.money import format_money, parse_money

# Open: someone must act; Pending: waiting for the buyer or the seller; Mine: those this agent
# has written on (support has no assignment: writing on a ticket is taking it up).
VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "open": ("Open", ("open", "escalated")),
    "pending": ("Pending", ("pending_buyer", "pending_seller")),
    "mine": ("Mine", ("open", "escalated", "pending_buyer", "pending_seller")),
}
NOTE_MAX_CHARS = 2_000


@dataclass(frozen=True)
class Countdown:
    """An SLA target as people read it: "in 3 h 20 min", or "2 h 5 min overdue" (in red)."""

    due: str
    text: str
    overdue: bool


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def countdown(due: Any, now: datetime, *, met: bool = False) -> Countdown | None:
    at = as_moment(due)
    if at is None:
        return None
    if met:
        return Countdown(at.isoformat(), "met", False)
    if at <= now:
        return Countdown(at.isoformat(), f"{_span(now - at)} overdue", True)
    return Countdown(at.isoformat(), f"in {_span(at - now)}", False)


def sla_of(ticket: dict[str, Any], now: datetime) -> dict[str, Countdown | None]:
    sla = ticket.get("sla") or {}
    return {
        "first_response": countdown(
            sla.get("first_response_due"), now, met=bool(sla.get("first_responded_at"))
        ),
        "resolution": countdown(sla.get("resolution_due"), now),
    }


def complaint(ticket: dict[str, Any]) -> dict[str, Any] | None:
    """What the ticket is about in the words of whoever raised it: the buyer's report that
    opened it (its `details`, kept in the ticket's context), else the first thing a buyer or
    seller wrote (a ticket a rule opened may have only the system's)."""
    details = (ticket.get("context") or {}).get("details")
    if isinstance(details, str) and details.strip():
        return {
            "author_id": ticket.get("buyer_id"),
            "author_role": "buyer",
            "body": details,
            "at": ticket.get("opened_at"),
        }
    messages = [m for m in ticket.get("messages") or [] if not m.get("internal")]
    first = next((m for m in messages if m.get("author_role") in ("buyer", "seller")), None)
    return first or (messages[0] if messages else None)


def refundable(order: dict[str, Any] | None) -> int | None:
    """What the buyer paid and has not had back, in minor units (None: not known)."""
    if not order:
        return None
    payment = order.get("payment") or {}

    def minor(name: str) -> int:
        value = payment.get(name) or {}
        return int(value.get("amount_minor") or 0) if isinstance(value, dict) else 0

    paid = (
        minor("captured")
        or minor("authorized")
        or int((order.get("total") or {}).get("amount_minor") or 0)
    )
    return max(paid - minor("refunded"), 0)


@dataclass(frozen=True)
class Resolution:
    action: str
    label: str
    consequence: str
    amount: bool = False  # asks for an amount


RESOLUTIONS = {
    r.action: r
    for r in (
        Resolution(
            "refund",
            "Refund in full",
            "The buyer gets back everything they paid and have not had back ({cap}); the "
            "seller is not paid for this order. A refund cannot be undone.",
        ),
        Resolution(
            "partial_refund",
            "Refund part",
            "The buyer gets back {amount}; on a disputed order the rest is paid to the seller "
            "and the order completes. A refund cannot be undone.",
            amount=True,
        ),
        Resolution(
            "credit",
            "Give credit",
            "The buyer gets {amount} of platform credit for a later purchase, paid by the "
            "platform; the order's money does not move.",
            amount=True,
        ),
        Resolution(
            "reship",
            "Ship again",
            "The seller must ship the item again by a new ship-by date; the money stays in "
            "escrow and nothing is charged again.",
        ),
        Resolution(
            "return",
            "Return it",
            "A pickup is booked and the buyer sends the item back; once the seller confirms it "
            "is back, the buyer is refunded.",
        ),
        Resolution(
            "rebook",
            "Rebook on another listing",
            "The buyer gets a new order on {listing} for the same event, paid from this "
            "order's money (the platform covers a higher price); the buyer pays nothing more.",
        ),
        Resolution(
            "cancel",
            "Cancel the order",
            "The order is cancelled for good and all the buyer's money goes back (the hold is "
            "released or what was charged refunded).",
        ),
        Resolution(
            "no_action",
            "No action",
            "Nothing is refunded: a disputed order completes and the seller is paid.",
        ),
    )
}


def choices(possible: list[str]) -> list[Resolution]:
    """The resolutions that fit this ticket now (support's `possible_resolutions`)."""
    return [RESOLUTIONS[a] for a in possible if a in RESOLUTIONS]


def resolution_body(
    form: dict[str, str],
    possible: list[str],
    currency: str,
    cap: int | None,
    alternatives: list[dict[str, Any]] | None = None,
) -> dict[str, Any] | str:
    """The resolve form as the API's body, or what is wrong with it. There is no default
    action, and only those that fit the ticket; an amount is typed in the currency's units
    ("12.50") and refunds never go above what is left to refund."""
    action = form.get("action", "")
    if action not in RESOLUTIONS:
        return "Choose what to do: there is no default resolution."
    if action not in possible:
        return f"'{RESOLUTIONS[action].label}' does not fit this ticket now."
    body: dict[str, Any] = {"action": action, "note": form.get("note", "").strip()[:NOTE_MAX_CHARS]}
    if RESOLUTIONS[action].amount:
        typed = form.get("amount", "")
        minor = parse_money(typed, currency)
        if minor is None:
            return f"Type the amount in {currency}, such as {format_money(1250, currency)[:-4]}."
        if action == "partial_refund" and cap is not None and minor > cap:
            return f"At most {format_money(cap, currency)} can be refunded."
        body["amount"] = {"amount_minor": minor, "currency": currency}
    if action == "rebook":  # on one of the ticket's alternatives (support's, cheapest first)
        offered = {str(a.get("listing_id")) for a in alternatives or []}
        if form.get("listing_id") not in offered:
            return "Choose one of the alternatives to rebook on."
        body["listing_id"] = form["listing_id"]
    return body


def consequence(body: dict[str, Any], currency: str, cap: int | None) -> str:
    """What the resolution will do, in the reader's terms, for the confirmation step."""
    amount = body.get("amount")
    return RESOLUTIONS[body["action"]].consequence.format(
        amount=format_money(amount["amount_minor"], currency) if amount else "",
        cap=format_money(cap, currency) if cap is not None else "what is left",
        listing=body.get("listing_id", "the listing chosen"),
    )
