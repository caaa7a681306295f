"""What a route of the API depends on: the `Gateway` of the app, and the `Caller` (the
authenticated principal making the request)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.api.gateway import Gateway
from gateway.db import Principal
from servicekit.hosting.http import forbidden


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(gateway_of)]


async def authenticated_caller(request: Request, gateway: GatewayDep) -> Principal:
    return await gateway.identity.authenticate(request)


Caller = Annotated[Principal, Depends(authenticated_caller)]


def require_operator(caller: Principal, to: str) -> None:
    """403 "Only operators <to>" for anyone else."""
    if caller.role != "operator":
        raise forbidden(f"Only operators {to}")
