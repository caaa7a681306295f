"""A seller's standards, and the decisions operators and agents make about them."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from seller_standards import handlers
from seller_standards.api.bodies import NewExemption, StandingDecision
from seller_standards.api.dependencies import Context
from seller_standards.api.views import review_view, reviews_after, standards_view
from seller_standards.domain.policy import Exemption
from seller_standards.handlers import StandardsContext
from servicekit.hosting.http import CallerDep, not_found, require_role
from servicekit.hosting.pagination import DEFAULT_LIMIT, MAX_LIMIT, encode_cursor

router = APIRouter(prefix="/v1")


def window_days(ctx: StandardsContext) -> float:
    return ctx.policy.window.total_seconds() / 86400


@router.get("/sellers/{seller_id}/standards")
async def get_standards(seller_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    if who.role not in ("agent", "operator") and who.id != seller_id:
        raise not_found("seller standards")
    shown = await handlers.standards_of(ctx, seller_id)
    return standards_view(seller_id, shown, window_days(ctx))


@router.post("/sellers/{seller_id}/exemptions", status_code=201)
async def add_exemption(
    seller_id: str, body: NewExemption, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    require_role(who, "operator")
    exemption = Exemption(body.starts, body.ends, body.reason)
    shown = await handlers.add_exemption(ctx, seller_id, exemption, who.id)
    return standards_view(seller_id, shown, window_days(ctx))


@router.get("/sellers/{seller_id}/reviews")
async def list_reviews(
    seller_id: str,
    who: CallerDep,
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The seller's reviews, newest first, to anyone signed in (flagged ones say so)."""
    page = await handlers.reviews_of(ctx, seller_id, reviews_after(cursor), limit + 1)
    more, page = len(page) > limit, page[:limit]
    return {
        "items": [review_view(review) for review in page],
        "next_cursor": encode_cursor(page[-1].at.isoformat(), page[-1].review_id) if more else None,
    }


@router.post("/reviews/{review_id}/flag-misuse")
async def flag_misuse(review_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    require_role(who, "agent")  # a support judgement, as resolving a ticket is
    shown = await handlers.flag_misuse(ctx, review_id, who.id)
    return standards_view(shown.standing.seller_id, shown, window_days(ctx))


@router.put("/sellers/{seller_id}/standing")
async def set_standing(
    seller_id: str, body: StandingDecision, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    require_role(who, "operator")
    shown = await handlers.set_standing(ctx, seller_id, body.standing, body.reason, who.id)
    return standards_view(seller_id, shown, window_days(ctx))
