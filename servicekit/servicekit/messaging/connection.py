"""How every client the kit builds authenticates to the broker, read from the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.messaging.broker import KafkaSecurity


def env_names(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class KafkaConnectionSettings(BaseSettings):
    """How every client the kit builds (consumers, the relay's producer, the admin and the
    operators' tools in `servicekit.operations.ops`) authenticates to the broker. PLAINTEXT is
    for the development stack only, on loopback; compose and Kubernetes run SASL_SSL with one
    SCRAM user per service, whose ACLs allow only what that service does."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        validation_alias=env_names("KAFKA_SECURITY_PROTOCOL"),
        description="SASL_SSL in production; PLAINTEXT only for the development stack",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        "SCRAM-SHA-512", validation_alias=env_names("KAFKA_SASL_MECHANISM")
    )
    kafka_sasl_username: str = Field("", validation_alias=env_names("KAFKA_SASL_USERNAME"))
    kafka_sasl_password: SecretStr = Field(
        SecretStr(""), validation_alias=env_names("KAFKA_SASL_PASSWORD")
    )
    kafka_ssl_cafile: str = Field(
        "",
        validation_alias=env_names("KAFKA_SSL_CAFILE"),
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
    (`servicekit.operations.ops`, the `marketplace` command) connect with when not handed any."""
    return KafkaConnectionSettings().kafka_security()
