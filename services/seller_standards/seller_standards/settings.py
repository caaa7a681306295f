"""Seller standards' settings: the kit's, plus the policy's windows and periods. Thresholds
are in `domain.DEFAULT_POLICY`; `STANDARDS_THRESHOLDS` (JSON) overrides them."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from seller_standards.domain.policy import DEFAULT_POLICY, Threshold
from servicekit.hosting.settings import KitSettings


class StandardsSettings(KitSettings):
    service_name: str = "seller_standards"
    window_days: float = Field(90, gt=0, validation_alias=AliasChoices("STANDARDS_WINDOW_DAYS"))
    review_days: float = Field(
        14,
        gt=0,
        validation_alias=AliasChoices("STANDARDS_REVIEW_DAYS"),
        description="Under review this long and still below the floor: suspended",
    )
    hysteresis: float = Field(0.02, ge=0, validation_alias=AliasChoices("STANDARDS_HYSTERESIS"))
    thresholds: dict[str, Threshold] = Field(
        default_factory=lambda: dict(DEFAULT_POLICY),
        validation_alias=AliasChoices("STANDARDS_THRESHOLDS"),
        description="JSON: metric -> {target, floor, direction, min_sample}",
    )
