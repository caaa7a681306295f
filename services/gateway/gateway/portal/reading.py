"""An order as its buyer or its seller reads it: a headline for every status (with its own look
when something went wrong, and the moment it must be done by), the money as sentences in the
reader's terms (the buyer never sees the seller's fee or net), and the tracking link.

Pure functions of the order view (and the payment's detail): the pages only lay them out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from contracts.dates import as_moment, format_day
from gateway.portal.views import money

# How long a refund takes to reach a card (Stripe: 5-10 business days).
REFUND_ARRIVES = "it usually reaches your card within 5-10 business days"
CARRIER_TRACKING = {
    "dhl": "https://www.dhl.com/en/express/tracking.html?AWB={}",
    "ups": "https://www.ups.com/track?tracknum={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "postnl": "https://jouw.postnl.nl/track-and-trace/{}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{}",
    "gls": "https://gls-group.com/track/{}",
    "royal mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
}
# Statuses a seller must act on before anything else, in the order shown.
NEEDS_ATTENTION = ("disputed", "delivery_failed", "returned_to_sender", "return_requested")
OVER = ("completed", "cancelled", "declined", "refunded", "returned")


@dataclass(frozen=True)
class Headline:
    tone: str  # ok, info, warn, bad: the look of the box
    title: str
    text: str = ""
    by: str | None = None  # the moment it must be done by (RFC 3339)
    by_label: str = "By"


def is_late(order: dict[str, Any]) -> bool:
    """Not shipped by its ship-by, as orders decided it (the timeline's `shipment_overdue`,
    on the platform's clock) while it still waits for the shipment."""
    waiting = order.get("status") in ("accepted", "exchange_requested")
    kinds = {entry.get("kind") for entry in order.get("timeline") or []}
    return waiting and "shipment_overdue" in kinds


def _current_message(order: dict[str, Any]) -> str:
    steps = order.get("steps") or []
    current = next((s for s in steps if s.get("state") == "current"), None)
    chosen = current or next((s for s in reversed(steps) if s.get("message")), None)
    return str((chosen or {}).get("message") or "")


def _hold_lapsed(order: dict[str, Any]) -> bool:
    return (order.get("payment") or {}).get("state") == "hold_lapsed"


def headline(order: dict[str, Any], reader: str) -> Headline:
    """What the order's state means to `reader` ("buyer" or "seller") and what they do next."""
    status = str(order.get("status", ""))
    seller = reader == "seller"
    transfer = order.get("fulfilment") == "transfer"
    said = _current_message(order)
    if _hold_lapsed(order) and status in ("awaiting_seller", "accepted"):
        if seller:
            return Headline(
                "warn",
                "On hold: the buyer's card lapsed",
                "Do not ship yet: the "
                "buyer is asked for another card. Nothing is charged until then.",
            )
        return Headline("bad", "Give another card to keep this order", said)
    if is_late(order):
        if seller:
            return Headline(
                "bad",
                "Overdue: ship it now",
                "The ship-by has passed and the buyer "
                "has been told. Without a shipment the order is cancelled and counts "
                "against your standards.",
                order.get("ship_by"),
                "Was due",
            )
        return Headline(
            "bad", "Late: the seller has not shipped yet", said, order.get("ship_by"), "Was due"
        )
    by = {
        "awaiting_seller": order.get("accept_by"),
        "accepted": order.get("ship_by"),
        "delivered": order.get("auto_complete_at"),
        "shipped": order.get("auto_complete_at"),
    }.get(status)
    buyer_copy = {
        "placed": ("info", "We are checking your card"),
        "awaiting_seller": ("info", "Waiting for the seller to confirm"),
        "accepted": ("info", "The seller is preparing your order"),
        "shipped": ("info", "Transferred: check it is yours" if transfer else "On its way"),
        "delivery_failed": ("bad", "Delivery failed: choose another date"),
        "delivered": ("ok", "Delivered: is it as described?"),
        "completed": ("ok", "Completed"),
        "disputed": ("warn", "You reported a problem: support is on it"),
        "return_requested": ("info", "Return booked"),
        "returned": ("ok", "Returned: your refund is on its way"),
        "refunded": ("ok", "Refunded"),
        "exchange_requested": ("info", "Exchange requested"),
        "returned_to_sender": ("bad", "The carrier sent it back to the seller"),
        "declined": ("bad", "The seller declined: nothing was charged"),
        "cancelled": ("bad", "Cancelled"),
    }
    seller_copy = {
        "placed": ("info", "New order: the buyer's card is being checked", "Nothing to do yet."),
        "awaiting_seller": (
            "warn",
            "Accept or decline this order",
            "If you do not answer in time the order is cancelled and counts "
            "against your standards.",
        ),
        "accepted": (
            "info",
            "Ship this order",
            "Give the transfer reference."
            if transfer
            else "Mark it shipped with the carrier and tracking number.",
        ),
        "shipped": (
            "info",
            "Shipped: waiting for the buyer",
            "The buyer confirms, or the order completes by itself.",
        ),
        "delivery_failed": (
            "bad",
            "Delivery failed",
            "The buyer chooses another date; the carrier is told.",
        ),
        "delivered": ("ok", "Delivered", "The buyer confirms, or it completes by itself."),
        "completed": ("ok", "Completed: the money is released to you", ""),
        "disputed": (
            "bad",
            "Needs attention: the buyer reported a problem",
            "Support decides; answer the buyer below and on the ticket.",
        ),
        "return_requested": (
            "warn",
            "Needs attention: a return is on its way back",
            "Confirm once it is back; otherwise the buyer is refunded.",
        ),
        "returned": ("info", "Returned: the buyer is refunded", ""),
        "refunded": ("info", "Refunded to the buyer", ""),
        "exchange_requested": (
            "warn",
            "Ship the replacement",
            "Ship it within your handling days; otherwise the buyer is refunded.",
        ),
        "returned_to_sender": (
            "bad",
            "Needs attention: returned to you by the carrier",
            "Support follows up with the buyer.",
        ),
        "declined": ("info", "You declined this order", "Nothing was charged."),
        "cancelled": ("bad", "Cancelled", str(order.get("cancel_reason") or "").replace("_", " ")),
    }
    if seller:
        tone, title, text = seller_copy.get(status, ("info", status.replace("_", " "), ""))
        return Headline(tone, title, text, by)
    tone, title = buyer_copy.get(status, ("info", status.replace("_", " ")))
    return Headline(tone, title, said, by)


def _amount(value: dict[str, Any] | None) -> int:
    try:
        return int((value or {}).get("amount_minor", 0))
    except (TypeError, ValueError):
        return 0


def money_sentences(
    order: dict[str, Any], reader: str, detail: dict[str, Any] | None = None
) -> list[str]:
    """The money of an order in sentences, in the reader's terms. The seller's fee and net
    (from the payment's `detail`) are told to the seller only."""
    pay = order.get("payment") or {}
    state = str(pay.get("state", ""))
    total, held = money(order.get("total")), money(pay.get("authorized"))
    captured, refunded = money(pay.get("captured")), money(pay.get("refunded"))
    detail = detail or {}
    lines: list[str] = []
    # a resale event's money waits for the event to be over, whatever the buyer confirmed
    until = (
        f"held until {format_day(pay['held_until'])}, after the event"
        if pay.get("held_until")
        else None
    )
    if reader == "seller":
        fee, released = detail.get("platform_fee"), pay.get("released")
        lines += {
            "authorizing": [f"The buyer's card is being checked for {total}."],
            "authorized": [f"{held} is on hold on the buyer's card; it is charged when you ship."],
            "hold_lapsed": ["The hold on the buyer's card lapsed; nothing is charged."],
            "captured": [
                f"{captured} charged and {until}; then it is released to you, less the "
                "platform fee."
                if until
                else f"{captured} charged and held in escrow until the buyer confirms; "
                "then it is released to you, less the platform fee."
            ],
            "released": [
                f"{money(released)} released to you: {captured} less the platform "
                f"fee of {money(fee)}. It is paid out in the next payout run."
            ],
            "refunded": [f"{refunded} refunded to the buyer; nothing is paid to you."],
            "partially_refunded": [
                f"{refunded} of {captured} refunded to the buyer; the rest "
                "is released to you less the platform fee."
            ],
            "voided": ["The hold was released: nothing was charged."],
            "failed": ["The buyer's card was not authorized: nothing was charged."],
        }.get(state, [])
        return lines
    credit = detail.get("credit_applied")
    if _amount(credit):
        lines.append(f"{money(credit)} paid with your credits.")
    lines += {
        "authorizing": [f"Your card is being checked for {total}; nothing is charged yet."],
        "authorized": [f"{held} on hold, not charged. It is charged when the seller ships."],
        "hold_lapsed": [
            "The hold on your card lapsed: nothing is charged. Give another card to keep the order."
        ],
        "captured": [
            f"Charged {captured}, {until}: the seller is paid only once it has gone well."
            if until
            else f"Charged {captured}, held until you confirm."
        ],
        "released": [f"Charged {captured}; paid to the seller."],
        "refunded": [f"Refunded {refunded} to your card; {REFUND_ARRIVES}."],
        "partially_refunded": [
            f"Charged {captured}; {refunded} refunded to your card ({REFUND_ARRIVES})."
        ],
        "voided": [f"The hold of {total} was released: nothing was charged."],
        "failed": ["Your card was not authorized: nothing was charged."],
    }.get(state, [])
    return lines


def tracking_url(carrier: str | None, number: str | None) -> str | None:
    """The carrier's own tracking page for the parcel, when the carrier is one we know."""
    if not carrier or not number:
        return None
    pattern = CARRIER_TRACKING.get(carrier.strip().lower())
    return pattern.format(quote(number, safe="")) if pattern else None


def urgency(order: dict[str, Any]) -> tuple[int, str]:
    """How soon a seller must act on an order: needs attention first, then overdue, then by
    deadline; what is over last."""
    status = str(order.get("status", ""))
    deadline = order.get("ship_by") if status == "accepted" else order.get("accept_by")
    if status in NEEDS_ATTENTION:
        rank = 0
    elif is_late(order):
        rank = 1
    elif status in ("awaiting_seller", "accepted", "exchange_requested"):
        rank = 2
    elif status in OVER:
        rank = 4
    else:
        rank = 3
    moment = as_moment(deadline) if rank == 2 else None
    return rank, moment.isoformat() if moment else ""


def seller_groups(orders: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """A seller's orders by what they must do, most urgent first (each by its deadline)."""
    groups: dict[str, list[dict[str, Any]]] = {
        "Needs attention": [],
        "Overdue": [],
        "To accept": [],
        "To ship": [],
        "In progress": [],
        "Done": [],
    }
    for order in sorted(orders, key=urgency):
        rank, status = urgency(order)[0], order.get("status")
        if rank == 0:
            groups["Needs attention"].append(order)
        elif rank == 1:
            groups["Overdue"].append(order)
        elif status == "awaiting_seller":
            groups["To accept"].append(order)
        elif rank == 2:
            groups["To ship"].append(order)
        elif rank == 4:
            groups["Done"].append(order)
        else:
            groups["In progress"].append(order)
    return [(title, found) for title, found in groups.items() if found]
