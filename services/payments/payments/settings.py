"""Payments' settings: the kit's, plus Stripe, the authorization hold and the platform fee."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from servicekit.hosting.settings import KitSettings

DEVELOPMENT_WEBHOOK_SECRET = "whsec_development"


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
    stripe_timeout_seconds: float = Field(
        30.0,
        gt=0,
        validation_alias=AliasChoices("STRIPE_TIMEOUT_SECONDS"),
        description="How long one call to Stripe may take; after that the operation's outcome "
        "is looked up at Stripe before it is tried again",
    )
    stripe_webhook_secret: str = Field(
        DEVELOPMENT_WEBHOOK_SECRET,
        validation_alias=AliasChoices("STRIPE_WEBHOOK_SECRET"),
        description="The signing secret of the webhook endpoint (Stripe's dashboard)",
    )
    webhook_tolerance_seconds: int = Field(
        300,
        gt=0,
        validation_alias=AliasChoices("PAYMENTS_WEBHOOK_TOLERANCE_SECONDS"),
        description="How old a signed webhook may be before it is refused as a replay",
    )
    authorization_hold_days: float = Field(
        7,
        gt=0,
        validation_alias=AliasChoices("PAYMENTS_AUTHORIZATION_HOLD_DAYS"),
        description="How long the card network holds an online authorization",
    )
    renew_before_hours: float = Field(
        24,
        gt=0,
        validation_alias=AliasChoices("PAYMENTS_RENEW_BEFORE_HOURS"),
        description="How long before a hold lapses it is renewed (or escalated)",
    )
    platform_fee_bps: int = Field(
        500,
        ge=0,
        le=10_000,
        validation_alias=AliasChoices("PAYMENTS_PLATFORM_FEE_BPS"),
        description="The marketplace's fee on released escrow, in basis points (500 = 5%)",
    )
    payout_minimum: dict[str, int] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("PAYMENTS_PAYOUT_MINIMUM"),
        description='JSON: currency -> the least a payout may be, in minor units ({"EUR": '
        "2500}); smaller balances wait for the next run. None by default",
    )
    payout_hold_days: float = Field(
        0,
        ge=0,
        validation_alias=AliasChoices("PAYMENTS_PAYOUT_HOLD_DAYS"),
        description="A new seller is first paid this many days after their payout account "
        "became active",
    )
    payout_interval_hours: float = Field(
        24,
        gt=0,
        validation_alias=AliasChoices("PAYMENTS_PAYOUT_INTERVAL_HOURS"),
        description="How often the payout run runs on the service's clock",
    )
    payout_account_remind_after_days: float = Field(
        7,
        ge=0,
        le=3650,
        validation_alias=AliasChoices("PAYMENTS_PAYOUT_ACCOUNT_REMIND_AFTER_DAYS"),
        description="A seller whose money waits for their payout account (none, pending or "
        "restricted) is reminded this many days after first being told",
    )
    payout_account_remind_every_days: float = Field(
        7,
        ge=0,
        le=3650,
        validation_alias=AliasChoices("PAYMENTS_PAYOUT_ACCOUNT_REMIND_EVERY_DAYS"),
        description="... and again this often while it waits (0: one reminder only)",
    )
    payout_account_ticket_after_days: float = Field(
        30,
        ge=0,
        le=3650,
        validation_alias=AliasChoices("PAYMENTS_PAYOUT_ACCOUNT_TICKET_AFTER_DAYS"),
        description="An agent gets a ticket about the seller this many days after the first "
        "notice if the money still waits",
    )
    portal_url: str = Field(
        "http://127.0.0.1:8000",
        validation_alias=AliasChoices("PORTAL_URL"),
        description="Where sellers come back to after Stripe's onboarding",
    )
    authorization_concurrency: int = Field(
        16, ge=1, validation_alias=AliasChoices("PAYMENTS_AUTHORIZATION_CONCURRENCY")
    )
    credit_limit_bps: int = Field(
        10_000,
        ge=0,
        le=1_000_000,
        validation_alias=AliasChoices("PAYMENTS_CREDIT_LIMIT_BPS"),
        description="Goodwill credit issued on one order, all tickets together, is at most "
        "this share of the order's total, in basis points (10000 = the total)",
    )
    rebook_charge_seller: bool = Field(
        True,
        validation_alias=AliasChoices("PAYMENTS_REBOOK_CHARGE_SELLER"),
        description="A seller who backed out is charged what the platform covers of the "
        "buyer's dearer replacement ticket (#20)",
    )
    rebook_charge_cap_bps: int = Field(
        10_000,
        ge=0,
        le=1_000_000,
        validation_alias=AliasChoices("PAYMENTS_REBOOK_CHARGE_CAP_BPS"),
        description="That charge is at most this share of the order the seller backed out "
        "of, in basis points (10000 = its total)",
    )

    def webhook_secret_fault(self) -> str | None:
        """Why payments must not start with this webhook secret, if it must not: anyone who
        read the code could sign webhooks with the development one."""
        if self.environment == "development":
            return None
        if not self.stripe_webhook_secret.strip():
            return "STRIPE_WEBHOOK_SECRET is not set"
        if self.stripe_webhook_secret == DEVELOPMENT_WEBHOOK_SECRET:
            return (
                "STRIPE_WEBHOOK_SECRET is the development secret, which is only accepted in "
                "the development stack (MARKETPLACE_ENV=development)"
            )
        return None
