"""What clients send: request bodies, strict (unknown fields refused), with plain text and
bounded values (see README, Security)."""

from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from contracts import Money
from contracts.money import minor_unit_digits
from contracts.text import Line, Paragraphs
from orders.domain import EventKind, Fulfilment


def plain_text(kind: Any, max_length: int) -> Any:
    """Free text is plain text (contracts.text `Line` or `Paragraphs`): control characters and
    bidirectional overrides are refused with 422, and the length, checked first, fits the
    column the text is stored in."""
    length = StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)
    return Annotated[str, length, *get_args(kind)[1:]]


Text = plain_text(Line, 200)
ShortText = plain_text(Line, 100)
TrackingNumber = plain_text(Line, 100)
PostalCode = plain_text(Line, 20)
LongText = plain_text(Paragraphs, 4000)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


MAX_PRICE_UNITS = 100_000_000  # a hundred million of the currency's main unit


def max_price_minor(currency: str) -> int:
    return MAX_PRICE_UNITS * 10 ** minor_unit_digits(currency)


def _positive_price(price: Money | None) -> Money | None:
    if price is not None and not 1 <= price.amount_minor <= max_price_minor(price.currency):
        raise ValueError(f"a price is between 1 and {max_price_minor(price.currency)} minor units")
    return price


Price = Annotated[Money, AfterValidator(_positive_price)]


class NewListing(Strict):
    title: Text
    price: Price
    quantity_available: int = Field(ge=0, le=100_000)
    fulfilment: Fulfilment
    handling_days: int = Field(ge=1, le=10)
    event_date: date | None = None
    event_id: ShortText | None = None


class ListingChanges(Strict):
    title: Text | None = None
    price: Price | None = None
    quantity_available: int | None = Field(None, ge=0, le=100_000)
    handling_days: int | None = Field(None, ge=1, le=10)
    status: Literal["active", "paused"] | None = None


class Vacation(Strict):
    until: date | None


class ShippingAddress(Strict):
    name: Text
    line1: Text
    line2: Text | None = None
    city: Text
    postal_code: PostalCode
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        description="ISO 3166-1 alpha-2"
    )


class OrderRecipient(Strict):
    """Whose name a ticket or booking is put in: the name on their ID, and their e-mail."""

    name: Text
    email: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            max_length=254,
            pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
        ),
    ]


class NewOrder(Strict):
    listing_id: Text
    quantity: int = Field(1, ge=1, le=1000)
    shipping_address: ShippingAddress | None = None
    recipient: OrderRecipient | None = None
    payment_method: Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,100}$")]


class Reason(Strict):
    reason: Text


class Shipment(Strict):
    carrier: ShortText | None = None
    tracking_number: TrackingNumber | None = None
    transfer_reference: Text | None = None


class Redelivery(Strict):
    preferred_date: date


class ProblemReport(Strict):
    reason: Literal[
        "not_received",
        "not_as_described",
        "damaged",
        "other",
        "entry_denied",
        "booking_not_found",
        "event_cancelled",
    ]
    details: LongText


class Exchange(Strict):
    reason: Text
    note: LongText


class NewReview(Strict):
    rating: int = Field(ge=1, le=5)
    text: LongText


class NewMessage(Strict):
    body: LongText


class NewEvent(Strict):
    name: Text
    venue: Text
    kind: EventKind
    starts_at: AwareDatetime = Field(description="RFC 3339 with the venue's UTC offset")
    ends_at: AwareDatetime = Field(description="RFC 3339 with the venue's UTC offset")


class EventCancellation(Strict):
    reason: Text


class EventPostponement(Strict):
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class CarrierEvent(Strict):
    tracking_number: TrackingNumber
    status: Literal[
        "in_transit", "out_for_delivery", "delivery_failed", "delivered", "returned_to_sender"
    ]
    occurred_at: AwareDatetime
