"""Orders' settings: the kit's, plus the deadlines (each configurable)."""

from __future__ import annotations

from datetime import date

from pydantic import AliasChoices, Field

from servicekit.settings import KitSettings


class OrdersSettings(KitSettings):
    service_name: str = "orders"
    acceptance_business_days: int = Field(
        2, ge=1, validation_alias=AliasChoices("ORDERS_ACCEPTANCE_BUSINESS_DAYS")
    )
    transit_business_days: int = Field(
        5, ge=1, validation_alias=AliasChoices("ORDERS_TRANSIT_BUSINESS_DAYS")
    )
    confirmation_days: int = Field(
        3, ge=1, validation_alias=AliasChoices("ORDERS_CONFIRMATION_DAYS")
    )
    return_days: int = Field(14, ge=0, validation_alias=AliasChoices("ORDERS_RETURN_DAYS"))
    pickup_business_days: int = Field(
        2, ge=1, validation_alias=AliasChoices("ORDERS_PICKUP_BUSINESS_DAYS")
    )
    holidays: list[date] = Field(
        default_factory=list,
        validation_alias=AliasChoices("MARKETPLACE_HOLIDAYS"),
        description='Days that are not business days, as a JSON list: ["2026-12-25"]',
    )
