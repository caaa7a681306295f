"""The services behind the gateway: a request forwarded with the caller's identity, and the
operators' clock moved on each of them."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from fastapi import Request, Response

from gateway.db import Principal
from gateway.domain import Route
from servicekit.hosting.http import problem_response
from servicekit.messaging.context import current_correlation_id

log = structlog.get_logger(__name__)

FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "idempotency-key", "stripe-signature")
FORWARDED_RESPONSE_HEADERS = ("location", "retry-after")


class OutcomeUnknown(Exception):
    """The request reached the service but no answer came back: it may have been applied."""

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service

    def problem(self) -> Response:
        return problem_response(
            504,
            "Outcome unknown",
            f"The {self.service} service did not answer in time; the request may have been "
            "applied. Look it up before trying again, with a new Idempotency-Key: this one "
            "keeps this answer.",
            "outcome-unknown",
        )


class Upstreams:
    """One HTTP client per service; `X-Internal-Token` on every request (when set), so that
    services believe the identity headers only from the gateway."""

    def __init__(
        self, service_urls: dict[str, str], timeout_seconds: float, internal_token: str
    ) -> None:
        self.internal_token = internal_token
        self.clients = {
            name: httpx.AsyncClient(base_url=url, timeout=timeout_seconds)
            for name, url in service_urls.items()
        }

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    async def forward(
        self, request: Request, route: Route, body: bytes, caller: Principal | None
    ) -> Response:
        headers = {
            name: request.headers[name]
            for name in FORWARDED_REQUEST_HEADERS
            if name in request.headers
        }
        # The edge made it acceptable (gateway.edge) and the request context bound it.
        headers["x-correlation-id"] = current_correlation_id()
        if self.internal_token:
            headers["x-internal-token"] = self.internal_token
        if caller is not None:
            headers["x-principal-id"] = caller.id
            headers["x-principal-role"] = caller.role
            if caller.carrier is not None:
                headers["x-principal-carrier"] = caller.carrier
        client = self.clients[route.service]
        try:
            upstream = await client.request(
                request.method,
                # The path arrives decoded; ids may hold any character (control characters
                # included), so it is encoded again for the service, which decodes it alike.
                quote(request.url.path, safe="/"),
                # every value of a repeated parameter (`?status=open&status=escalated`), not
                # only the last one a plain mapping would keep
                params=request.query_params.multi_items(),
                content=body,
                headers=headers,
            )
        except httpx.ConnectError as error:  # nothing reached the service: safe to retry
            log.warning("service unreachable", service=route.service, error=repr(error))
            return problem_response(
                503,
                "Service unavailable",
                f"The {route.service} service is not answering; retry shortly",
                "service-unavailable",
            )
        except httpx.TransportError as error:
            log.warning("no answer from service", service=route.service, error=repr(error))
            raise OutcomeUnknown(route.service) from error
        response_headers = {
            name: upstream.headers[name]
            for name in FORWARDED_RESPONSE_HEADERS
            if name in upstream.headers
        }
        return Response(
            upstream.content,
            status_code=upstream.status_code,
            media_type=upstream.headers.get("content-type"),
            headers=response_headers,
        )

    async def pending(self) -> dict[str, Any]:
        """Each service's work in hand (see `ServiceRuntime.pending`)."""
        headers = {"x-internal-token": self.internal_token} if self.internal_token else {}

        async def ask(name: str, client: httpx.AsyncClient) -> tuple[str, Any]:
            answer = await client.get("/internal/pending", headers=headers)
            answer.raise_for_status()
            return name, answer.json()["pending"]

        return dict(
            await asyncio.gather(*(ask(name, client) for name, client in self.clients.items()))
        )

    async def set_clocks(self, now: str) -> dict[str, Any]:
        """Every service's clock set to `now` (ISO 8601); what each fired because of it."""
        headers = {"x-internal-token": self.internal_token} if self.internal_token else {}

        async def move(name: str, client: httpx.AsyncClient) -> tuple[str, Any]:
            answer = await client.put("/internal/clock", json={"now": now}, headers=headers)
            answer.raise_for_status()
            return name, answer.json()["fired"]

        return dict(
            await asyncio.gather(*(move(name, client) for name, client in self.clients.items()))
        )
