"""Orders' HTTP API (reached through the gateway): listings and orders as API.md describes."""

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts import Money
from orders import domain, handlers
from orders.db import Listings, Orders
from orders.domain import Actor, Address, DomainError, Fulfilment, Listing, Order, TransitionRefused
from orders.handlers import OrdersContext
from servicekit.http import Caller, Problem, forbidden, not_found, require_role
from servicekit.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewListing(Strict):
    title: Text
    price: Money
    quantity_available: int = Field(ge=0, le=100_000)
    fulfilment: Fulfilment
    handling_days: int = Field(ge=1, le=10)
    event_date: date | None = None


class ShippingAddress(Strict):
    name: Text
    line1: Text
    line2: Text | None = None
    city: Text
    postal_code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)
    ]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        description="ISO 3166-1 alpha-2"
    )


class NewOrder(Strict):
    listing_id: Text
    quantity: int = Field(1, ge=1, le=1000)
    shipping_address: ShippingAddress | None = None
    payment_method: Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,100}$")]


PROBLEM_STATUS = {
    "listing-not-found": 404,
    "invalid-transition": 409,
    "insufficient-stock": 409,
    "listing-unavailable": 409,
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
    status = PROBLEM_STATUS.get(error.code, 422)
    return Problem(status, error.code.replace("-", " ").capitalize(), error.detail, slug=error.code)


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


def order_view(order: Order, actor: Actor, ctx: OrdersContext) -> dict[str, Any]:
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
        "placed_at": order.placed_at.isoformat(),
        "accept_by": order.accept_by.isoformat(),
        "shipping_address": asdict(order.shipping_address) if order.shipping_address else None,
        "cancel_reason": order.cancel_reason,
        "steps": [
            {
                "name": step.name,
                "state": step.state.value,
                "done_at": step.done_at.isoformat() if step.done_at else None,
                "expected_by": step.expected_by.isoformat() if step.expected_by else None,
                "message": step.message,
            }
            for step in domain.steps(order, ctx.calendar, ctx.rules)
        ],
        "timeline": [
            {"at": entry.at.isoformat(), "kind": entry.kind, "detail": entry.detail}
            for entry in order.timeline
        ],
        "payment": {
            "state": order.payment_state.value,
            "authorized": _money(order.authorized, currency),
            "captured": _money(None, currency),
            "refunded": _money(None, currency),
            "released": _money(None, currency),
        },
        "shipment": None,
        "tickets": [],
        "allowed_actions": order.allowed_actions(actor),
        "version": order.version,
    }


def build_router(ctx: OrdersContext, caller: Callable[..., Caller]) -> APIRouter:
    router = APIRouter(prefix="/v1")
    CallerDep = Annotated[Caller, Depends(caller)]

    @router.post("/listings", status_code=201)
    async def create_listing(body: NewListing, who: CallerDep) -> dict[str, Any]:
        require_role(who, "seller")
        try:
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
        except DomainError as error:
            raise domain_problem(error) from error
        return listing_view(listing)

    @router.get("/listings")
    async def list_listings(
        who: CallerDep,
        seller_id: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        after = tuple(decode_cursor(cursor, 2)) if cursor else None
        own = who.role == "seller" and seller_id == who.id
        async with ctx.db.unit_of_work() as uow:
            page = await Listings(uow.session).page(
                seller_id=seller_id,
                include_hidden=own,
                limit=limit + 1,
                after=after,  # type: ignore[arg-type]
            )
        items, more = page[:limit], len(page) > limit
        return {
            "items": [listing_view(listing) for listing in items],
            "next_cursor": encode_cursor(items[-1].created_at.isoformat(), items[-1].id)
            if more
            else None,
        }

    @router.get("/listings/{listing_id}")
    async def get_listing(listing_id: str, who: CallerDep) -> dict[str, Any]:
        async with ctx.db.unit_of_work() as uow:
            listing = await Listings(uow.session).get(listing_id)
        visible = listing and (
            listing.status is domain.ListingStatus.ACTIVE or listing.seller_id == who.id
        )
        if not visible:
            raise not_found("listing")
        return listing_view(listing)  # type: ignore[arg-type]

    @router.post("/orders", status_code=201)
    async def place_order(body: NewOrder, who: CallerDep, response: Response) -> dict[str, Any]:
        require_role(who, "buyer")
        address = Address(**body.shipping_address.model_dump()) if body.shipping_address else None
        try:
            order = await handlers.place_order(
                ctx,
                buyer_id=who.id,
                listing_id=body.listing_id,
                quantity=body.quantity,
                shipping_address=address,
                payment_method=body.payment_method,
            )
        except DomainError as error:
            raise domain_problem(error) from error
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
        after = tuple(decode_cursor(cursor, 2)) if cursor else None
        async with ctx.db.unit_of_work() as uow:
            page = await Orders(uow.session).page(
                party_column=f"{party}_id",
                party_id=who.id,
                status=status.value if status else None,
                limit=limit + 1,
                after=after,  # type: ignore[arg-type]
            )
        items, more = page[:limit], len(page) > limit
        actor = Actor(party)
        return {
            "items": [order_view(order, actor, ctx) for order in items],
            "next_cursor": encode_cursor(items[-1].placed_at.isoformat(), items[-1].id)
            if more
            else None,
        }

    @router.get("/orders/{order_id}")
    async def get_order(order_id: str, who: CallerDep) -> dict[str, Any]:
        async with ctx.db.unit_of_work() as uow:
            order = await Orders(uow.session).get(order_id)
        actor = order.actor_for(who.id, who.role) if order else None
        if order is None or actor is None:
            raise not_found("order")
        return order_view(order, actor, ctx)

    return router
