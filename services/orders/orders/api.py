"""Orders' HTTP API (reached through the gateway): listings, orders, carrier events, messages
and reviews, as API.md describes. Domain refusals become problem details in `app.py`."""

import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
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
from orders import domain, handlers
from orders.db import Listings, Orders, OrderTickets, Sellers
from orders.domain import (
    Actor,
    Address,
    DomainError,
    Fulfilment,
    Listing,
    ListingStatus,
    Message,
    Order,
    TransitionRefused,
)
from orders.handlers import NotFound, OrdersContext, Who
from servicekit.http import Caller, Problem, forbidden, problem_response, require_role
from servicekit.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor


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


class NewOrder(Strict):
    listing_id: Text
    quantity: int = Field(1, ge=1, le=1000)
    shipping_address: ShippingAddress | None = None
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
    reason: Literal["not_received", "not_as_described", "damaged", "other"]
    details: LongText


class Exchange(Strict):
    reason: Text
    note: LongText


class NewReview(Strict):
    rating: int = Field(ge=1, le=5)
    text: LongText


class NewMessage(Strict):
    body: LongText


class CarrierEvent(Strict):
    tracking_number: TrackingNumber
    status: Literal[
        "in_transit", "out_for_delivery", "delivery_failed", "delivered", "returned_to_sender"
    ]
    occurred_at: AwareDatetime


PROBLEM_STATUS = {
    "invalid-transition": 409,
    "action-not-allowed": 409,
    "insufficient-stock": 409,
    "listing-unavailable": 409,
    "not-a-party": 403,
    "forbidden": 403,
    "carrier-not-named": 403,
    "tracking-number-in-use": 409,
}


def domain_problem(error: DomainError) -> Problem:
    if isinstance(error, TransitionRefused):
        return Problem(
            409,
            "Action not allowed now",
            error.detail,
            slug=error.code,
            order_status=error.status.value,
            allowed_actions=error.allowed,
        )
    if isinstance(error, NotFound):
        return Problem(404, "Not found", error.detail, slug="not-found")
    status = PROBLEM_STATUS.get(error.code, 422)
    return Problem(status, error.code.replace("-", " ").capitalize(), error.detail, slug=error.code)


def install_domain_problems(app: FastAPI) -> None:
    """A rule's refusal is answered as problem details (see `domain_problem`)."""

    async def refused(_: Request, error: Exception) -> JSONResponse:
        problem = domain_problem(error)  # type: ignore[arg-type]
        return problem_response(
            problem.status, problem.title, problem.detail, problem.slug, **problem.extra
        )

    app.add_exception_handler(DomainError, refused)


def _invalid_cursor() -> Problem:
    return Problem(
        422,
        "Invalid request",
        "The cursor is not one this list gave out",
        slug="validation-error",
        errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
    )


def moment_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """Where a list sorted by (time, id) goes on: a cursor is opaque, but a client can still
    send anything, and a bad one is the client's 422, never our 500."""
    if cursor is None:
        return None
    moment, last_id = decode_cursor(cursor, 2)
    try:
        after = datetime.fromisoformat(moment)
        if after.tzinfo is None:
            raise ValueError(moment)
        return after.astimezone(UTC), last_id
    except (ValueError, OverflowError) as error:
        raise _invalid_cursor() from error


_SEQUENCE = re.compile(r"[0-9]{1,18}")  # a message's posting order; fits a bigint


def sequence_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    (sequence,) = decode_cursor(cursor, 1)
    if not _SEQUENCE.fullmatch(sequence):
        raise _invalid_cursor()
    return int(sequence)


def listing_view(listing: Listing) -> dict[str, Any]:
    return {
        "id": listing.id,
        "seller_id": listing.seller_id,
        "title": listing.title,
        "price": listing.price.model_dump(),
        "quantity_available": listing.quantity_available,
        "fulfilment": listing.fulfilment.value,
        "handling_days": listing.handling_days,
        "event_date": listing.event_date.isoformat() if listing.event_date else None,
        "status": listing.status.value,
        "created_at": listing.created_at.isoformat(),
    }


def _money(value: Money | None, currency: str) -> dict[str, Any]:
    return (value or Money.zero(currency)).model_dump()


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def order_view(
    order: Order, actor: Actor, ctx: OrdersContext, tickets: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The order as `actor` sees it; `tickets` (support's, on this order) on the single view."""
    currency = order.unit_price.currency
    return {
        "id": order.id,
        "status": order.status.value,
        "buyer_id": order.buyer_id,
        "seller_id": order.seller_id,
        "listing_id": order.listing_id,
        "title": order.title,
        "quantity": order.quantity,
        "unit_price": order.unit_price.model_dump(),
        "total": order.total.model_dump(),
        "fulfilment": order.fulfilment.value,
        "event_date": _iso(order.event_date),
        "placed_at": order.placed_at.isoformat(),
        "accept_by": order.accept_by.isoformat(),
        "ship_by": _iso(order.ship_by),
        "auto_complete_at": _iso(order.auto_complete_at),
        "return_until": _iso(order.return_until),
        "shipping_address": asdict(order.shipping_address) if order.shipping_address else None,
        "cancel_reason": order.cancel_reason,
        "problem": order.problem,
        "steps": [
            {
                "name": step.name,
                "state": step.state.value,
                "done_at": _iso(step.done_at),
                "expected_by": _iso(step.expected_by),
                "message": step.message,
            }
            for step in domain.steps(order, ctx.calendar, ctx.rules)
        ],
        "timeline": [
            {"at": entry.at.isoformat(), "kind": entry.kind, "detail": entry.detail}
            for entry in domain.timeline_for(order, actor)
        ],
        "payment": {
            "state": order.payment_state.value,
            "authorized": _money(order.authorized, currency),
            "captured": _money(order.captured, currency),
            "refunded": _money(order.refunded, currency),
            "released": _money(order.released, currency),
        },
        "shipment": {
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
            "transfer_reference": order.transfer_reference,
            "shipped_at": _iso(order.shipped_at),
            "delivery_attempts": order.delivery_attempts,
            "redelivery_date": _iso(order.redelivery_date),
            "delivered_at": _iso(order.delivered_at),
            "return_pickup_date": _iso(order.return_pickup_date),
        },
        "tickets": tickets or [],
        "allowed_actions": order.allowed_actions(actor, ctx.clock.now()),
        "version": order.version,
    }


def message_view(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "order_id": message.order_id,
        "sender_id": message.sender_id,
        "sender_role": message.sender_role,
        "body": message.body,
        "sent_at": message.sent_at.isoformat(),
    }


def build_router(ctx: OrdersContext, caller: Callable[..., Caller]) -> APIRouter:
    router = APIRouter(prefix="/v1")
    CallerDep = Annotated[Caller, Depends(caller)]

    def who_of(caller: Caller) -> Who:
        return Who(caller.id, caller.role, caller.carrier)

    def view(
        order: Order, caller: Caller, tickets: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        actor = order.actor_for(caller.id, caller.role)
        return order_view(order, actor or Actor(caller.role), ctx, tickets)

    # --- listings ---

    @router.post("/listings", status_code=201)
    async def create_listing(body: NewListing, who: CallerDep) -> dict[str, Any]:
        require_role(who, "seller")
        listing = await handlers.create_listing(
            ctx,
            seller_id=who.id,
            title=body.title,
            price=body.price,
            quantity_available=body.quantity_available,
            fulfilment=body.fulfilment,
            handling_days=body.handling_days,
            event_date=body.event_date,
        )
        return listing_view(listing)

    @router.get("/listings")
    async def list_listings(
        who: CallerDep,
        seller_id: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        after = moment_cursor(cursor)
        own = who.role == "seller" and seller_id == who.id
        async with ctx.db.unit_of_work() as uow:
            page = await Listings(uow.session).page(
                seller_id=seller_id,
                include_hidden=own,
                today=ctx.clock.now().date(),
                limit=limit + 1,
                after=after,
            )
        items, more = page[:limit], len(page) > limit
        last = items[-1] if items else None
        return {
            "items": [listing_view(listing) for listing in items],
            "next_cursor": encode_cursor(last.created_at.isoformat(), last.id)
            if more and last
            else None,
        }

    @router.get("/listings/{listing_id}")
    async def get_listing(listing_id: str, who: CallerDep) -> dict[str, Any]:
        async with ctx.db.unit_of_work() as uow:
            listing = await Listings(uow.session).get(listing_id)
            seller = await Sellers(uow.session).get(listing.seller_id) if listing else None
        if listing is None or not listing.visible_to(who.id, seller, ctx.clock.now().date()):
            raise NotFound("listing")
        return listing_view(listing)

    @router.patch("/listings/{listing_id}")
    async def update_listing(
        listing_id: str, body: ListingChanges, who: CallerDep
    ) -> dict[str, Any]:
        require_role(who, "seller")
        changes = body.model_dump(exclude_none=True)
        if "status" in changes:
            changes["status"] = ListingStatus(changes["status"])
        if "price" in changes:
            changes["price"] = body.price
        listing = await handlers.update_listing(ctx, listing_id, who_of(who), changes)
        return listing_view(listing)

    @router.put("/sellers/me/vacation")
    async def set_vacation(body: Vacation, who: CallerDep) -> dict[str, Any]:
        require_role(who, "seller")
        seller = await handlers.set_vacation(ctx, who.id, body.until)
        return {"seller_id": seller.id, "until": _iso(seller.vacation_until)}

    # --- orders ---

    @router.post("/orders", status_code=201)
    async def place_order(body: NewOrder, who: CallerDep, response: Response) -> dict[str, Any]:
        require_role(who, "buyer")
        address = Address(**body.shipping_address.model_dump()) if body.shipping_address else None
        order = await handlers.place_order(
            ctx,
            buyer_id=who.id,
            listing_id=body.listing_id,
            quantity=body.quantity,
            shipping_address=address,
            payment_method=body.payment_method,
        )
        response.headers["Location"] = f"/v1/orders/{order.id}"
        return order_view(order, Actor.BUYER, ctx)

    @router.get("/orders")
    async def list_orders(
        who: CallerDep,
        role: Literal["buyer", "seller"] | None = None,
        status: domain.Status | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        party = role or who.role
        if party not in ("buyer", "seller") or party != who.role:
            raise forbidden("Only buyers and sellers have their own orders to list")
        after = moment_cursor(cursor)
        async with ctx.db.unit_of_work() as uow:
            page = await Orders(uow.session).page(
                party_column=f"{party}_id",
                party_id=who.id,
                status=status.value if status else None,
                limit=limit + 1,
                after=after,
            )
        items, more = page[:limit], len(page) > limit
        last = items[-1] if items else None
        return {
            "items": [order_view(order, Actor(party), ctx) for order in items],
            "next_cursor": encode_cursor(last.placed_at.isoformat(), last.id)
            if more and last
            else None,
        }

    @router.get("/orders/{order_id}")
    async def get_order(order_id: str, who: CallerDep) -> dict[str, Any]:
        async with ctx.db.unit_of_work() as uow:
            order = await Orders(uow.session).get(order_id)
            tickets = await OrderTickets(uow.session).of_order(order_id)
        if order is None or order.actor_for(who.id, who.role) is None:
            raise NotFound("order")
        return view(order, who, tickets)

    @router.post("/orders/{order_id}/accept")
    async def accept(order_id: str, who: CallerDep) -> dict[str, Any]:
        return view(await handlers.accept(ctx, order_id, who_of(who)), who)

    @router.post("/orders/{order_id}/decline")
    async def decline(order_id: str, body: Reason, who: CallerDep) -> dict[str, Any]:
        return view(await handlers.decline(ctx, order_id, who_of(who), body.reason), who)

    @router.post("/orders/{order_id}/ship")
    async def ship(order_id: str, body: Shipment, who: CallerDep) -> dict[str, Any]:
        order = await handlers.ship(
            ctx,
            order_id,
            who_of(who),
            carrier=body.carrier,
            tracking_number=body.tracking_number,
            transfer_reference=body.transfer_reference,
        )
        return view(order, who)

    @router.post("/orders/{order_id}/cancel")
    async def cancel(order_id: str, body: Reason, who: CallerDep) -> dict[str, Any]:
        return view(await handlers.cancel(ctx, order_id, who_of(who), body.reason), who)

    @router.put("/orders/{order_id}/shipping-address")
    async def change_address(
        order_id: str, body: ShippingAddress, who: CallerDep
    ) -> dict[str, Any]:
        address = Address(**body.model_dump())
        return view(await handlers.change_address(ctx, order_id, who_of(who), address), who)

    @router.post("/orders/{order_id}/redeliver")
    async def redeliver(order_id: str, body: Redelivery, who: CallerDep) -> dict[str, Any]:
        order = await handlers.redeliver(ctx, order_id, who_of(who), body.preferred_date)
        return view(order, who)

    @router.post("/orders/{order_id}/confirm-receipt")
    async def confirm_receipt(order_id: str, who: CallerDep) -> dict[str, Any]:
        return view(await handlers.confirm_receipt(ctx, order_id, who_of(who)), who)

    @router.post("/orders/{order_id}/report-problem")
    async def report_problem(order_id: str, body: ProblemReport, who: CallerDep) -> dict[str, Any]:
        order = await handlers.report_problem(ctx, order_id, who_of(who), body.reason, body.details)
        return view(order, who)

    @router.post("/orders/{order_id}/return")
    async def request_return(order_id: str, body: Reason, who: CallerDep) -> dict[str, Any]:
        order = await handlers.request_return(ctx, order_id, who_of(who), body.reason)
        return view(order, who)

    @router.post("/orders/{order_id}/confirm-return")
    async def confirm_return(order_id: str, who: CallerDep) -> dict[str, Any]:
        return view(await handlers.confirm_return(ctx, order_id, who_of(who)), who)

    @router.post("/orders/{order_id}/exchange")
    async def exchange(order_id: str, body: Exchange, who: CallerDep) -> dict[str, Any]:
        order = await handlers.request_exchange(ctx, order_id, who_of(who), body.reason, body.note)
        return view(order, who)

    @router.post("/orders/{order_id}/review", status_code=201)
    async def review(order_id: str, body: NewReview, who: CallerDep) -> dict[str, Any]:
        created = await handlers.review(ctx, order_id, who_of(who), body.rating, body.text)
        return {
            "id": created.id,
            "order_id": created.order_id,
            "seller_id": created.seller_id,
            "rating": created.rating,
            "text": created.text,
            "created_at": created.created_at.isoformat(),
        }

    @router.get("/orders/{order_id}/messages")
    async def list_messages(
        order_id: str,
        who: CallerDep,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        found = await handlers.messages(
            ctx, order_id, who_of(who), limit=limit + 1, after_seq=sequence_cursor(cursor)
        )
        page, more = found[:limit], len(found) > limit
        return {
            "items": [message_view(m) for m in page],
            "next_cursor": encode_cursor(page[-1].seq) if more else None,
        }

    @router.post("/orders/{order_id}/messages", status_code=201)
    async def post_message(order_id: str, body: NewMessage, who: CallerDep) -> dict[str, Any]:
        return message_view(await handlers.post_message(ctx, order_id, who_of(who), body.body))

    # --- carriers ---

    @router.post("/carrier-events")
    async def carrier_event(body: CarrierEvent, who: CallerDep) -> dict[str, Any]:
        require_role(who, "carrier")
        order = await handlers.carrier_event(
            ctx, body.tracking_number, body.status, body.occurred_at, carrier=who.carrier
        )
        return {
            "order_id": order.id,
            "status": order.status.value,
            "delivery_attempts": order.delivery_attempts,
        }

    return router
