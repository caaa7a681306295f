"""Orders: placing, reading and changing them, their messages, and carriers' reports."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from orders import handlers
from orders.api.bodies import (
    CarrierEvent,
    Exchange,
    NewMessage,
    NewOrder,
    NewReview,
    ProblemReport,
    Reason,
    Redelivery,
    Shipment,
    ShippingAddress,
)
from orders.api.dependencies import Context, who_of
from orders.api.views import (
    message_view,
    moment_cursor,
    order_view,
    parcel_request_view,
    request_cursor,
    review_view,
    sequence_cursor,
)
from orders.domain import Actor, Address, NotFound, Order, Recipient, Status
from orders.handlers import OrdersContext
from servicekit.hosting.http import Caller, CallerDep, forbidden, require_role
from servicekit.hosting.pagination import DEFAULT_LIMIT, MAX_LIMIT, encode_cursor

router = APIRouter(prefix="/v1")


def _view(
    order: Order, caller: Caller, ctx: OrdersContext, tickets: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The order as the caller sees it: as its party, or as the staff role they hold."""
    actor = order.actor_for(caller.id, caller.role)
    return order_view(order, actor or Actor(caller.role), ctx, tickets)


@router.post("/orders", status_code=201)
async def place_order(
    body: NewOrder, who: CallerDep, ctx: Context, response: Response
) -> dict[str, Any]:
    require_role(who, "buyer")
    address = Address(**body.shipping_address.model_dump()) if body.shipping_address else None
    recipient = Recipient(**body.recipient.model_dump()) if body.recipient else None
    order = await handlers.place_order(
        ctx,
        buyer_id=who.id,
        listing_id=body.listing_id,
        quantity=body.quantity,
        shipping_address=address,
        payment_method=body.payment_method,
        recipient=recipient,
    )
    response.headers["Location"] = f"/v1/orders/{order.id}"
    return order_view(order, Actor.BUYER, ctx)


@router.get("/orders")
async def list_orders(
    who: CallerDep,
    ctx: Context,
    role: Literal["buyer", "seller"] | None = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    party = role or who.role
    if party not in ("buyer", "seller") or party != who.role:
        raise forbidden("Only buyers and sellers have their own orders to list")
    after = moment_cursor(cursor)
    async with ctx.db.unit_of_work() as uow:
        page = await uow.orders.page(
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
async def get_order(order_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    async with ctx.db.unit_of_work() as uow:
        order = await uow.orders.get(order_id)
        tickets = await uow.order_tickets.of_order(order_id)
    if order is None or order.actor_for(who.id, who.role) is None:
        raise NotFound("order")
    return _view(order, who, ctx, tickets)


@router.post("/orders/{order_id}/accept")
async def accept(order_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    return _view(await handlers.accept(ctx, order_id, who_of(who)), who, ctx)


@router.post("/orders/{order_id}/decline")
async def decline(order_id: str, body: Reason, who: CallerDep, ctx: Context) -> dict[str, Any]:
    return _view(await handlers.decline(ctx, order_id, who_of(who), body.reason), who, ctx)


@router.post("/orders/{order_id}/ship")
async def ship(order_id: str, body: Shipment, who: CallerDep, ctx: Context) -> dict[str, Any]:
    order = await handlers.ship(
        ctx,
        order_id,
        who_of(who),
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        transfer_reference=body.transfer_reference,
    )
    return _view(order, who, ctx)


@router.post("/orders/{order_id}/cancel")
async def cancel(order_id: str, body: Reason, who: CallerDep, ctx: Context) -> dict[str, Any]:
    return _view(await handlers.cancel(ctx, order_id, who_of(who), body.reason), who, ctx)


@router.put("/orders/{order_id}/shipping-address")
async def change_address(
    order_id: str, body: ShippingAddress, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    address = Address(**body.model_dump())
    return _view(await handlers.change_address(ctx, order_id, who_of(who), address), who, ctx)


@router.post("/orders/{order_id}/redeliver")
async def redeliver(
    order_id: str, body: Redelivery, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    order = await handlers.redeliver(ctx, order_id, who_of(who), body.preferred_date)
    return _view(order, who, ctx)


@router.post("/orders/{order_id}/confirm-receipt")
async def confirm_receipt(order_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    return _view(await handlers.confirm_receipt(ctx, order_id, who_of(who)), who, ctx)


@router.post("/orders/{order_id}/report-problem")
async def report_problem(
    order_id: str, body: ProblemReport, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    order = await handlers.report_problem(ctx, order_id, who_of(who), body.reason, body.details)
    return _view(order, who, ctx)


@router.post("/orders/{order_id}/return")
async def request_return(
    order_id: str, body: Reason, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    order = await handlers.request_return(ctx, order_id, who_of(who), body.reason)
    return _view(order, who, ctx)


@router.post("/orders/{order_id}/confirm-return")
async def confirm_return(order_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    return _view(await handlers.confirm_return(ctx, order_id, who_of(who)), who, ctx)


@router.post("/orders/{order_id}/exchange")
async def exchange(order_id: str, body: Exchange, who: CallerDep, ctx: Context) -> dict[str, Any]:
    order = await handlers.request_exchange(ctx, order_id, who_of(who), body.reason, body.note)
    return _view(order, who, ctx)


@router.post("/orders/{order_id}/review", status_code=201)
async def review(order_id: str, body: NewReview, who: CallerDep, ctx: Context) -> dict[str, Any]:
    created = await handlers.review(ctx, order_id, who_of(who), body.rating, body.text)
    return review_view(created)


@router.get("/orders/{order_id}/messages")
async def list_messages(
    order_id: str,
    who: CallerDep,
    ctx: Context,
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
async def post_message(
    order_id: str, body: NewMessage, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    return message_view(await handlers.post_message(ctx, order_id, who_of(who), body.body))


@router.post("/carrier-events")
async def carrier_event(body: CarrierEvent, who: CallerDep, ctx: Context) -> dict[str, Any]:
    require_role(who, "carrier")
    order = await handlers.carrier_event(
        ctx, body.tracking_number, body.status, body.occurred_at, carrier=who.carrier
    )
    return {
        "order_id": order.id,
        "status": order.status.value,
        "delivery_attempts": order.delivery_attempts,
    }


@router.get("/carrier/shipments")
async def carrier_shipments(
    who: CallerDep,
    ctx: Context,
    since: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The caller's carrier's parcels that need something (a buyer's date for another
    attempt, a changed address, a return to pick up), asked after `since`, newest first."""
    require_role(who, "carrier")
    found = await handlers.carrier_requests(
        ctx, carrier=who.carrier, since=since, limit=limit + 1, after=request_cursor(cursor)
    )
    page, more = found[:limit], len(found) > limit
    last = page[-1] if page else None
    return {
        "items": [parcel_request_view(request) for request, _ in page],
        "next_cursor": encode_cursor(last[0].asked_at.isoformat(), last[1])
        if more and last
        else None,
    }
