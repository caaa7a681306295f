"""Seller standards' HTTP API (through the gateway): a seller's standards, and the decisions
operators and agents make about them."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.text import Line, Paragraphs
from seller_standards import handlers
from seller_standards.domain.policy import Exemption
from seller_standards.domain.standing import Standing
from seller_standards.handlers import Standards, StandardsContext
from servicekit.http import Caller, not_found, require_role


class NewExemption(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    starts: AwareDatetime = Field(alias="from")
    ends: AwareDatetime = Field(alias="to")
    reason: Line = Field(min_length=1, max_length=500)


class StandingDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    standing: Standing
    reason: Paragraphs = Field(min_length=1, max_length=2000)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def standards_view(seller_id: str, shown: Standards, window_days: float) -> dict[str, Any]:
    return {
        "seller_id": seller_id,
        "standing": shown.standing.standing,
        "score": shown.standing.score,
        "under_review_since": _iso(shown.standing.under_review_since),
        "metrics": {
            name: {
                "value": metric.value,
                "threshold": metric.threshold.target if metric.threshold else None,
                "floor": metric.threshold.floor if metric.threshold else None,
                "direction": metric.threshold.direction.value if metric.threshold else None,
                "minimum_sample": metric.threshold.min_sample if metric.threshold else None,
                "sample_size": metric.sample_size,
                "judged": metric.judged,
                "window_days": window_days,
                "orders": list(metric.orders),
            }
            for name, metric in shown.metrics.items()
        },
        "history": shown.history,
        "exemptions": [
            {"from": e.starts.isoformat(), "to": e.ends.isoformat(), "reason": e.reason}
            for e in shown.exemptions
        ],
    }


def build_router(ctx: StandardsContext, caller: Callable[..., Caller]) -> APIRouter:
    router = APIRouter(prefix="/v1")
    CallerDep = Annotated[Caller, Depends(caller)]
    window_days = ctx.policy.window.total_seconds() / 86400

    @router.get("/sellers/{seller_id}/standards")
    async def get_standards(seller_id: str, who: CallerDep) -> dict[str, Any]:
        if who.role not in ("agent", "operator") and who.id != seller_id:
            raise not_found("seller standards")
        return standards_view(seller_id, await handlers.standards_of(ctx, seller_id), window_days)

    @router.post("/sellers/{seller_id}/exemptions", status_code=201)
    async def add_exemption(seller_id: str, body: NewExemption, who: CallerDep) -> dict[str, Any]:
        require_role(who, "operator")
        exemption = Exemption(body.starts, body.ends, body.reason)
        shown = await handlers.add_exemption(ctx, seller_id, exemption, who.id)
        return standards_view(seller_id, shown, window_days)

    @router.post("/reviews/{review_id}/flag-misuse")
    async def flag_misuse(review_id: str, who: CallerDep) -> dict[str, Any]:
        require_role(who, "agent")  # a support judgement, as resolving a ticket is
        shown = await handlers.flag_misuse(ctx, review_id)
        return standards_view(shown.standing.seller_id, shown, window_days)

    @router.put("/sellers/{seller_id}/standing")
    async def set_standing(
        seller_id: str, body: StandingDecision, who: CallerDep
    ) -> dict[str, Any]:
        require_role(who, "operator")
        shown = await handlers.set_standing(ctx, seller_id, body.standing, body.reason, who.id)
        return standards_view(seller_id, shown, window_days)

    return router
