"""Events published by the seller standards service on `seller_standards.events`, keyed by
seller id."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Event
from contracts.topics import SELLER_STANDARDS_EVENTS

Standing = Literal["good", "at_risk", "under_review", "suspended", "revoked"]


class SellerStandingChanged(
    Event, type="marketplace.seller.standing_changed.v1", topic=SELLER_STANDARDS_EVENTS
):
    """A seller's standing changed; `suspended` and `revoked` sellers' listings are hidden
    and cannot be ordered."""

    seller_id: str
    standing: Standing
    previous: Standing
    reason: str
    changed_at: AwareDatetime

    def subject(self) -> str:
        return self.seller_id


class SellerExemptionGranted(
    Event, type="marketplace.seller.exemption_granted.v1", topic=SELLER_STANDARDS_EVENTS
):
    """An operator exempted a span of a seller's orders (an isolated event such as a natural
    disaster): orders placed in it, and their reviews, do not count."""

    exemption_id: str
    seller_id: str
    starts: AwareDatetime
    ends: AwareDatetime
    reason: str
    decided_by: str = Field(description="The operator who granted it")
    decided_at: AwareDatetime

    def subject(self) -> str:
        return self.seller_id


class SellerReviewFlagged(
    Event, type="marketplace.seller.review_flagged.v1", topic=SELLER_STANDARDS_EVENTS
):
    """An agent flagged a review of the seller's as misuse of the review system: it no
    longer counts."""

    review_id: str
    order_id: str
    seller_id: str
    flagged_by: str = Field(description="The agent who flagged it")
    flagged_at: AwareDatetime

    def subject(self) -> str:
        return self.seller_id


class SellerStandingDecided(
    Event, type="marketplace.seller.standing_decided.v1", topic=SELLER_STANDARDS_EVENTS
):
    """An operator decided a seller's standing, with a reason (it may confirm the standing
    the seller has; a standing that moved is also published as `standing_changed`)."""

    decision_id: str
    seller_id: str
    standing: Standing
    previous: Standing
    reason: str
    decided_by: str = Field(description="The operator who decided")
    decided_at: AwareDatetime

    def subject(self) -> str:
        return self.seller_id


class SellerOrderSurge(
    Event, type="marketplace.seller.order_surge.v1", topic=SELLER_STANDARDS_EVENTS
):
    """A seller's orders surged against their own baseline: they may be overwhelmed. Told
    to the seller and to an agent; never held against the seller."""

    seller_id: str
    recent_orders: int = Field(description="Orders placed in the recent period")
    recent_days: int
    ratio: float = Field(description="Recent orders against the seller's usual for the period")
    detected_at: AwareDatetime

    def subject(self) -> str:
        return self.seller_id
