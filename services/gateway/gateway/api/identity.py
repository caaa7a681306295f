"""Who is calling: a bearer token authenticates a principal (hashed, expiring, revocable, rate
limited per principal and, for bad tokens, per client address); principals are registered
here and announced to the other services."""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from fastapi import Request

from contracts.principals import PrincipalRegistered
from gateway.db import GatewayUnit, Principal
from gateway.domain import hash_token, new_token, token_fault
from gateway.throttle import Throttle
from servicekit.domain.clock import Clock
from servicekit.hosting.http import Problem
from servicekit.messaging.uow import Database

log = structlog.get_logger(__name__)


def registered(principal: Principal) -> PrincipalRegistered:
    """The event that lets other services (notifications) reach a new principal."""
    return PrincipalRegistered(
        principal_id=principal.id,
        role=principal.role,  # type: ignore[arg-type]
        name=principal.name,
        email=principal.email,
        registered_at=principal.created_at,
    )


def unauthenticated(detail: str) -> Problem:
    return Problem(401, "Unauthenticated", detail, slug="unauthenticated")


def new_principal_id() -> str:
    return f"usr_{uuid.uuid4().hex[:24]}"


class Identity:
    def __init__(self, db: Database[GatewayUnit], clock: Clock, throttle: Throttle) -> None:
        self.db = db
        self.clock = clock
        self.throttle = throttle

    async def authenticate(self, request: Request) -> Principal:
        """The caller of `request`, by its bearer token; 401 (or 429 past the limits) if none."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthenticated("Send `Authorization: Bearer <token>`")
        async with self.db.unit_of_work() as uow:
            caller = await uow.principals.by_token_hash(hash_token(token.strip()))
        fault = (
            "The token is not valid"
            if caller is None
            else token_fault(caller.token_expires_at, caller.token_revoked_at, self.clock.now())
        )
        if fault is not None or caller is None:
            address = request.client.host if request.client else "unknown"
            await self.throttle.failed_authentication(address)
            raise unauthenticated(fault or "The token is not valid")
        await self.throttle.request_by(caller.id)
        return caller

    async def register(
        self,
        role: str,
        name: str,
        email: str,
        *,
        carrier: str | None = None,
        token_expires_at: datetime | None = None,
    ) -> tuple[Principal, str]:
        """A new principal and its token (only its hash is kept), announced to the others."""
        token = new_token()
        principal = Principal(
            new_principal_id(),
            role,
            name,
            email,
            self.clock.now(),
            carrier=carrier,
            token_expires_at=token_expires_at,
        )
        async with self.db.unit_of_work() as uow:
            await uow.principals.add(principal, hash_token(token))
            uow.emit(registered(principal))
            await uow.commit()
        return principal, token

    async def revoke_token(self, caller: Principal) -> None:
        async with self.db.unit_of_work() as uow:
            await uow.principals.revoke_token(caller.id, self.clock.now())
            await uow.commit()

    async def bootstrap_operator(self, operator_token: str) -> None:
        """The first operator: from `operator_token`, or a new token, logged once."""
        generated = not operator_token
        token = operator_token or new_token()
        async with self.db.unit_of_work() as uow:
            principals = uow.principals
            if await principals.by_token_hash(hash_token(token)) is None:
                operator = Principal(
                    new_principal_id(),
                    "operator",
                    "Operator",
                    "operator@localhost",
                    self.clock.now(),
                )
                await principals.add(operator, hash_token(token))
                uow.emit(registered(operator))
            await uow.commit()
        if generated:
            log.warning("no MARKETPLACE_OPERATOR_TOKEN was set; made one", operator_token=token)
