"""The gateway's settings: the kit's, plus where each service is, the first operator and the
limits on what a request may carry."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from servicekit.settings import KitSettings


class GatewaySettings(KitSettings):
    service_name: str = "gateway"
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

    def service_urls(self) -> dict[str, str]:
        return {
            "orders": self.orders_url,
            "payments": self.payments_url,
            "support": self.support_url,
            "seller_standards": self.seller_standards_url,
            "notifications": self.notifications_url,
        }
