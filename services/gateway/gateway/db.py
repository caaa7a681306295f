"""The gateway's tables: principals (with hashed tokens) and remembered idempotent requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.domain import StoredRequest
from servicekit.messaging.db import NAMING_CONVENTION, UtcDateTime
from servicekit.messaging.uow import UnitOfWork, repository

metadata = MetaData(naming_convention=NAMING_CONVENTION)

principals = Table(
    "principals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("carrier", String(100), nullable=True),
    Column("token_expires_at", UtcDateTime(), nullable=True),
    Column("token_revoked_at", UtcDateTime(), nullable=True),
)

idempotent_requests = Table(
    "idempotent_requests",
    metadata,
    Column("principal_id", String(40), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=True),
    Column("content_type", String(100), nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("headers", JSON, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False, index=True),
    UniqueConstraint("principal_id", "key"),
)


@dataclass(frozen=True)
class Principal:
    id: str
    role: str
    name: str
    email: str
    created_at: datetime
    carrier: str | None = None  # the carrier a `carrier` principal speaks for
    token_expires_at: datetime | None = None
    token_revoked_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "name": self.name,
            "email": self.email,
            "carrier": self.carrier,
            "expires_at": self.token_expires_at.isoformat() if self.token_expires_at else None,
            "created_at": self.created_at.isoformat(),
        }


def _principal(row: Any) -> Principal:
    return Principal(
        row.id,
        row.role,
        row.name,
        row.email,
        row.created_at,
        row.carrier,
        row.token_expires_at,
        row.token_revoked_at,
    )


class Principals:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, principal: Principal, token_hash: str) -> None:
        await self.session.execute(
            insert(principals).values(
                id=principal.id,
                role=principal.role,
                name=principal.name,
                email=principal.email,
                token_hash=token_hash,
                created_at=principal.created_at,
                carrier=principal.carrier,
                token_expires_at=principal.token_expires_at,
            )
        )

    async def revoke_token(self, principal_id: str, now: datetime) -> None:
        await self.session.execute(
            update(principals)
            .where(principals.c.id == principal_id, principals.c.token_revoked_at.is_(None))
            .values(token_revoked_at=now)
        )

    async def names(self, ids: list[str]) -> dict[str, str]:
        """The display names of these principals (those that exist)."""
        if not ids:
            return {}
        rows = await self.session.execute(
            select(principals.c.id, principals.c.name).where(principals.c.id.in_(ids))
        )
        return {row.id: row.name for row in rows}

    async def by_token_hash(self, token_hash: str) -> Principal | None:
        row = (
            await self.session.execute(
                select(principals).where(principals.c.token_hash == token_hash)
            )
        ).first()
        return _principal(row) if row else None


@dataclass(frozen=True)
class StoredResponse:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]  # the ones a replay must repeat, such as Location


class IdempotentRequests:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, principal_id: str, key: str, fingerprint: str, now: datetime, forget_before: datetime
    ) -> bool:
        """Take the key for this request; False if it was taken before (since `forget_before`:
        a key taken earlier has expired and is taken anew)."""
        await self.session.execute(
            delete(idempotent_requests).where(
                idempotent_requests.c.principal_id == principal_id,
                idempotent_requests.c.key == key,
                idempotent_requests.c.created_at < forget_before,
            )
        )
        try:
            async with self.session.begin_nested():
                await self.session.execute(
                    insert(idempotent_requests).values(
                        principal_id=principal_id, key=key, fingerprint=fingerprint, created_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    async def get(
        self, principal_id: str, key: str
    ) -> tuple[StoredRequest, StoredResponse | None] | None:
        row = (
            await self.session.execute(
                select(idempotent_requests).where(
                    idempotent_requests.c.principal_id == principal_id,
                    idempotent_requests.c.key == key,
                )
            )
        ).first()
        if row is None:
            return None
        completed = row.status is not None
        response = (
            StoredResponse(row.status, row.content_type or "", row.body or b"", row.headers or {})
            if completed
            else None
        )
        return StoredRequest(row.fingerprint, completed), response

    async def complete(self, principal_id: str, key: str, response: StoredResponse) -> None:
        await self.session.execute(
            update(idempotent_requests)
            .where(
                idempotent_requests.c.principal_id == principal_id, idempotent_requests.c.key == key
            )
            .values(
                status=response.status,
                content_type=response.content_type,
                body=response.body,
                headers=response.headers,
            )
        )

    async def purge(self, forget_before: datetime) -> int:
        """Forget every key taken before `forget_before`; how many there were."""
        result = await self.session.execute(
            delete(idempotent_requests).where(idempotent_requests.c.created_at < forget_before)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def release(self, principal_id: str, key: str) -> None:
        await self.session.execute(
            delete(idempotent_requests).where(
                idempotent_requests.c.principal_id == principal_id, idempotent_requests.c.key == key
            )
        )


class GatewayUnit(UnitOfWork):
    """The gateway's unit of work: its repositories, each built once per unit over the unit's
    session (`uow.principals`)."""

    principals = repository(Principals)
    idempotent_requests = repository(IdempotentRequests)
