"""pytest fixtures that start real components.

- `kafka_bootstrap`: `KAFKA_BOOTSTRAP_SERVERS` if set; else a Kafka container through
  testcontainers if a Docker engine answers; else the embedded broker. The platform's topics
  from `deploy/topics.yaml` are created on it.
- `database_url`: a fresh, empty database per test, once on SQLite and once on PostgreSQL
  (`DATABASE_URL`'s server if set, else the machine's PostgreSQL at 127.0.0.1:5432 if it
  answers; the PostgreSQL run is skipped, with the reason, where none answers).
- `stripe_api_base`: a localstripe server for the session.
- `port_plan`: the session's free ports (`devstack.ports`): the embedded broker, localstripe
  and the SMTP catcher listen on them, and so does the end-to-end platform. None is a
  development port, so a test run never collides with `make run` or another test run.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from devstack import components
from devstack.ports import PortPlan
from devstack.processes import Child
from servicekit import ops

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def port_plan() -> PortPlan:
    return PortPlan.free()


@pytest.fixture(scope="session")
def stack_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack-logs")


@pytest.fixture(scope="session")
def kafka_bootstrap(stack_logs: Path, port_plan: PortPlan) -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        bootstrap, child, container = configured, None, None
    elif _docker_answers():
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().with_kraft()
        container.start()
        bootstrap, child = container.get_bootstrap_server(), None
    else:
        child, bootstrap = components.broker(port_plan.broker, log_dir=stack_logs)
        child.start()
        container = None
    try:
        components.wait_for_broker(bootstrap)
        asyncio.run(ops.create_declared_topics(bootstrap, replication_factor=1))
        yield bootstrap
    finally:
        if child:
            child.stop()
        if container:
            container.stop()


def _postgres_server_url() -> str | None:
    configured = os.environ.get("DATABASE_URL", "")
    url = configured if configured.startswith("postgresql") else DEFAULT_POSTGRES

    async def answers() -> bool:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn, timeout=2)
        await connection.close()
        return True

    try:
        return url if asyncio.run(answers()) else None
    except Exception:
        return None


@pytest.fixture(scope="session")
def postgres_server() -> str | None:
    return _postgres_server_url()


async def _admin(server: str, statement: str) -> None:
    dsn = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def fresh_postgres_database(server: str) -> tuple[str, str]:
    name = f"mk_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    return url, name


def drop_postgres_database(server: str, name: str) -> None:
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: str | None
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
        return
    if postgres_server is None:
        pytest.skip("no PostgreSQL answers (set DATABASE_URL or start one on 127.0.0.1:5432)")
    url, name = fresh_postgres_database(postgres_server)
    try:
        yield url
    finally:
        drop_postgres_database(postgres_server, name)


@pytest.fixture(scope="session")
def stripe_api_base(stack_logs: Path, port_plan: PortPlan) -> Iterator[str]:
    child, base = components.localstripe(port_plan.stripe, log_dir=stack_logs)
    child.start()
    try:
        yield base
    finally:
        child.stop()


@pytest.fixture(scope="session")
def smtp_server(
    stack_logs: Path, tmp_path_factory: pytest.TempPathFactory, port_plan: PortPlan
) -> Iterator[tuple[int, Path]]:
    """A real SMTP server; answers its port and the Maildir it keeps messages in."""
    child, port = components.smtp_catcher(
        port_plan.smtp, maildir=tmp_path_factory.mktemp("maildir"), log_dir=stack_logs
    )
    child.start()
    try:
        yield port, Path(child.args[-1])
    finally:
        child.stop()


__all__ = ["Child", "drop_postgres_database", "fresh_postgres_database"]
