"""The public API's front door: authenticates the caller, keeps `Idempotency-Key` promises,
serves principals and the operator's clock, and forwards everything else to the service that
owns it, with the caller's identity."""

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
import structlog
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from contracts.principals import PrincipalRegistered
from contracts.text import control_character_fault
from gateway.db import IdempotentRequests, Principal, Principals, StoredResponse
from gateway.domain import (
    Repeat,
    Route,
    classify_repeat,
    expiry_fault,
    has_dot_segments,
    hash_token,
    idempotency_cutoff,
    new_token,
    request_fingerprint,
    route_for,
    token_fault,
)
from gateway.settings import GatewaySettings
from gateway.throttle import Throttle
from servicekit import ops, topology
from servicekit.clock import Clock, ManualClock
from servicekit.context import current_correlation_id
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


# How often, at most, one gateway process deletes expired idempotency keys in bulk.
PURGE_EVERY_SECONDS = 300.0


def _one_line(value: Any) -> Any:
    """Checked before surrounding blanks are stripped: "Bob\\r\\n" is refused, not trimmed."""
    if isinstance(value, str) and (fault := control_character_fault(value, multiline=False)):
        raise ValueError(fault)
    return value


# Names end up in e-mail headers and pages: one line of plain text.
OneLine = BeforeValidator(_one_line)


class NewPrincipal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["buyer", "seller", "agent", "operator", "carrier"]
    name: Annotated[
        str, OneLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    email: Annotated[EmailStr, OneLine]
    carrier: (
        Annotated[
            str, OneLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
        ]
        | None
    ) = Field(None, description="The carrier a `carrier` principal speaks for, such as DHL")
    expires_at: AwareDatetime | None = Field(
        None, description="When the token stops authenticating; never when absent"
    )

    @model_validator(mode="after")
    def _carrier_for_carriers_only(self) -> "NewPrincipal":
        if self.role == "carrier" and self.carrier is None:
            raise ValueError("a carrier principal names its carrier (`carrier`, such as DHL)")
        if self.role != "carrier" and self.carrier is not None:
            raise ValueError("only a carrier principal names a carrier")
        return self


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
        self.throttle = Throttle(
            per_token=settings.rate_limit_per_token,
            failed_authentications=settings.rate_limit_failed_authentications,
            storage_uri=settings.rate_limit_storage_uri,
        )
        self._next_purge = 0.0  # time.monotonic() of the next bulk purge of expired keys
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
        fault = (
            "The token is not valid"
            if principal is None
            else token_fault(
                principal.token_expires_at, principal.token_revoked_at, self.clock.now()
            )
        )
        if fault is not None or principal is None:
            address = request.client.host if request.client else "unknown"
            await self.throttle.failed_authentication(address)
            raise unauthenticated(fault or "The token is not valid")
        await self.throttle.request_by(principal.id)
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
        now = self.clock.now()
        forget_before = idempotency_cutoff(now, self.settings.idempotency_key_ttl_seconds)
        async with self.db.unit_of_work() as uow:
            requests = IdempotentRequests(uow.session)
            if time.monotonic() >= self._next_purge:
                self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
                await requests.purge(forget_before)
            claimed = await requests.claim(principal.id, key, fingerprint, now, forget_before)
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
        # The edge made it acceptable (gateway.edge) and the request context bound it.
        headers["x-correlation-id"] = current_correlation_id()
        if self.settings.internal_token:
            headers["x-internal-token"] = self.settings.internal_token
        if principal is not None:
            headers["x-principal-id"] = principal.id
            headers["x-principal-role"] = principal.role
            if principal.carrier is not None:
                headers["x-principal-carrier"] = principal.carrier
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
        if new.expires_at is not None and (
            fault := expiry_fault(new.expires_at, gateway.clock.now())
        ):
            raise Problem(
                422,
                "Invalid request",
                f"expires_at {fault}",
                slug="validation-error",
                errors=[{"loc": ["body", "expires_at"], "msg": fault}],
            )
        body = await request.body()

        async def create() -> Response:
            token = new_token()
            principal = Principal(
                f"usr_{uuid.uuid4().hex[:24]}",
                new.role,
                new.name,
                str(new.email),
                gateway.clock.now(),
                carrier=new.carrier,
                token_expires_at=new.expires_at,
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

    @router.delete("/v1/me/token", status_code=204)
    async def revoke_token(who: CallerDep) -> Response:
        """Sign out for good: the caller's token stops authenticating at once."""
        async with gateway.db.unit_of_work() as uow:
            await Principals(uow.session).revoke_token(who.id, gateway.clock.now())
            await uow.commit()
        return Response(status_code=204)

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
        try:
            await ops.replay(bootstrap, letter)
        except ops.ReplayRefused as error:
            # On a secured broker the gateway's user writes only principals.events.
            raise Problem(
                403,
                "Not allowed on the broker",
                f"The gateway's broker user may not write {letter.origin_topic}; replay it with"
                " `marketplace dlq replay` as the operators' broker user",
                slug="broker-forbidden",
            ) from error
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
