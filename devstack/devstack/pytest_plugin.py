"""pytest fixtures that start real components.

- `kafka_bootstrap`: `KAFKA_BOOTSTRAP_SERVERS` if set; else a Kafka container through
  testcontainers if a Docker engine answers; else the embedded broker. The platform's topics
  from `deploy/topics.yaml` are created on it.
- `database_url`: a fresh, empty database per test, once on SQLite and once on PostgreSQL
  (`DATABASE_URL`'s server if set, else the machine's PostgreSQL at 127.0.0.1:5432 if it
  answers; the PostgreSQL run is skipped, with the reason, where none answers).
- `migrated_database`: the same two runs, for tests that need a service's schema: an empty
  database with the schema in place. Each schema is built once per session and emptied
  before each test (creating and migrating a PostgreSQL database costs about half a second,
  emptying one a few milliseconds; an SQLite file is copied from the session's).
- `stripe_api_base`: a localstripe server for the session.
- `stripe_connect_base`: the Stripe Connect endpoints localstripe lacks (accounts, account
  links, transfers, reversals), in front of that localstripe; every other request is
  forwarded to it, so this one base serves all of Stripe.
- `port_plan`: the session's free ports (`devstack.ports`): the embedded broker, localstripe
  and the SMTP catcher listen on them, and so does the end-to-end platform. None is a
  development port, so a test run never collides with `make run` or another test run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack import components
from devstack.ports import PortPlan
from devstack.processes import Child
from servicekit.messaging.db import make_engine
from servicekit.messaging.migrations import upgrade
from servicekit.operations import ops

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
        connection = await asyncpg.connect(_dsn(url), timeout=2)
        await connection.close()
        return True

    try:
        return url if asyncio.run(answers()) else None
    except Exception:
        return None


@pytest.fixture(scope="session")
def postgres_server() -> str | None:
    return _postgres_server_url()


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(server: str, statement: str) -> None:
    connection = await asyncpg.connect(_dsn(server))
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


# A schema is a service's migrations folder, or a function that creates the tables itself.
Schema = Path | Callable[[AsyncEngine], Awaitable[None]]

# Empties every table but alembic's and restarts every sequence, in one round trip; foreign
# keys are not checked meanwhile (session_replication_role), so the order does not matter.
_EMPTY_POSTGRES = """
DO $$
DECLARE item record;
BEGIN
    SET LOCAL session_replication_role = replica;
    FOR item IN SELECT tablename FROM pg_tables
                WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
        EXECUTE format('DELETE FROM %I', item.tablename);
    END LOOP;
    FOR item IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
        EXECUTE format('ALTER SEQUENCE %I RESTART', item.sequencename);
    END LOOP;
END $$;
"""


async def _create_schema(url: str, schema: Schema) -> None:
    engine = make_engine(url)
    try:
        if isinstance(schema, Path):
            await upgrade(engine, schema)
        else:
            await schema(engine)
    finally:
        await engine.dispose()


class MigratedDatabases:
    """The session's databases with a schema in place, one per schema and kind."""

    def __init__(self, server: str | None, folder: Path) -> None:
        self.server = server
        self.folder = folder
        self.postgres: dict[Schema, tuple[str, str]] = {}
        self.sqlite: dict[Schema, Path] = {}

    async def postgres_url(self, schema: Schema) -> str:
        assert self.server is not None
        if schema not in self.postgres:
            name = f"mk_test_{uuid.uuid4().hex[:12]}"
            await _admin(self.server, f'CREATE DATABASE "{name}"')
            url = make_url(self.server).set(database=name).render_as_string(hide_password=False)
            self.postgres[schema] = (url, name)
            await _create_schema(url, schema)
            return url
        url, _ = self.postgres[schema]
        connection = await asyncpg.connect(_dsn(url))
        try:
            await connection.execute(_EMPTY_POSTGRES)
        finally:
            await connection.close()
        return url

    async def sqlite_url(self, schema: Schema, into: Path) -> str:
        if schema not in self.sqlite:
            built = self.folder / f"{uuid.uuid4().hex[:12]}.db"
            await _create_schema(f"sqlite+aiosqlite:///{built}", schema)
            self.sqlite[schema] = built
        shutil.copyfile(self.sqlite[schema], into)
        return f"sqlite+aiosqlite:///{into}"

    def drop(self) -> None:
        for _, name in self.postgres.values():
            drop_postgres_database(self.server or "", name)


@pytest.fixture(scope="session")
def migrated_databases(
    postgres_server: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MigratedDatabases]:
    databases = MigratedDatabases(postgres_server, tmp_path_factory.mktemp("schemas"))
    try:
        yield databases
    finally:
        databases.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_database(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_server: str | None,
    migrated_databases: MigratedDatabases,
) -> Callable[[Schema], Awaitable[str]]:
    """`await migrated_database(schema)`: the URL of an empty database with `schema` in place."""
    if request.param == "postgresql" and postgres_server is None:
        pytest.skip("no PostgreSQL answers (set DATABASE_URL or start one on 127.0.0.1:5432)")

    async def url_for(schema: Schema) -> str:
        if request.param == "sqlite":
            return await migrated_databases.sqlite_url(schema, tmp_path / "service.db")
        return await migrated_databases.postgres_url(schema)

    return url_for


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


@pytest.fixture(scope="session")
def stripe_connect_base(stack_logs: Path, stripe_api_base: str) -> Iterator[str]:
    """The Stripe Connect endpoints localstripe lacks (`devstack.stripe_connect`), in front of
    the session's localstripe: one base for the SDK, for Connect and everything else."""
    child, base = components.stripe_connect(upstream=stripe_api_base, log_dir=stack_logs)
    child.start()
    try:
        yield base
    finally:
        child.stop()


__all__ = ["Child", "drop_postgres_database", "fresh_postgres_database"]
