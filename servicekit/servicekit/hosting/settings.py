"""Settings every service shares, read from the environment (pydantic-settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field
from pydantic_settings import SettingsConfigDict

from servicekit.domain.clock import Clock, ManualClock, SystemClock
from servicekit.messaging.connection import KafkaConnectionSettings, env_names


class KitSettings(KafkaConnectionSettings):
    """Subclass per service, setting `service_name` and adding the service's own settings."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str
    environment: Literal["production", "development"] = Field(
        "production",
        validation_alias=env_names("MARKETPLACE_ENV"),
        description="`development` only in the development stack, which sets it: there the "
        "gateway serves `/docs` (its pages load scripts from a CDN) and payments accepts the "
        "development webhook secret; anything else runs as production",
    )
    database_url: str = Field(
        "",
        validation_alias=env_names("DATABASE_URL"),
        description="SQLAlchemy async URL; empty means an SQLite file under data_dir",
    )
    data_dir: str = Field("data", validation_alias=env_names("MARKETPLACE_DATA_DIR"))
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias=env_names("KAFKA_BOOTSTRAP_SERVERS")
    )
    kafka_idempotence: bool = Field(
        False,
        validation_alias=env_names("KAFKA_IDEMPOTENCE"),
        description="Idempotent producer; Apache Kafka supports it, the embedded broker does not",
    )
    clock: Literal["system", "manual"] = Field(
        "system", validation_alias=env_names("MARKETPLACE_CLOCK")
    )
    clock_start: AwareDatetime | None = Field(
        None, validation_alias=env_names("MARKETPLACE_CLOCK_START")
    )
    relay_request_timeout_ms: int = Field(
        30000,
        ge=1000,
        validation_alias=env_names("RELAY_REQUEST_TIMEOUT_MS"),
        description="How long the relay waits for the broker to acknowledge a batch before it "
        "gives up and publishes the batch again",
    )
    kafka_session_timeout_ms: int = Field(
        10000,
        ge=1000,
        validation_alias=env_names("KAFKA_SESSION_TIMEOUT_MS"),
        description="How long the group waits for a silent consumer before handing its "
        "partitions to the others",
    )
    kafka_fetch_max_wait_ms: int = Field(
        500,
        ge=0,
        validation_alias=env_names("KAFKA_FETCH_MAX_WAIT_MS"),
        description="How long the broker may hold a consumer's fetch waiting for records. "
        "Kafka answers as soon as a record arrives; the embedded broker holds most of it, so "
        "the development stack asks for less",
    )
    failpoints: str = Field(
        "",
        validation_alias=env_names("MARKETPLACE_FAILPOINTS"),
        description="Faults the reliability suite injects (servicekit.messaging.failpoints); "
        "never set it in production",
    )
    consumer_batch_size: int = Field(500, ge=1, validation_alias=env_names("CONSUMER_BATCH_SIZE"))
    relay_batch_size: int = Field(500, ge=1, validation_alias=env_names("RELAY_BATCH_SIZE"))
    relay_poll_seconds: float = Field(0.5, gt=0, validation_alias=env_names("RELAY_POLL_SECONDS"))
    relay_enabled: bool = Field(
        True,
        validation_alias=env_names("RELAY_ENABLED"),
        description="False holds outgoing events in the outbox (an operator's brake); they "
        "are published once a process with the relay enabled runs",
    )
    handler_attempts: int = Field(3, ge=1, validation_alias=env_names("HANDLER_ATTEMPTS"))
    timer_interval_seconds: float = Field(
        1.0, gt=0, validation_alias=env_names("TIMER_INTERVAL_SECONDS")
    )
    inbox_prune_every_seconds: float = Field(
        3600,
        gt=0,
        validation_alias=env_names("INBOX_PRUNE_EVERY_SECONDS"),
        description="How often the inbox is pruned of event ids older than their topic keeps "
        "them (its retention, or its dead letters', whichever is longer; deploy/topics.yaml)",
    )
    internal_token: str = Field(
        "",
        validation_alias=env_names("MARKETPLACE_INTERNAL_TOKEN"),
        description="Shared secret the gateway sends with each forwarded request; services "
        "refuse requests without it, so an identity cannot be claimed by calling them directly",
    )
    open_internal_api: bool = Field(
        False,
        validation_alias=env_names("MARKETPLACE_OPEN_INTERNAL_API"),
        description="Run without MARKETPLACE_INTERNAL_TOKEN, trusting any forwarded identity "
        "(only where nothing but the gateway can reach the services)",
    )
    log_level: str = Field("INFO", validation_alias=env_names("LOG_LEVEL"))
    log_format: Literal["json", "console"] = Field("json", validation_alias=env_names("LOG_FORMAT"))

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir}/{self.service_name}.db"

    def make_clock(self) -> Clock:
        if self.clock == "manual":
            return ManualClock(self.clock_start)
        return SystemClock()
