"""Everything else under `/v1/`: forwarded by the route table (`gateway.domain`) to the service
that owns it, with the caller's identity and `Idempotency-Key` promises kept here."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gateway.api.dependencies import GatewayDep
from gateway.domain import has_dot_segments, route_for
from servicekit.hosting.http import Problem

PROXIED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

router = APIRouter()


# Not an operation of its own: the public document lists what it forwards instead.
@router.api_route("/v1/{path:path}", methods=list(PROXIED_METHODS), include_in_schema=False)
async def proxy(request: Request, gateway: GatewayDep) -> Response:
    route = route_for(request.url.path)
    if route is None or has_dot_segments(request.url.path):
        raise Problem(404, "Not found", f"No such endpoint: {request.url.path}", slug="not-found")
    body = await request.body()
    if route.public:
        return await gateway.upstreams.forward(request, route, body, None)
    # Authenticated only once the path is known: an unknown path is 404 to anyone.
    caller = await gateway.identity.authenticate(request)
    return await gateway.idempotency_keys.answer_once(
        request, caller, body, lambda: gateway.upstreams.forward(request, route, body, caller)
    )
