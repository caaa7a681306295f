"""The Connect server's ASGI app: the Connect endpoints (an API key required,
`Idempotency-Key` honoured, Stripe's errors), the onboarding link's redirect, and every other
request forwarded unchanged to localstripe.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from devstack.stripe_connect.state import Connect
from devstack.stripe_connect.wire import StripeError, api_key, decode_form

# Headers set by the HTTP layer itself, or that would not match a body passed on.
_NO_KEY = {
    "type": "invalid_request_error",
    "message": "You did not provide an API key. You need to provide your API key in the "
    "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
}
_ALL_METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]
_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


def create_app(
    upstream: str, *, webhook_url: str | None = None, webhook_secret: str | None = None
) -> Starlette:
    """The ASGI app: the Connect endpoints, and every other path forwarded to `upstream`."""
    state = Connect(webhook_url=webhook_url, webhook_secret=webhook_secret)
    forwarder = httpx.AsyncClient(base_url=upstream.rstrip("/"), timeout=60)

    def endpoint(action: Callable[[Request, dict[str, Any]], dict[str, Any]]) -> Callable:
        async def handle(request: Request) -> Response:
            key = api_key(request)
            if key is None:
                return JSONResponse({"error": _NO_KEY}, status_code=401)
            if request.method == "POST":
                body = (await request.body()).decode()
                params = decode_form(parse_qsl(body, keep_blank_values=True))
            else:
                params = decode_form(list(request.query_params.multi_items()))
            idempotency_key = request.headers.get("idempotency-key")
            remembered = None
            if request.method == "POST" and idempotency_key:
                remembered = state.idempotent.get((key, idempotency_key))
            try:
                if remembered is not None:
                    path, method, first_params, answer = remembered
                    if (path, method) != (
                        request.url.path,
                        request.method,
                    ) or first_params != params:
                        raise StripeError(
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other than "
                            f"'{idempotency_key}' if you meant to execute a different request.",
                            type="idempotency_error",
                        )
                    return JSONResponse(answer, headers={"Idempotent-Replayed": "true"})
                before = len(state.events)
                answer = action(request, params)
            except StripeError as error:
                return JSONResponse({"error": error.body}, status_code=error.status)
            if request.method == "POST" and idempotency_key:
                snapshot = json.loads(json.dumps(answer))
                state.idempotent[(key, idempotency_key)] = (
                    request.url.path,
                    request.method,
                    params,
                    snapshot,
                )
            fresh = state.events[before:]
            task = BackgroundTask(state.deliver, fresh) if fresh else None
            return JSONResponse(answer, background=task)

        return handle

    def arg(request: Request, name: str = "transfer") -> str:
        return request.path_params[name]

    reversals_of = "/v1/transfers/{transfer}/reversals"
    table: list[tuple[str, str, Callable[[Request, dict[str, Any]], dict[str, Any]]]] = [
        ("POST", "/v1/accounts", lambda r, p: state.create_account(p)),
        ("GET", "/v1/accounts/{account}", lambda r, p: state.get_account(arg(r, "account"))),
        ("POST", "/v1/account_links", lambda r, p: state.create_account_link(p, r)),
        ("POST", "/v1/transfers", lambda r, p: state.create_transfer(p)),
        ("GET", "/v1/transfers", lambda r, p: state.list_transfers(p)),
        ("GET", "/v1/transfers/{transfer}", lambda r, p: state.transfer(arg(r))),
        ("POST", reversals_of, lambda r, p: state.reverse(arg(r), p)),
        ("GET", reversals_of, lambda r, p: state.list_reversals(arg(r), p)),
        ("GET", reversals_of + "/{id}", lambda r, p: state.reversal(arg(r), arg(r, "id"))),
    ]
    routes = [Route(path, endpoint(action), methods=[method]) for method, path, action in table]
    routes += [
        Route("/_connect/onboarding/{account}/{token}", onboarding(state), methods=["GET"]),
        Route("/health", lambda _: JSONResponse({"status": "ok"}), methods=["GET"]),
    ]

    async def forward(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        answer = await forwarder.request(
            request.method,
            request.url.path,
            params=request.url.query or None,
            content=await request.body(),
            headers=headers,
        )
        passed = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        return Response(answer.content, status_code=answer.status_code, headers=passed)

    # Last, so it only answers what no route above matches by path and method.
    routes.append(Route("/{path:path}", forward, methods=_ALL_METHODS))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await forwarder.aclose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.connect = state
    return app


def onboarding(state: Connect) -> Callable:
    async def page_of_link(request: Request) -> Response:
        return_url = state.links.get(request.path_params["token"])
        if return_url is None:
            return JSONResponse(
                {"error": {"type": "invalid_request_error", "message": "Expired link"}}, 404
            )
        return RedirectResponse(return_url, status_code=302)

    return page_of_link


def app_from_environment() -> Starlette:
    """For `uvicorn --factory`: the settings from `STRIPE_CONNECT_*` variables."""
    return create_app(
        os.environ["STRIPE_CONNECT_UPSTREAM"],
        webhook_url=os.environ.get("STRIPE_CONNECT_WEBHOOK_URL") or None,
        webhook_secret=os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET") or None,
    )
