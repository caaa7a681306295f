"""Events published by the seller standards service on `seller_standards.events`, keyed by
seller id."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

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
