"""Engines for SQLite and PostgreSQL, and the outbox and inbox tables every service has.

The outbox holds events (and dead letters) written in the same transaction as the state
that caused them; the relay publishes them and deletes them once Kafka has them (a row in the
outbox is an event not yet published). The inbox holds the id of every event a service
has handled, so a redelivered event is recognised and skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Insert,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    event,
    insert,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database. SQLite keeps no zone, so values
    are stored in UTC and given their zone back when read; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times must carry a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


kit_metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants a bigint identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox",
    kit_metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("topic", String(255), nullable=False),
    Column("message_key", String(255), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(255), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

inbox = Table(
    "inbox",
    kit_metadata,
    Column("event_id", String(64), primary_key=True),
    Column("event_type", String(255), nullable=False),
    Column("topic", String(255), nullable=False),
    Column("handled_at", UtcDateTime(), nullable=False),
)


def is_sqlite(engine_or_url: AsyncEngine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, AsyncEngine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine with the settings the kit relies on.

    SQLite: WAL, a busy timeout, and `BEGIN IMMEDIATE` so that savepoints work and a
    transaction that will write takes the write lock up front instead of failing half-way.
    """
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if not is_sqlite(url):
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "busy_timeout=30000",
            "foreign_keys=ON",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def insert_ignoring_duplicates(
    bind: AsyncSession | AsyncEngine | AsyncConnection | None, table: Table
) -> Insert:
    """`INSERT ... ON CONFLICT DO NOTHING` in the dialect of `bind`: a session, or what it is
    bound to (`session.bind`, which is None only for a session bound to nothing)."""
    if bind is None:
        raise ValueError("a session bound to no engine has no dialect to insert in")
    dialect = (bind.get_bind() if isinstance(bind, AsyncSession) else bind).dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table).prefix_with("IGNORE")


async def insert_or_ignore(session: AsyncSession, table: Table, /, **values: Any) -> bool:
    """Insert one row unless its key is taken; answer whether it was inserted."""
    result = await session.execute(insert_ignoring_duplicates(session, table).values(**values))
    # DML answers a CursorResult; SQLAlchemy's signature promises only a Result.
    return bool(cast(CursorResult[Any], result).rowcount)


def _postgres_array_type(column: Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, UtcDateTime | DateTime):
        return "timestamptz[]"
    if isinstance(kind, LargeBinary):
        return "bytea[]"
    if isinstance(kind, Integer | BigInteger):
        return "bigint[]"
    return "text[]"


async def insert_rows(
    session: AsyncSession,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    ignore_duplicates: bool = False,
    returning: Column[Any] | None = None,
) -> list[Any]:
    """Insert many rows in one round trip; answer the `returning` column of the rows inserted.

    On PostgreSQL the rows travel as one array per column (`INSERT ... SELECT FROM unnest`),
    which costs far less per row than SQLAlchemy's per-row parameter processing; this is the
    hot path of every consumer batch (inbox) and every commit with events (outbox). Elsewhere
    it is a plain executemany.
    """
    if not rows:
        return []
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        statement = (
            insert_ignoring_duplicates(session, table) if ignore_duplicates else insert(table)
        )
        if returning is None:
            await session.execute(statement, rows)
            return []
        return [row[0] for row in await session.execute(statement.returning(returning), rows)]
    columns = list(rows[0])
    arrays, selected, params = [], [], {}
    for index, name in enumerate(columns):
        column = table.c[name]
        values = [row[name] for row in rows]
        if isinstance(column.type, JSON):
            values = [_json_dumps(value) for value in values]
            arrays.append(f"CAST(:p{index} AS text[])")
            selected.append(f"CAST(u.c{index} AS json)")
        else:
            if isinstance(column.type, UtcDateTime):
                values = [column.type.process_bind_param(v, bind.dialect) for v in values]
            arrays.append(f"CAST(:p{index} AS {_postgres_array_type(column)})")
            selected.append(f"u.c{index}")
        params[f"p{index}"] = values
    aliases = ", ".join(f"c{index}" for index in range(len(columns)))
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS u({aliases})"
    )
    if ignore_duplicates:
        sql += " ON CONFLICT DO NOTHING"
    if returning is None:
        await session.execute(text(sql), params)
        return []
    result = await session.execute(text(f"{sql} RETURNING {returning.name}"), params)
    return [row[0] for row in result]
