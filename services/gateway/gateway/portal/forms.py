"""The portal's forms: each order action as a form over its API call, and how a posted form
becomes the API's JSON body (or a refusal the portal makes itself)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, textarea, select, date, number
    options: tuple[str, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Action:
    """An order action as a form: its API call, and the fields its body is made of."""

    name: str
    label: str
    method: str
    path: str  # under /v1/orders/{id}
    fields: tuple[Field, ...] = ()
    style: str = "secondary"
    # An action that cannot be undone says what it does, and is sent only from its
    # confirmation step (the form's `confirmed` field): never on one click.
    consequence: str = ""


REASONS = ("not_received", "not_as_described", "damaged", "other")
ORDER_ACTIONS = {
    action.name: action
    for action in (
        Action("accept", "Accept the order", "POST", "/accept", style="primary"),
        Action(
            "decline",
            "Decline",
            "POST",
            "/decline",
            (Field("reason", "Why"),),
            consequence="The order is cancelled and the buyer's hold released. After you "
            "accepted, this is backing out: a ticket opens and it counts against your standards.",
        ),
        Action(
            "ship",
            "Mark as shipped",
            "POST",
            "/ship",
            (
                Field("carrier", "Carrier", required=False),
                Field("tracking_number", "Tracking number", required=False),
                Field(
                    "transfer_reference", "Transfer reference (tickets, bookings)", required=False
                ),
            ),
            style="primary",
        ),
        Action(
            "cancel",
            "Cancel the order",
            "POST",
            "/cancel",
            (Field("reason", "Why"),),
            consequence="The order is cancelled for good and the hold on your card released.",
        ),
        Action(
            "change_address",
            "Change the delivery address",
            "PUT",
            "/shipping-address",
            (
                Field("name", "Name"),
                Field("line1", "Street and number"),
                Field("city", "City"),
                Field("postal_code", "Postal code"),
                Field("country", "Country (2 letters)"),
            ),
        ),
        Action(
            "redeliver",
            "Ask for another delivery",
            "POST",
            "/redeliver",
            (Field("preferred_date", "Preferred date", "date"),),
        ),
        Action(
            "confirm_receipt",
            "I received it as described",
            "POST",
            "/confirm-receipt",
            style="primary",
            consequence="This pays the seller: the money held in escrow is released to them, "
            "and the purchase can no longer be disputed, returned or exchanged.",
        ),
        Action(
            "report_problem",
            "Report a problem",
            "POST",
            "/report-problem",
            (
                Field("reason", "What is wrong", "select", REASONS),
                Field("details", "Details", "textarea"),
            ),
        ),
        Action("return", "Return it", "POST", "/return", (Field("reason", "Why"),)),
        Action(
            "exchange",
            "Ask for an exchange",
            "POST",
            "/exchange",
            (Field("reason", "Why"), Field("note", "What you would like instead", "textarea")),
        ),
        Action(
            "review",
            "Review the seller",
            "POST",
            "/review",
            (
                Field("rating", "Rating", "select", ("5", "4", "3", "2", "1")),
                Field("text", "Your review", "textarea"),
            ),
        ),
        Action(
            "message",
            "Send a message",
            "POST",
            "/messages",
            (Field("body", "Message", "textarea"),),
        ),
    )
}
# Not one of the order view's allowed_actions: offered to the buyer while the hold on their
# card has lapsed (payments' PUT /v1/orders/{id}/payment-method, #18).
REPLACE_CARD = Action(
    "replace_card",
    "Give another card",
    "PUT",
    "/payment-method",
    (Field("payment_method", "Card (a Stripe PaymentMethod id, such as pm_card_visa)"),),
    style="primary",
)
STANDINGS = ("good", "at_risk", "under_review", "suspended", "revoked")


def body_of(fields: tuple[Field, ...], form: dict[str, str]) -> dict[str, Any]:
    """The JSON body from a form: blank optional fields left out, numbers as numbers."""
    body: dict[str, Any] = {}
    for field in fields:
        value = form.get(field.name, "").strip()
        if not value and not field.required:
            continue
        is_rating = field.name == "rating" and WHOLE_NUMBER.fullmatch(value)
        body[field.name] = int(value) if is_rating else value
    return body


def field_errors(fields: tuple[Field, ...], problem: dict[str, Any]) -> dict[str, str]:
    """The API's `errors[]` (RFC 9457 problem details) by the form's fields, so each is shown
    beside its field; one that names no field of the form is the form's own (key "")."""
    names = {field.name for field in fields}
    found: dict[str, str] = {}
    for error in problem.get("errors") or []:
        if not isinstance(error, dict):
            continue
        loc = [str(part) for part in error.get("loc") or []]
        name = next((part for part in reversed(loc) if part in names), "")
        message = str(error.get("msg") or "Not accepted.")[:300]
        found.setdefault(name, message)
    return found


def idempotency_key(form: dict[str, str]) -> str:
    """The key drawn with the form, so a form sent twice acts once."""
    return form.get("idempotency_key", "")[:200] or str(uuid.uuid4())


def utc(local: str) -> str:
    """A `datetime-local` field's value, which carries no zone, read as UTC."""
    return f"{local}:00Z" if len(local) == len("2026-01-31T10:00") else local
