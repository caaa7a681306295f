"""Rate limits at the gateway, with the `limits` library: requests per token, and failed
authentications per client address (a token guessed by trial). Counters live in memory by
default; with several gateway replicas they must live in a shared store (`redis://...`), or
each replica would allow the whole budget on its own.

Called from authentication, not as middleware: only there is it known whether a token is
valid, and whose it is."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from servicekit.hosting.http import Problem


class TooManyRequests(Problem):
    """429 problem details; the app's handler adds `Retry-After`."""

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(
            429,
            "Too many requests",
            detail,
            slug="too-many-requests",
            retry_after_seconds=retry_after_seconds,
        )
        self.retry_after_seconds = retry_after_seconds


def async_storage_uri(uri: str) -> str:
    """`memory://` or `redis://host:6379` as the settings name them, in the form the `limits`
    asyncio storages are looked up by."""
    return uri if uri.startswith("async+") else f"async+{uri}"


class Throttle:
    def __init__(self, *, per_token: str, failed_authentications: str, storage_uri: str) -> None:
        self.per_token: list[RateLimitItem] = parse_many(per_token)
        self.failed_authentications: list[RateLimitItem] = parse_many(failed_authentications)
        self.limiter = SlidingWindowCounterRateLimiter(
            storage_from_string(async_storage_uri(storage_uri))  # type: ignore[arg-type]
        )

    async def failed_authentication(self, address: str) -> None:
        """Count an invalid, expired or revoked token from `address`; beyond the limit the
        answer is 429 instead of 401. Only a token that failed is refused this way: behind an
        ingress every client shares one address, and a valid token must never pay for
        someone else's guesses (its own limit is `request_by`'s)."""
        for limit in self.failed_authentications:
            if not await self.limiter.hit(limit, "failed-authentication", address):
                raise TooManyRequests(
                    "Too many failed authentications from this address; retry later",
                    await self._retry_after(limit, "failed-authentication", address),
                )

    async def request_by(self, principal_id: str) -> None:
        for limit in self.per_token:
            if not await self.limiter.hit(limit, "principal", principal_id):
                raise TooManyRequests(
                    f"More than {limit} requests with this token; retry later",
                    await self._retry_after(limit, "principal", principal_id),
                )

    async def _retry_after(self, limit: RateLimitItem, *identifiers: str) -> int:
        stats = await self.limiter.get_window_stats(limit, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))
