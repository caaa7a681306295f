"""Notifications' settings: the kit's, plus SMTP, the portal's address and reminder leads."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from servicekit.hosting.settings import KitSettings


class NotificationsSettings(KitSettings):
    service_name: str = "notifications"
    smtp_host: str = Field("127.0.0.1", validation_alias=AliasChoices("SMTP_HOST"))
    smtp_port: int = Field(8025, validation_alias=AliasChoices("SMTP_PORT"))
    mail_from: str = Field(
        "Marketplace <no-reply@marketplace.localhost>", validation_alias=AliasChoices("MAIL_FROM")
    )
    portal_url: str = Field(
        "http://127.0.0.1:8000",
        validation_alias=AliasChoices("PORTAL_URL"),
        description="Where the links in messages point (the gateway's web portal)",
    )
    accept_reminder_hours: float = Field(
        12, gt=0, validation_alias=AliasChoices("NOTIFICATIONS_ACCEPT_REMINDER_HOURS")
    )
    ship_reminder_hours: float = Field(
        24, gt=0, validation_alias=AliasChoices("NOTIFICATIONS_SHIP_REMINDER_HOURS")
    )
    email_give_up_hours: float = Field(
        24,
        gt=0,
        validation_alias=AliasChoices("NOTIFICATIONS_EMAIL_GIVE_UP_HOURS"),
        description="How long an e-mail that fails for a passing reason is retried before it "
        "is set aside as failed",
    )
