"""The broker credentials in the environment become FastStream's security object and the same
aiokafka arguments for every client the kit builds: the consumers' broker, the relay's
producer, the admin client and the operators' tools."""

import ssl

import certifi
import pytest
from faststream.security import SASLScram512
from pydantic import ValidationError

from servicekit.hosting.settings import KitSettings
from servicekit.messaging.broker import PLAINTEXT, KafkaSecurity, make_broker
from servicekit.messaging.connection import KafkaConnectionSettings
from servicekit.messaging.relay import make_producer
from servicekit.operations import ops

SECURED = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "payments",
    "KAFKA_SASL_PASSWORD": "a-long-random-secret",
    "KAFKA_SSL_CAFILE": certifi.where(),
}


@pytest.fixture
def secured_environment(monkeypatch: pytest.MonkeyPatch) -> KafkaSecurity:
    for name, value in SECURED.items():
        monkeypatch.setenv(name, value)
    return KafkaConnectionSettings().kafka_security()


@pytest.fixture(autouse=True)
def no_broker_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECURED:
        monkeypatch.delenv(name, raising=False)


def test_without_settings_the_development_stack_connects_in_plaintext():
    security = KitSettings(service_name="orders").kafka_security()
    assert security == PLAINTEXT
    assert security.faststream() is None
    assert security.client_options() == {}


def test_sasl_ssl_settings_become_a_scram_512_object_that_verifies_the_broker(
    secured_environment: KafkaSecurity,
):
    security = secured_environment.faststream()
    assert isinstance(security, SASLScram512)
    assert (security.username, security.password) == ("payments", "a-long-random-secret")
    assert security.use_ssl is True
    context = security.ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.get_ca_certs()  # the CA file was loaded
    assert secured_environment.client_options() | {"ssl_context": None} == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "payments",
        "sasl_plain_password": "a-long-random-secret",
        "ssl_context": None,
    }


def test_the_password_is_neither_printed_nor_logged(secured_environment: KafkaSecurity):
    assert "a-long-random-secret" not in repr(secured_environment)
    assert "a-long-random-secret" not in repr(KafkaConnectionSettings())


@pytest.mark.parametrize("missing", ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"])
def test_sasl_without_a_username_or_password_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, missing: str
):
    for name, value in SECURED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        KafkaConnectionSettings().kafka_security()


def test_an_unknown_protocol_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL_PLEASE")
    with pytest.raises(ValidationError):
        KafkaConnectionSettings()


async def test_the_consumers_the_relay_and_the_operators_tools_all_authenticate(
    secured_environment: KafkaSecurity,
):
    def authenticates(client_kwargs: dict) -> bool:
        return (
            client_kwargs["security_protocol"] == "SASL_SSL"
            and client_kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
            and client_kwargs["sasl_plain_username"] == "payments"
            and isinstance(client_kwargs["ssl_context"], ssl.SSLContext)
        )

    broker = make_broker("kafka:9093", service_name="payments", security=secured_environment)
    assert authenticates(broker.config.broker_config.builder.keywords)

    producer = make_producer("kafka:9093", security=secured_environment)
    client = producer.client
    assert authenticates(
        {
            "security_protocol": client._security_protocol,
            "sasl_mechanism": client._sasl_mechanism,
            "sasl_plain_username": client._sasl_plain_username,
            "ssl_context": client._ssl_context,
        }
    )

    # servicekit.operations.ops (the gateway's /v1/ops, the `marketplace` command) is handed no
    # credentials: it takes its environment's.
    consumer = ops._consumer("kafka:9093")
    client = consumer._client
    assert authenticates(
        {
            "security_protocol": client._security_protocol,
            "sasl_mechanism": client._sasl_mechanism,
            "sasl_plain_username": client._sasl_plain_username,
            "ssl_context": client._ssl_context,
        }
    )
