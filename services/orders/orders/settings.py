"""Orders' settings: the kit's, plus the deadlines (each configurable)."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import AliasChoices, Field

from servicekit.hosting.settings import KitSettings


class OrdersSettings(KitSettings):
    service_name: str = "orders"
    # Every duration is bounded: deadlines are added to dates and must stay in the calendar.
    acceptance_business_days: int = Field(
        2, ge=1, le=30, validation_alias=AliasChoices("ORDERS_ACCEPTANCE_BUSINESS_DAYS")
    )
    transit_business_days: int = Field(
        5, ge=1, le=60, validation_alias=AliasChoices("ORDERS_TRANSIT_BUSINESS_DAYS")
    )
    confirmation_days: int = Field(
        3, ge=1, le=60, validation_alias=AliasChoices("ORDERS_CONFIRMATION_DAYS")
    )
    return_days: int = Field(14, ge=0, le=365, validation_alias=AliasChoices("ORDERS_RETURN_DAYS"))
    pickup_business_days: int = Field(
        2, ge=1, le=30, validation_alias=AliasChoices("ORDERS_PICKUP_BUSINESS_DAYS")
    )
    redelivery_window_days: int = Field(
        30,
        ge=1,
        le=90,
        validation_alias=AliasChoices("ORDERS_REDELIVERY_WINDOW_DAYS"),
        description="How far ahead a buyer may ask for another delivery attempt",
    )
    event_horizon_days: int = Field(
        730,
        ge=1,
        le=3650,
        validation_alias=AliasChoices("ORDERS_EVENT_HORIZON_DAYS"),
        description="How far ahead a ticket or booking (a transfer listing) may be dated",
    )
    # Every status in which someone must act has a deadline (API.md, "No order waits for ever").
    payment_window_minutes: int = Field(
        60,
        ge=5,
        le=7 * 24 * 60,
        validation_alias=AliasChoices("ORDERS_PAYMENT_WINDOW_MINUTES"),
        description="placed: how long the card (authorization, 3-D Secure) may take",
    )
    shipment_grace_business_days: int = Field(
        3,
        ge=0,
        le=30,
        validation_alias=AliasChoices("ORDERS_SHIPMENT_GRACE_BUSINESS_DAYS"),
        description="accepted: after ship-by, before an unshipped order is cancelled",
    )
    unscanned_days: int = Field(
        14,
        ge=1,
        le=90,
        validation_alias=AliasChoices("ORDERS_UNSCANNED_DAYS"),
        description="shipped: days without a delivery scan before the buyer is asked",
    )
    delivery_failed_days: int = Field(
        7,
        ge=1,
        le=90,
        validation_alias=AliasChoices("ORDERS_DELIVERY_FAILED_DAYS"),
        description="delivery_failed: days to choose another attempt before it goes back",
    )
    return_confirm_days: int = Field(
        14,
        ge=1,
        le=90,
        validation_alias=AliasChoices("ORDERS_RETURN_CONFIRM_DAYS"),
        description="return_requested: days after the pickup date before the buyer is refunded",
    )
    exchange_grace_business_days: int = Field(
        3,
        ge=0,
        le=30,
        validation_alias=AliasChoices("ORDERS_EXCHANGE_GRACE_BUSINESS_DAYS"),
        description="exchange_requested: after the handling days, before the buyer is refunded",
    )
    # Resale events (#20).
    resale_release_after: timedelta = Field(
        timedelta(days=2),
        ge=timedelta(0),
        le=timedelta(days=30),
        validation_alias=AliasChoices("ORDERS_RESALE_RELEASE_AFTER"),
        description="How long after a resale event's end its money is released to the seller "
        "(seconds or ISO 8601, e.g. P2D)",
    )
    event_cutoff: timedelta = Field(
        timedelta(hours=2),
        ge=timedelta(0),
        le=timedelta(days=7),
        validation_alias=AliasChoices("ORDERS_EVENT_CUTOFF"),
        description="How long before a resale event's start the seller's accept-by and "
        "ship-by fall at the latest (seconds or ISO 8601, e.g. PT2H)",
    )
    holidays: list[date] = Field(
        default_factory=list,
        validation_alias=AliasChoices("MARKETPLACE_HOLIDAYS"),
        description='Days that are not business days, as a JSON list: ["2026-12-25"]',
    )
