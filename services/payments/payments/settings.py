"""Payments' settings: the kit's, plus Stripe and the authorization hold."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from servicekit.settings import KitSettings


class PaymentsSettings(KitSettings):
    service_name: str = "payments"
    stripe_api_key: str = Field(
        "sk_test_development", validation_alias=AliasChoices("STRIPE_API_KEY")
    )
    stripe_api_base: str | None = Field(
        None,
        validation_alias=AliasChoices("STRIPE_API_BASE"),
        description="Stripe's API address; localstripe's in development and tests",
    )
    authorization_hold_days: float = Field(
        7,
        gt=0,
        validation_alias=AliasChoices("PAYMENTS_AUTHORIZATION_HOLD_DAYS"),
        description="How long the card network holds an online authorization",
    )
    authorization_concurrency: int = Field(
        16, ge=1, validation_alias=AliasChoices("PAYMENTS_AUTHORIZATION_CONCURRENCY")
    )
