"""The public API's front door: authenticates the caller, keeps `Idempotency-Key` promises,
serves principals and the operator's clock, and forwards everything else to the service that
owns it, with the caller's identity."""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
import structlog
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from contracts.principals import PrincipalRegistered
from gateway.db import IdempotentRequests, Principal, Principals, StoredResponse
from gateway.domain import (
    Repeat,
    Route,
    classify_repeat,
    has_dot_segments,
    hash_token,
    new_token,
    request_fingerprint,
    route_for,
)
from gateway.settings import GatewaySettings
from servicekit import ops, topology
from servicekit.clock import Clock, ManualClock
from servicekit.http import Problem, forbidden, problem_response
from servicekit.uow import Database

log = structlog.get_logger(__name__)

PROXIED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "idempotency-key", "stripe-signature")
FORWARDED_RESPONSE_HEADERS = ("location", "retry-after")

# Declared on every POST the gateway keeps `Idempotency-Key` promises for: its own
# `POST /v1/principals` here, the forwarded ones in the generated public OpenAPI document.
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A repeat with the same key and body gets the first answer again and does "
    "nothing; the same key with another body is 422.",
    "schema": {"type": "string", "maxLength": 255},
}


def registered(principal: Principal) -> PrincipalRegistered:
    """The event that lets other services (notifications) reach a new principal."""
    return PrincipalRegistered(
        principal_id=principal.id,
        role=principal.role,  # type: ignore[arg-type]
        name=principal.name,
        email=principal.email,
        registered_at=principal.created_at,
    )


class NewPrincipal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["buyer", "seller", "agent", "operator", "carrier"]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: EmailStr


class ClockAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(gt=0, le=400 * 86400)


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


def without_token(body: bytes) -> bytes:
    """A new principal's answer as it is remembered for repeats: the token is shown once."""
    principal = json.loads(body)
    principal["token"] = None
    return json.dumps(principal).encode()


def unauthenticated(detail: str) -> Problem:
    return Problem(401, "Unauthenticated", detail, slug="unauthenticated")


class Gateway:
    def __init__(self, settings: GatewaySettings, db: Database, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.clients = {
            name: httpx.AsyncClient(base_url=url, timeout=settings.upstream_timeout_seconds)
            for name, url in settings.service_urls().items()
        }

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    async def bootstrap_operator(self) -> None:
        """The first operator: from MARKETPLACE_OPERATOR_TOKEN, or a new token, logged once."""
        token = self.settings.operator_token
        generated = not token
        token = token or new_token()
        async with self.db.unit_of_work() as uow:
            principals = Principals(uow.session)
            if await principals.by_token_hash(hash_token(token)) is None:
                operator = Principal(
                    f"usr_{uuid.uuid4().hex[:24]}",
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

    async def authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthenticated("Send `Authorization: Bearer <token>`")
        async with self.db.unit_of_work() as uow:
            principal = await Principals(uow.session).by_token_hash(hash_token(token.strip()))
        if principal is None:
            raise unauthenticated("The token is not valid")
        return principal

    async def idempotently(
        self,
        request: Request,
        principal: Principal,
        body: bytes,
        produce: Callable[[], Awaitable[Response]],
        *,
        remember: Callable[[bytes], bytes] = lambda body: body,
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
        async with self.db.unit_of_work() as uow:
            requests = IdempotentRequests(uow.session)
            claimed = await requests.claim(principal.id, key, fingerprint, self.clock.now())
            stored = None if claimed else await requests.get(principal.id, key)
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
            await self._release(principal.id, key)
            raise
        else:
            if response.status_code >= 500:
                await self._release(principal.id, key)
                return response
        async with self.db.unit_of_work() as uow:
            await IdempotentRequests(uow.session).complete(
                principal.id,
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
            await IdempotentRequests(uow.session).release(principal_id, key)
            await uow.commit()

    async def forward(
        self, request: Request, route: Route, body: bytes, principal: Principal | None
    ) -> Response:
        headers = {
            name: request.headers[name]
            for name in FORWARDED_REQUEST_HEADERS
            if name in request.headers
        }
        headers["x-correlation-id"] = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        if self.settings.internal_token:
            headers["x-internal-token"] = self.settings.internal_token
        if principal is not None:
            headers["x-principal-id"] = principal.id
            headers["x-principal-role"] = principal.role
        client = self.clients[route.service]
        try:
            upstream = await client.request(
                request.method,
                # The path arrives decoded; ids may hold any character (control characters
                # included), so it is encoded again for the service, which decodes it alike.
                quote(request.url.path, safe="/"),
                params=request.query_params,
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

    async def advance_clock(self, seconds: float) -> dict[str, Any]:
        if not isinstance(self.clock, ManualClock):
            raise Problem(
                409,
                "Clock is not manual",
                "Start the stack with MARKETPLACE_CLOCK=manual to move time",
                slug="clock-not-manual",
            )
        now = self.clock.advance(seconds)
        headers = (
            {"x-internal-token": self.settings.internal_token}
            if self.settings.internal_token
            else {}
        )

        async def move(name: str, client: httpx.AsyncClient) -> tuple[str, Any]:
            answer = await client.put(
                "/internal/clock", json={"now": now.isoformat()}, headers=headers
            )
            answer.raise_for_status()
            return name, answer.json()["fired"]

        fired = dict(
            await asyncio.gather(*(move(name, client) for name, client in self.clients.items()))
        )
        return {"now": now.isoformat(), "fired": fired}


def build_router(gateway: Gateway) -> APIRouter:
    router = APIRouter()

    async def caller(request: Request) -> Principal:
        return await gateway.authenticate(request)

    CallerDep = Annotated[Principal, Depends(caller)]

    @router.post(
        "/v1/principals",
        status_code=201,
        openapi_extra={"parameters": [IDEMPOTENCY_KEY_PARAMETER]},
    )
    async def create_principal(new: NewPrincipal, request: Request, who: CallerDep) -> Response:
        if who.role != "operator":
            raise forbidden("Only operators create principals")
        body = await request.body()

        async def create() -> Response:
            token = new_token()
            principal = Principal(
                f"usr_{uuid.uuid4().hex[:24]}",
                new.role,
                new.name,
                str(new.email),
                gateway.clock.now(),
            )
            async with gateway.db.unit_of_work() as uow:
                await Principals(uow.session).add(principal, hash_token(token))
                uow.emit(registered(principal))
                await uow.commit()
            return JSONResponse(principal.public() | {"token": token}, status_code=201)

        return await gateway.idempotently(request, who, body, create, remember=without_token)

    @router.get("/v1/me")
    async def me(who: CallerDep) -> dict[str, Any]:
        return who.public()

    @router.get("/v1/ops/clock")
    async def read_clock(who: CallerDep) -> dict[str, Any]:
        if who.role != "operator":
            raise forbidden("Only operators read the platform clock")
        return {
            "now": gateway.clock.now().isoformat(),
            "manual": isinstance(gateway.clock, ManualClock),
        }

    @router.post("/v1/ops/clock/advance")
    async def advance_clock(move: ClockAdvance, who: CallerDep) -> dict[str, Any]:
        if who.role != "operator":
            raise forbidden("Only operators move the clock")
        return await gateway.advance_clock(move.seconds)

    @router.get("/v1/ops/consumers")
    async def consumers(who: CallerDep) -> dict[str, Any]:
        """Each consumer group's lag per topic and partition (from `deploy/topics.yaml`)."""
        if who.role != "operator":
            raise forbidden("Only operators watch the consumers")
        bootstrap = gateway.settings.kafka_bootstrap_servers
        groups = []
        for group, topics in sorted(topology.consumer_groups().items()):
            rows = await ops.lag(bootstrap, group, topics)
            groups.append(
                {
                    "group": group,
                    "lag": sum(r.lag for r in rows),
                    "partitions": [
                        {
                            "topic": r.topic,
                            "partition": r.partition,
                            "committed": r.committed,
                            "end": r.end,
                            "lag": r.lag,
                        }
                        for r in rows
                    ],
                }
            )
        return {"groups": groups}

    @router.get("/v1/ops/dead-letters")
    async def dead_letters(who: CallerDep) -> dict[str, Any]:
        if who.role != "operator":
            raise forbidden("Only operators read dead letters")
        letters = await ops.dead_letters(gateway.settings.kafka_bootstrap_servers)
        return {"items": [letter.summary() for letter in letters]}

    @router.post("/v1/ops/dead-letters/{letter_id}/replay", status_code=202)
    async def replay_dead_letter(letter_id: str, who: CallerDep) -> dict[str, Any]:
        """Publish the dead letter again on its origin topic; consumers deduplicate by event
        id, so replaying something handled meanwhile changes nothing."""
        if who.role != "operator":
            raise forbidden("Only operators replay dead letters")
        bootstrap = gateway.settings.kafka_bootstrap_servers
        letter = next((d for d in await ops.dead_letters(bootstrap) if d.id == letter_id), None)
        if letter is None:
            raise Problem(404, "Not found", f"No dead letter {letter_id}", slug="not-found")
        await ops.replay(bootstrap, letter)
        return {"replayed": letter.id, "onto": letter.origin_topic}

    # Not an operation of its own: the public document lists what it forwards instead.
    @router.api_route("/v1/{path:path}", methods=list(PROXIED_METHODS), include_in_schema=False)
    async def proxy(request: Request) -> Response:
        route = route_for(request.url.path)
        if route is None or has_dot_segments(request.url.path):
            raise Problem(
                404, "Not found", f"No such endpoint: {request.url.path}", slug="not-found"
            )
        body = await request.body()
        if route.public:
            return await gateway.forward(request, route, body, None)
        principal = await gateway.authenticate(request)
        return await gateway.idempotently(
            request, principal, body, lambda: gateway.forward(request, route, body, principal)
        )

    return router
