"""docker-compose.yml cannot be started here (no Docker engine), so it is read: every service
in it is built from deploy/Dockerfile, has a health check, its own database and role, starts
after what it needs, and is given only settings it actually reads. (The PostgreSQL init script
runs against the real PostgreSQL in integration/test_compose_init_script.py.)"""

import re
import tomllib

import pytest
import yaml

from devstack import manifests
from devstack.deployment import DEPLOYABLES, REPO_ROOT, Deployable

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DEMO_ENV = dict(
    line.split("=", 1)
    for line in (REPO_ROOT / "deploy" / "demo.env").read_text().splitlines()
    if line and not line.startswith("#")
)
# Read by servicekit.operations.topology directly, not through a service's settings.
KIT_ENV = {"MARKETPLACE_TOPICS_FILE"}
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """What compose makes of `${VAR}`, `${VAR:-default}` and `${VAR:?error}`."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise KeyError(f"{name}: {rest}")
        return rest or ""

    return VARIABLE.sub(one, str(value))


def environment(service: Deployable) -> dict[str, str]:
    return {k: interpolate(v, DEMO_ENV) for k, v in SERVICES[service.name]["environment"].items()}


@pytest.mark.parametrize("service", DEPLOYABLES, ids=lambda d: d.name)
def test_each_service_is_built_from_the_one_dockerfile_for_its_own_package(service):
    build = SERVICES[service.name]["build"]
    assert (REPO_ROOT / build["context"] / build["dockerfile"]) == REPO_ROOT / "deploy/Dockerfile"
    assert build["args"]["SERVICE"] == service.package
    assert SERVICES[service.name]["image"].startswith(f"marketplace/{service.name}:")
    # The Dockerfile installs `uv sync --package $(echo $SERVICE | tr _ -)`.
    pyproject = tomllib.loads((REPO_ROOT / service.folder / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == service.package.replace("_", "-")


def test_the_dockerfile_takes_the_service_and_runs_its_app_factory_on_port_8080():
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    assert "ARG SERVICE" in dockerfile
    assert 'uvicorn "${SERVICE}.app:create_app" --factory' in dockerfile
    assert "EXPOSE 8080" in dockerfile
    for service in DEPLOYABLES:
        assert callable(__import__(f"{service.package}.app", fromlist=["create_app"]).create_app)


def test_every_long_running_container_has_a_health_check():
    for name, service in SERVICES.items():
        if service.get("restart") == "no":  # a one-shot job (topic creation)
            continue
        assert service["healthcheck"]["test"], name


@pytest.mark.parametrize("service", DEPLOYABLES, ids=lambda d: d.name)
def test_each_service_has_its_own_database_and_role(service):
    url = environment(service)["DATABASE_URL"]
    match = re.fullmatch(r"postgresql\+asyncpg://(\w+):([^@]+)@postgres:5432/(\w+)", url)
    assert match, url
    role, password, database = match.groups()
    assert role == database == service.package
    postgres = SERVICES["postgres"]["environment"]
    assert service.package in postgres["MARKETPLACE_DATABASES"].split()
    assert interpolate(postgres[f"{service.package.upper()}_DB_PASSWORD"], DEMO_ENV) == password


def test_no_two_services_share_a_database():
    urls = [environment(service)["DATABASE_URL"] for service in DEPLOYABLES]
    assert len(set(urls)) == len(DEPLOYABLES)


@pytest.mark.parametrize("service", DEPLOYABLES, ids=lambda d: d.name)
def test_each_service_is_given_only_settings_it_reads(service):
    given = set(SERVICES[service.name]["environment"])
    assert given <= service.env_names() | KIT_ENV, given - service.env_names()
    assert {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "MARKETPLACE_INTERNAL_TOKEN"} <= given
    assert environment(service)["KAFKA_IDEMPOTENCE"] == "true"


@pytest.mark.parametrize("service", DEPLOYABLES, ids=lambda d: d.name)
def test_each_service_accepts_the_settings_compose_gives_it(service, monkeypatch):
    for name in service.env_names() | KIT_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment(service).items():
        monkeypatch.setenv(name, value)
    settings = service.settings()()
    assert settings.model_dump()["kafka_bootstrap_servers"] == "kafka:9092"
    security = settings.kafka_security()
    assert (security.protocol, security.mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert security.username == manifests.kafka_user_name(service.package)


def test_services_start_after_the_database_the_broker_and_the_topics():
    for service in DEPLOYABLES:
        needs = SERVICES[service.name]["depends_on"]
        assert needs["postgres"]["condition"] == "service_healthy"
        assert needs["kafka"]["condition"] == "service_healthy"
        assert needs["kafka-setup"]["condition"] == "service_completed_successfully"
        assert needs["topics"]["condition"] == "service_completed_successfully"
    gateway_needs = SERVICES["gateway"]["depends_on"]
    for service in DEPLOYABLES:
        if service.name != "gateway":
            assert gateway_needs[service.name]["condition"] == "service_healthy"


def test_the_gateway_reaches_each_service_by_its_compose_name():
    urls = environment(next(d for d in DEPLOYABLES if d.name == "gateway"))
    for service in DEPLOYABLES:
        if service.name != "gateway":
            assert urls[f"{service.package.upper()}_URL"] == f"http://{service.name}:8080"


def test_topics_are_created_from_topics_yaml_before_anything_consumes():
    topics = SERVICES["topics"]
    assert topics["command"][:2] == ["marketplace", "create-topics"]
    assert SERVICES["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_the_demo_profile_brings_stripe_and_mail_and_fills_every_required_variable():
    assert DEMO_ENV["COMPOSE_PROFILES"] == "demo"
    assert SERVICES["localstripe"]["profiles"] == ["demo"]
    assert SERVICES["mailcatcher"]["profiles"] == ["demo"]
    for service in SERVICES.values():
        for value in (service.get("environment") or {}).values():
            interpolate(value, DEMO_ENV)  # raises on a required variable the demo lacks
    assert environment(DEPLOYABLES[1])["STRIPE_API_BASE"] == "http://localstripe:8420"


def test_without_the_operator_secrets_compose_refuses_to_start():
    with pytest.raises(KeyError, match="STRIPE_API_KEY"):
        interpolate(SERVICES["payments"]["environment"]["STRIPE_API_KEY"], {})
    with pytest.raises(KeyError, match="MARKETPLACE_INTERNAL_TOKEN"):
        interpolate(SERVICES["orders"]["environment"]["MARKETPLACE_INTERNAL_TOKEN"], {})


# The broker is not a back door


def kafka_settings() -> dict[str, str]:
    return {k: str(v) for k, v in SERVICES["kafka"]["environment"].items()}


def test_the_broker_takes_clients_only_over_sasl_ssl_with_scram_and_enforces_acls():
    kafka = kafka_settings()
    protocols = dict(
        pair.split(":") for pair in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    listeners = dict(entry.split("://") for entry in kafka["KAFKA_LISTENERS"].split(","))
    for name, address in listeners.items():
        if name == kafka["KAFKA_CONTROLLER_LISTENER_NAMES"]:
            assert address.startswith("localhost:"), "the controller must stay in the container"
        else:
            assert protocols[name] == "SASL_SSL", name
    assert kafka["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert kafka["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert kafka["KAFKA_SUPER_USERS"] == "User:admin;User:ANONYMOUS"
    assert kafka["KAFKA_SSL_KEYSTORE_LOCATION"].startswith("/tls/")


def test_nothing_is_published_beyond_the_hosts_loopback():
    published = [
        (name, str(port)) for name, service in SERVICES.items() for port in service.get("ports", [])
    ]
    assert published
    for name, port in published:
        assert port.startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


@pytest.mark.parametrize("service", DEPLOYABLES, ids=lambda d: d.name)
def test_each_service_is_its_own_broker_user_checking_the_brokers_certificate(service):
    env = environment(service)
    user = manifests.kafka_user_name(service.package)
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert env["KAFKA_SASL_USERNAME"] == user
    # the password given to the service is the one kafka-setup gives its user
    variable = manifests.compose_password_variable(user)
    setup = SERVICES["kafka-setup"]["environment"]
    assert env["KAFKA_SASL_PASSWORD"] == interpolate(setup[variable], DEMO_ENV)
    assert f'user {user} "${{{variable}:?' in ACL_SCRIPT
    assert "kafka-ca:/kafka-ca:ro" in SERVICES[service.name]["volumes"]
    assert env["KAFKA_SSL_CAFILE"] == "/kafka-ca/ca.crt"
    # the broker's private key stays with the broker
    assert not any(str(v).startswith("kafka-tls:") for v in SERVICES[service.name]["volumes"])


def test_no_two_services_share_a_broker_password():
    passwords = [environment(service)["KAFKA_SASL_PASSWORD"] for service in DEPLOYABLES]
    assert len(set(passwords)) == len(DEPLOYABLES)


ACL_SCRIPT = (REPO_ROOT / manifests.COMPOSE_ACL_SCRIPT).read_text()


def test_kafka_setup_runs_the_generated_users_and_acls_as_the_admin():
    setup = SERVICES["kafka-setup"]
    assert setup["entrypoint"][-1].endswith("setup-users-and-acls.sh")
    mounted = {v.split(":")[1]: v.split(":")[0] for v in setup["volumes"]}
    assert (
        REPO_ROOT / mounted[setup["entrypoint"][-1]]
    ) == REPO_ROOT / manifests.COMPOSE_ACL_SCRIPT
    assert manifests.render()[manifests.COMPOSE_ACL_SCRIPT] == ACL_SCRIPT
    needed = set(re.findall(r"\$\{(KAFKA_\w+_PASSWORD):\?", ACL_SCRIPT))
    assert needed <= set(setup["environment"]), needed - set(setup["environment"])
    assert setup["depends_on"]["kafka"]["condition"] == "service_healthy"


SECRET = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY")


def test_no_secret_has_a_usable_default():
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            for variable, kind, _ in VARIABLE.findall(str(value)):
                if SECRET.search(variable):
                    assert kind == "?", f"{name}: {key} falls back to a default for {variable}"
    # the script checks each variable it reads once (`: "${X:?}"` or at its first use)
    used = {variable for variable, _, _ in VARIABLE.findall(ACL_SCRIPT) if variable.isupper()}
    required = {variable for variable, kind, _ in VARIABLE.findall(ACL_SCRIPT) if kind == "?"}
    assert used == required, used - required
    assert not [kind for _, kind, _ in VARIABLE.findall(ACL_SCRIPT) if kind == "-"]


def test_without_the_broker_secrets_compose_refuses_to_start():
    for service in DEPLOYABLES:
        with pytest.raises(KeyError, match="KAFKA_"):
            interpolate(SERVICES[service.name]["environment"]["KAFKA_SASL_PASSWORD"], {})
    with pytest.raises(KeyError, match="KAFKA_ADMIN_PASSWORD"):
        interpolate(kafka_settings()["KAFKA_ADMIN_PASSWORD"], {})
