"""The public API's front door: authenticates the caller, keeps `Idempotency-Key` promises,
serves principals and the operators' console, and forwards everything else to the service that
owns it, with the caller's identity.

Read in this order: `gateway` (what the routes share), `identity`, `idempotency`, `upstreams`,
`dependencies` (`GatewayDep`, `Caller`), then the routes: `principals`, `operator_console`,
`proxy`. `install()` puts them on an app.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from gateway.api import operator_console, principals, proxy
from gateway.api.gateway import Gateway
from gateway.api.idempotency import IDEMPOTENCY_KEY_PARAMETER
from gateway.api.proxy import PROXIED_METHODS
from gateway.api.upstreams import FORWARDED_REQUEST_HEADERS

__all__ = [
    "FORWARDED_REQUEST_HEADERS",
    "IDEMPOTENCY_KEY_PARAMETER",
    "PROXIED_METHODS",
    "Gateway",
    "install",
    "router",
]

router = APIRouter()
for area in (principals, operator_console, proxy):  # the proxy last: it takes any /v1/ path
    router.include_router(area.router)


def install(app: FastAPI, gateway: Gateway) -> None:
    """Serve the API from `app`; its routes find `gateway` on the app's state."""
    app.state.gateway = gateway
    app.include_router(router)
