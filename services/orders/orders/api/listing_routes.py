"""Listings and sellers' vacations."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from orders import handlers
from orders.api.bodies import ListingChanges, NewListing, Vacation
from orders.api.dependencies import Context, who_of
from orders.api.views import iso_or_none, listing_view, moment_cursor
from orders.domain import ListingStatus, NotFound
from servicekit.hosting.http import CallerDep, require_role
from servicekit.hosting.pagination import DEFAULT_LIMIT, MAX_LIMIT, encode_cursor

router = APIRouter(prefix="/v1")


@router.post("/listings", status_code=201)
async def create_listing(body: NewListing, who: CallerDep, ctx: Context) -> dict[str, Any]:
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
        event_id=body.event_id,
    )
    return listing_view(listing)


@router.get("/listings")
async def list_listings(
    who: CallerDep,
    ctx: Context,
    seller_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    after = moment_cursor(cursor)
    own = who.role == "seller" and seller_id == who.id
    async with ctx.db.unit_of_work() as uow:
        page = await uow.listings.page(
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
async def get_listing(listing_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    async with ctx.db.unit_of_work() as uow:
        listing = await uow.listings.get(listing_id)
        seller = await uow.sellers.get(listing.seller_id) if listing else None
    if listing is None or not listing.visible_to(who.id, seller, ctx.clock.now().date()):
        raise NotFound("listing")
    return listing_view(listing)


@router.patch("/listings/{listing_id}")
async def update_listing(
    listing_id: str, body: ListingChanges, who: CallerDep, ctx: Context
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
async def set_vacation(body: Vacation, who: CallerDep, ctx: Context) -> dict[str, Any]:
    require_role(who, "seller")
    seller = await handlers.set_vacation(ctx, who.id, body.until)
    return {"seller_id": seller.id, "until": iso_or_none(seller.vacation_until)}
