"""What the API's routes share, made once per process (`gateway.app`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gateway.api.idempotency import IdempotencyKeys
from gateway.api.identity import Identity
from gateway.api.upstreams import Upstreams
from gateway.db import GatewayUnit
from gateway.settings import GatewaySettings
from gateway.throttle import Throttle
from servicekit.domain.clock import Clock
from servicekit.messaging.uow import Database


class Gateway:
    """The settings, database and clock, and the three parts that act on a request: `identity`
    (tokens, principals, rate limits), `idempotency_keys` and the `upstreams` it forwards to."""

    def __init__(
        self,
        settings: GatewaySettings,
        db: Database[GatewayUnit],
        clock: Clock,
        *,
        own_pending: Callable[[], Awaitable[dict[str, int]]] | None = None,
    ) -> None:
        """`own_pending`: the gateway's own work in hand (its outbox of principal events)."""
        self.settings = settings
        self.own_pending = own_pending
        self.db = db
        self.clock = clock
        throttle = Throttle(
            per_token=settings.rate_limit_per_token,
            failed_authentications=settings.rate_limit_failed_authentications,
            storage_uri=settings.rate_limit_storage_uri,
        )
        self.identity = Identity(db, clock, throttle)
        self.idempotency_keys = IdempotencyKeys(db, clock, settings.idempotency_key_ttl_seconds)
        self.upstreams = Upstreams(
            settings.service_urls(), settings.upstream_timeout_seconds, settings.internal_token
        )

    async def bootstrap_operator(self) -> None:
        """The first operator: from MARKETPLACE_OPERATOR_TOKEN, or a new token, logged once."""
        await self.identity.bootstrap_operator(self.settings.operator_token)

    async def close(self) -> None:
        await self.upstreams.close()
