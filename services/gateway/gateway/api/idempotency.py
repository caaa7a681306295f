"""`Idempotency-Key` promises: a POST with a key is answered once per caller and key; a repeat
with the same body gets the first answer again, a repeat with another body is refused."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response

from gateway.api.upstreams import FORWARDED_RESPONSE_HEADERS, OutcomeUnknown
from gateway.db import GatewayUnit, Principal, StoredResponse
from gateway.domain import Repeat, classify_repeat, idempotency_cutoff, request_fingerprint
from servicekit.domain.clock import Clock
from servicekit.hosting.http import Problem
from servicekit.messaging.uow import Database

# Declared on every POST the gateway keeps `Idempotency-Key` promises for: its own
# `POST /v1/principals`, the forwarded ones in the generated public OpenAPI document.
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A repeat with the same key and body gets the first answer again and does "
    "nothing; the same key with another body is 422.",
    "schema": {"type": "string", "maxLength": 255},
}

# How often, at most, one gateway process deletes expired idempotency keys in bulk.
PURGE_EVERY_SECONDS = 300.0


def remembered_as_sent(body: bytes) -> bytes:
    return body


class IdempotencyKeys:
    def __init__(self, db: Database[GatewayUnit], clock: Clock, ttl_seconds: float) -> None:
        self.db = db
        self.clock = clock
        self.ttl_seconds = ttl_seconds
        self._next_purge = 0.0  # time.monotonic() of the next bulk purge of expired keys

    async def answer_once(
        self,
        request: Request,
        caller: Principal,
        body: bytes,
        produce: Callable[[], Awaitable[Response]],
        *,
        remember: Callable[[bytes], bytes] = remembered_as_sent,
    ) -> Response:
        """Run `produce` once per `Idempotency-Key`: a repeat with the same body gets the first
        answer again, a repeat with another body is refused."""
        key = request.headers.get("idempotency-key")
        if request.method != "POST" or not key:
            try:
                return await produce()
            except OutcomeUnknown as unknown:
                return unknown.problem()
        if len(key) > 255:
            raise Problem(
                422,
                "Invalid request",
                "Idempotency-Key is at most 255 characters",
                slug="validation-error",
            )
        fingerprint = request_fingerprint(request.method, request.url.path, body)
        now = self.clock.now()
        forget_before = idempotency_cutoff(now, self.ttl_seconds)
        async with self.db.unit_of_work() as uow:
            requests = uow.idempotent_requests
            if time.monotonic() >= self._next_purge:
                self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
                await requests.purge(forget_before)
            claimed = await requests.claim(caller.id, key, fingerprint, now, forget_before)
            stored = None if claimed else await requests.get(caller.id, key)
            await uow.commit()
        if not claimed:
            return self._repeat(stored, fingerprint)
        try:
            response = await produce()
        except OutcomeUnknown as unknown:
            # Releasing the key would let a retry apply the request twice, and leaving it
            # "in progress" would answer 409 "retry shortly" for ever: a retry gets this.
            response = unknown.problem()
        except BaseException:
            await self._release(caller.id, key)
            raise
        else:
            if response.status_code >= 500:
                await self._release(caller.id, key)
                return response
        async with self.db.unit_of_work() as uow:
            await uow.idempotent_requests.complete(
                caller.id,
                key,
                StoredResponse(
                    response.status_code,
                    response.media_type or "application/json",
                    remember(bytes(response.body))
                    if response.status_code < 300
                    else bytes(response.body),
                    {k: v for k, v in response.headers.items() if k in FORWARDED_RESPONSE_HEADERS},
                ),
            )
            await uow.commit()
        return response

    def _repeat(self, stored: Any, fingerprint: str) -> Response:
        request_info, response = stored if stored else (None, None)
        repeat = classify_repeat(request_info, fingerprint) if request_info else Repeat.IN_PROGRESS
        if repeat is Repeat.MISMATCH:
            raise Problem(
                422,
                "Idempotency key reused",
                "This Idempotency-Key was used for a different request",
                slug="idempotency-key-reused",
            )
        if repeat is Repeat.IN_PROGRESS or response is None:
            raise Problem(
                409,
                "Request in progress",
                "A request with this Idempotency-Key is still being processed; retry shortly",
                slug="idempotency-key-in-progress",
            )
        return Response(
            response.body,
            status_code=response.status,
            media_type=response.content_type,
            headers=response.headers | {"Idempotent-Replayed": "true"},
        )

    async def _release(self, principal_id: str, key: str) -> None:
        async with self.db.unit_of_work() as uow:
            await uow.idempotent_requests.release(principal_id, key)
            await uow.commit()
