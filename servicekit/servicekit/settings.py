"""Settings every service shares, read from the environment (pydantic-settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, AwareDatetime, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.broker import KafkaSecurity
from servicekit.clock import Clock, ManualClock, SystemClock


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class KafkaConnectionSettings(BaseSettings):
    """How every client the kit builds (consumers, the relay's producer, the admin and the
    operators' tools in `servicekit.ops`) authenticates to the broker. PLAINTEXT is for the
    development stack only, on loopback; compose and Kubernetes run SASL_SSL with one
    SCRAM user per service, whose ACLs allow only what that service does."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        validation_alias=_env("KAFKA_SECURITY_PROTOCOL"),
        description="SASL_SSL in production; PLAINTEXT only for the development stack",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        "SCRAM-SHA-512", validation_alias=_env("KAFKA_SASL_MECHANISM")
    )
    kafka_sasl_username: str = Field("", validation_alias=_env("KAFKA_SASL_USERNAME"))
    kafka_sasl_password: SecretStr = Field(
        SecretStr(""), validation_alias=_env("KAFKA_SASL_PASSWORD")
    )
    kafka_ssl_cafile: str = Field(
        "",
        validation_alias=_env("KAFKA_SSL_CAFILE"),
        description="PEM file of the CA that signed the broker's certificate; empty trusts "
        "the system's CAs",
    )

    def kafka_security(self) -> KafkaSecurity:
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password.get_secret_value(),
            cafile=self.kafka_ssl_cafile,
        )


def kafka_security_from_environment() -> KafkaSecurity:
    """The broker credentials of this process's environment: what the operators' tools
    (`servicekit.ops`, the `marketplace` command) connect with when not handed any."""
    return KafkaConnectionSettings().kafka_security()


class KitSettings(KafkaConnectionSettings):
    """Subclass per service, setting `service_name` and adding the service's own settings."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str
    environment: Literal["production", "development"] = Field(
        "production",
        validation_alias=_env("MARKETPLACE_ENV"),
        description="`development` only in the development stack, which sets it: there the "
        "gateway serves `/docs` (its pages load scripts from a CDN) and payments accepts the "
        "development webhook secret; anything else runs as production",
    )
    database_url: str = Field(
        "",
        validation_alias=_env("DATABASE_URL"),
        description="SQLAlchemy async URL; empty means an SQLite file under data_dir",
    )
    data_dir: str = Field("data", validation_alias=_env("MARKETPLACE_DATA_DIR"))
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias=_env("KAFKA_BOOTSTRAP_SERVERS")
    )
    kafka_idempotence: bool = Field(
        False,
        validation_alias=_env("KAFKA_IDEMPOTENCE"),
        description="Idempotent producer; Apache Kafka supports it, the embedded broker does not",
    )
    clock: Literal["system", "manual"] = Field("system", validation_alias=_env("MARKETPLACE_CLOCK"))
    clock_start: AwareDatetime | None = Field(
        None, validation_alias=_env("MARKETPLACE_CLOCK_START")
    )
    relay_request_timeout_ms: int = Field(
        30000,
        ge=1000,
        validation_alias=_env("RELAY_REQUEST_TIMEOUT_MS"),
        description="How long the relay waits for the broker to acknowledge a batch before it "
        "gives up and publishes the batch again",
    )
    kafka_session_timeout_ms: int = Field(
        10000,
        ge=1000,
        validation_alias=_env("KAFKA_SESSION_TIMEOUT_MS"),
        description="How long the group waits for a silent consumer before handing its "
        "partitions to the others",
    )
    kafka_fetch_max_wait_ms: int = Field(
        500,
        ge=0,
        validation_alias=_env("KAFKA_FETCH_MAX_WAIT_MS"),
        description="How long the broker may hold a consumer's fetch waiting for records. "
        "Kafka answers as soon as a record arrives; the embedded broker holds most of it, so "
        "the development stack asks for less",
    )
    failpoints: str = Field(
        "",
        validation_alias=_env("MARKETPLACE_FAILPOINTS"),
        description="Faults the reliability suite injects (servicekit.failpoints); never set "
        "it in production",
    )
    consumer_batch_size: int = Field(500, ge=1, validation_alias=_env("CONSUMER_BATCH_SIZE"))
    relay_batch_size: int = Field(500, ge=1, validation_alias=_env("RELAY_BATCH_SIZE"))
    relay_poll_seconds: float = Field(0.5, gt=0, validation_alias=_env("RELAY_POLL_SECONDS"))
    relay_enabled: bool = Field(
        True,
        validation_alias=_env("RELAY_ENABLED"),
        description="False holds outgoing events in the outbox (an operator's brake); they "
        "are published once a process with the relay enabled runs",
    )
    handler_attempts: int = Field(3, ge=1, validation_alias=_env("HANDLER_ATTEMPTS"))
    timer_interval_seconds: float = Field(
        1.0, gt=0, validation_alias=_env("TIMER_INTERVAL_SECONDS")
    )
    internal_token: str = Field(
        "",
        validation_alias=_env("MARKETPLACE_INTERNAL_TOKEN"),
        description="Shared secret the gateway sends with each forwarded request; services "
        "refuse requests without it, so an identity cannot be claimed by calling them directly",
    )
    open_internal_api: bool = Field(
        False,
        validation_alias=_env("MARKETPLACE_OPEN_INTERNAL_API"),
        description="Run without MARKETPLACE_INTERNAL_TOKEN, trusting any forwarded identity "
        "(only where nothing but the gateway can reach the services)",
    )
    log_level: str = Field("INFO", validation_alias=_env("LOG_LEVEL"))
    log_format: Literal["json", "console"] = Field("json", validation_alias=_env("LOG_FORMAT"))

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir}/{self.service_name}.db"

    def make_clock(self) -> Clock:
        if self.clock == "manual":
            return ManualClock(self.clock_start)
        return SystemClock()
