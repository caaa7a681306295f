"""Support's settings: the kit's, plus the business calendar and the SLA targets."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from pydantic import AliasChoices, Field

from servicekit.hosting.settings import KitSettings
from support.domain.tickets import DEFAULT_SLA, SlaTargets


class SupportSettings(KitSettings):
    service_name: str = "support"
    holidays: list[date] = Field(
        default_factory=list,
        validation_alias=AliasChoices("MARKETPLACE_HOLIDAYS"),
        description='Days that are not business days, as a JSON list: ["2026-12-25"]',
    )
    opens: time = Field(time(9), validation_alias=AliasChoices("SUPPORT_OPENS"))
    closes: time = Field(time(17), validation_alias=AliasChoices("SUPPORT_CLOSES"))
    sla: dict[str, SlaTargets] = Field(
        default_factory=lambda: dict(DEFAULT_SLA),
        validation_alias=AliasChoices("SUPPORT_SLA"),
        description="JSON: priority -> {first_response_hours, resolution_hours} (business hours)",
    )
    reply_within_hours: float = Field(
        24,
        gt=0,
        validation_alias=AliasChoices("SUPPORT_REPLY_WITHIN_HOURS"),
        description="How long a buyer's message may wait for the seller before a ticket opens",
    )
    close_after_days: float = Field(
        3,
        gt=0,
        le=365,
        validation_alias=AliasChoices("SUPPORT_CLOSE_AFTER_DAYS"),
        description="How long a resolved ticket stays resolved with no message from its buyer "
        "or seller (which reopens it) before it closes by itself",
    )
    credit_limit_ratio: Decimal = Field(
        Decimal(1),
        ge=0,
        le=100,
        validation_alias=AliasChoices("SUPPORT_CREDIT_LIMIT_RATIO"),
        description="Goodwill credit an order may carry in all (every ticket's credits "
        "counted), as a multiple of the order's total: 1.0 is at most the total",
    )
