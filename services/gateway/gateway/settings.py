"""The gateway's settings: the kit's, plus where each service is, the first operator and the
limits on what a request may carry."""

from __future__ import annotations

import ipaddress

from limits import parse_many
from pydantic import AliasChoices, Field, field_validator

from servicekit.hosting.settings import KitSettings


class GatewaySettings(KitSettings):
    service_name: str = "gateway"
    trusted_proxies: str = Field(
        "",
        validation_alias=AliasChoices("GATEWAY_TRUSTED_PROXIES"),
        description="Addresses or networks (comma-separated, such as `10.0.0.0/8`) of the "
        "proxies in front whose X-Forwarded-For and X-Forwarded-Proto are believed; empty: "
        "none, the client address is the connection's",
    )
    operator_token: str = Field(
        "",
        validation_alias=AliasChoices("MARKETPLACE_OPERATOR_TOKEN"),
        description="The first operator's token; made up and logged at start-up when unset",
    )
    orders_url: str = Field("http://127.0.0.1:8101", validation_alias=AliasChoices("ORDERS_URL"))
    payments_url: str = Field(
        "http://127.0.0.1:8102", validation_alias=AliasChoices("PAYMENTS_URL")
    )
    support_url: str = Field("http://127.0.0.1:8103", validation_alias=AliasChoices("SUPPORT_URL"))
    seller_standards_url: str = Field(
        "http://127.0.0.1:8104", validation_alias=AliasChoices("SELLER_STANDARDS_URL")
    )
    notifications_url: str = Field(
        "http://127.0.0.1:8105", validation_alias=AliasChoices("NOTIFICATIONS_URL")
    )
    upstream_timeout_seconds: float = Field(
        15.0, gt=0, validation_alias=AliasChoices("GATEWAY_UPSTREAM_TIMEOUT_SECONDS")
    )
    max_body_bytes: int = Field(
        1_048_576,
        gt=0,
        validation_alias=AliasChoices("GATEWAY_MAX_BODY_BYTES"),
        description="A request body larger than this is refused with 413, before it is read",
    )
    max_json_depth: int = Field(
        32,
        gt=0,
        validation_alias=AliasChoices("GATEWAY_MAX_JSON_DEPTH"),
        description="A JSON body nested deeper than this (objects and arrays) is refused with 422",
    )
    body_read_timeout_seconds: float = Field(
        30.0,
        gt=0,
        validation_alias=AliasChoices("GATEWAY_BODY_READ_TIMEOUT_SECONDS"),
        description="A client that takes longer than this to send its request body gets 408 and "
        "its connection is closed",
    )
    rate_limit_per_token: str = Field(
        "1200/minute",
        validation_alias=AliasChoices("GATEWAY_RATE_LIMIT_PER_TOKEN"),
        description="Requests one token may make (a `limits` expression such as "
        "`1200/minute` or `50/second;1200/minute`); beyond it, 429 with Retry-After",
    )
    rate_limit_failed_authentications: str = Field(
        "30/minute",
        validation_alias=AliasChoices("GATEWAY_RATE_LIMIT_FAILED_AUTHENTICATIONS"),
        description="Requests with an invalid, expired or revoked token one client address may "
        "make; beyond it, every request from that address with a token is 429 for a while",
    )
    rate_limit_storage_uri: str = Field(
        "memory://",
        validation_alias=AliasChoices("GATEWAY_RATE_LIMIT_STORAGE_URI"),
        description="Where rate limit counters live: `memory://` for one gateway process, a "
        "shared store such as `redis://host:6379` when several gateway replicas serve",
    )
    idempotency_key_ttl_seconds: float = Field(
        86400.0,
        gt=0,
        validation_alias=AliasChoices("GATEWAY_IDEMPOTENCY_KEY_TTL_SECONDS"),
        description="An Idempotency-Key older than this is forgotten (as Stripe does, 24 hours): "
        "its reuse is a new request, and its row is purged",
    )

    @field_validator("rate_limit_per_token", "rate_limit_failed_authentications")
    @classmethod
    def _a_limits_expression(cls, value: str) -> str:
        parse_many(value)  # a ValueError here stops the gateway at start-up, not at a request
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        for entry in trusted_proxy_list(value):
            # `*` would let any client choose the address its failures are counted against.
            ipaddress.ip_network(entry, strict=False)  # a ValueError stops the start-up
        return value

    def trusted_proxy_list(self) -> list[str]:
        return trusted_proxy_list(self.trusted_proxies)

    def service_urls(self) -> dict[str, str]:
        return {
            "orders": self.orders_url,
            "payments": self.payments_url,
            "support": self.support_url,
            "seller_standards": self.seller_standards_url,
            "notifications": self.notifications_url,
        }


def trusted_proxy_list(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()]
