"""The portal's own settings (how long a session lasts, when its cookie is Secure), and where it
is served and what it names its cookies."""

from __future__ import annotations

from datetime import timedelta

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PORTAL = "/portal"
SESSION_COOKIE = "mkt_session"
SIGN_IN_COOKIE = "mkt_sign_in"  # the pre-session CSRF value, double-submitted by the form


class PortalSettings(BaseSettings):
    """How long a portal session lasts, and whether the gateway sits behind a TLS proxy."""

    model_config = SettingsConfigDict(extra="ignore")

    idle_minutes: float = Field(
        30,
        gt=0,
        validation_alias=AliasChoices("PORTAL_SESSION_IDLE_MINUTES"),
        description="A session unused for this long ends",
    )
    absolute_hours: float = Field(
        12,
        gt=0,
        validation_alias=AliasChoices("PORTAL_SESSION_MAX_HOURS"),
        description="A session ends this long after sign-in, however much it is used",
    )
    trust_forwarded_proto: bool = Field(
        False,
        validation_alias=AliasChoices("PORTAL_TRUST_FORWARDED_PROTO"),
        description="Believe X-Forwarded-Proto (set it only behind a proxy that overwrites it): "
        "`https` there makes the session cookie Secure",
    )
    force_secure_cookie: bool = Field(
        False,
        validation_alias=AliasChoices("PORTAL_SECURE_COOKIE"),
        description="Always mark the session cookie Secure (the portal is only served over TLS)",
    )

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.idle_minutes)

    @property
    def absolute(self) -> timedelta:
        return timedelta(hours=self.absolute_hours)
