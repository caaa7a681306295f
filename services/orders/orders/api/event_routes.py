"""Resale events: operators create, cancel and postpone them; anyone signed in reads one with
its active listings, cheapest first."""

from typing import Any

from fastapi import APIRouter

from orders import handlers
from orders.api.bodies import EventCancellation, EventPostponement, NewEvent
from orders.api.dependencies import Context
from orders.api.views import event_view, listing_view
from servicekit.hosting.http import CallerDep, require_role

router = APIRouter(prefix="/v1")


@router.post("/events", status_code=201)
async def create_event(body: NewEvent, who: CallerDep, ctx: Context) -> dict[str, Any]:
    require_role(who, "operator")
    event = await handlers.create_event(
        ctx,
        name=body.name,
        venue=body.venue,
        kind=body.kind,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
    )
    return event_view(event)


@router.get("/events/{event_id}")
async def get_event(event_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    event, listings = await handlers.event_with_listings(ctx, event_id)
    return event_view(event) | {"listings": [listing_view(listing) for listing in listings]}


@router.post("/events/{event_id}/cancel")
async def cancel_event(
    event_id: str, body: EventCancellation, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    require_role(who, "operator")
    return event_view(await handlers.cancel_event(ctx, event_id, body.reason))


@router.post("/events/{event_id}/postpone")
async def postpone_event(
    event_id: str, body: EventPostponement, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    require_role(who, "operator")
    event = await handlers.postpone_event(ctx, event_id, body.starts_at, body.ends_at)
    return event_view(event)
