"""The operators' payouts and resale events without I/O: a venue's local time and UTC offset
as the RFC 3339 moment the API takes, each form as the API's body (or what is wrong with it),
what each irreversible step will do (said before it is sent), and a payout run's answer in a
sentence."""

from __future__ import annotations

import re
from typing import Any

from contracts.dates import as_moment, format_moment
from contracts.money import format_money

LOCAL_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")
OFFSET = re.compile(r"[+-](?:0[0-9]|1[0-4]):[0-5][0-9]")
TEXT_MAX_CHARS = 300
KINDS = {"ticket": "Tickets", "hotel_booking": "Hotel bookings"}


def venue_moment(local: str, offset: str) -> str | None:
    """`2026-12-31T20:00` at the venue, `+01:00` from UTC, as `2026-12-31T20:00:00+01:00`."""
    local, offset = local.strip(), offset.strip()
    if not LOCAL_MOMENT.fullmatch(local) or not OFFSET.fullmatch(offset):
        return None
    return f"{local}:00{offset}"


def venue_time(value: Any) -> str:
    """A moment on the venue's own clock, in the platform's one format: "Thu 20 May 2027,
    19:45 UTC+01:00" (what a ticket says, whatever the operator's zone)."""
    moment = as_moment(value)
    return format_moment(moment, moment.tzinfo) if moment and moment.tzinfo else "-"


def dates_of(form: dict[str, str]) -> dict[str, str] | str:
    offset = form.get("offset", "")
    starts = venue_moment(form.get("starts_at", ""), offset)
    ends = venue_moment(form.get("ends_at", ""), offset)
    if starts is None or ends is None:
        return "Give the start and end at the venue and its offset from UTC, such as +01:00."
    if ends <= starts:
        return "The event must end after it starts."
    return {"starts_at": starts, "ends_at": ends}


def new_event(form: dict[str, str]) -> dict[str, Any] | str:
    name, venue = form.get("name", "").strip(), form.get("venue", "").strip()
    if not name or not venue:
        return "An event needs a name and a venue."
    if form.get("kind") not in KINDS:
        return "Choose tickets or hotel bookings."
    dates = dates_of(form)
    if isinstance(dates, str):
        return dates
    return {
        "name": name[:TEXT_MAX_CHARS],
        "venue": venue[:TEXT_MAX_CHARS],
        "kind": form["kind"],
    } | dates


def event_step(step: str, form: dict[str, str]) -> dict[str, Any] | str:
    """The body of cancelling or postponing an event, or what is wrong with the form."""
    if step == "cancel":
        reason = form.get("reason", "").strip()
        return {"reason": reason[:TEXT_MAX_CHARS]} if reason else "Say why it is cancelled."
    return dates_of(form)


def event_consequence(step: str, event: dict[str, Any], body: dict[str, Any]) -> str:
    name = event.get("name") or "the event"
    if step == "cancel":
        return (
            f"Every open order for {name} is cancelled and its buyer gets all their money back "
            "(the hold released or the charge refunded); sellers are not counted against, and "
            "everyone is told. This cannot be undone."
        )
    return (
        f"{name} moves to {body['starts_at']} - {body['ends_at']} (the venue's time). Buyers "
        "are told and may cancel for a full refund until the new start; every order's "
        "deadlines follow the new dates."
    )


PAYOUT_RUN_CONSEQUENCE = (
    "Every seller with an active payout account is paid their available balance now, one "
    "transfer per seller and currency. Money sent to a seller's bank cannot be called back "
    "from here."
)


def payouts_paid(answer: dict[str, Any]) -> str:
    """A payout run's answer as a sentence: how many were paid, how much in each currency."""
    payouts = [p for p in answer.get("payouts") or [] if isinstance(p, dict)]
    if not payouts:
        return "The run paid nothing: no seller had money available to pay out."
    totals: dict[str, int] = {}
    for payout in payouts:
        amount = payout.get("amount") or {}
        try:
            currency, minor = str(amount["currency"]), int(amount["amount_minor"])
        except (KeyError, TypeError, ValueError):
            continue
        totals[currency] = totals.get(currency, 0) + minor
    summed = ", ".join(format_money(minor, currency) for currency, minor in sorted(totals.items()))
    count = len(payouts)
    return f"The run paid {count} payout{'s' if count != 1 else ''}: {summed or 'no amount'}."
