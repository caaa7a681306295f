"""The Connect server's ASGI app: the Connect endpoints (an API key required,
`Idempotency-Key` honoured, Stripe's errors), the onboarding link's redirect, and every other
request forwarded unchanged to localstripe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

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
_CONFIRMED = ("requires_capture", "succeeded", "processing")
_TEST_SHORTHAND = "pm_card_"  # Stripe's test cards by name (`pm_card_visa`)
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

    async def forward(request: Request, body: bytes | None = None) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        answer = await forwarder.request(
            request.method,
            request.url.path,
            params=request.url.query or None,
            content=await request.body() if body is None else body,
            headers=headers,
        )
        passed = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        return Response(answer.content, status_code=answer.status_code, headers=passed)

    async def create_payment_intent(request: Request) -> Response:
        """`setup_future_usage` (which localstripe refuses) served as Stripe documents it, and
        Stripe's rule on reusing a card: a PaymentMethod confirmed once without a Customer may
        not be used again. The rest is localstripe's."""
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        method = decode_form(pairs).get("payment_method")
        if isinstance(method, str) and method.startswith(_TEST_SHORTHAND):
            # Stripe makes a PaymentMethod of its own from a test shorthand (`pm_card_visa`):
            # the intent holds that one, and only it can be reused later.
            made = await forwarder.get(
                f"/v1/payment_methods/{method}",
                headers={"authorization": request.headers.get("authorization", "")},
            )
            if made.status_code == 200:
                real = made.json()["id"]
                pairs = [(k, real if k == "payment_method" else v) for k, v in pairs]
        params = decode_form(pairs)
        usage = params.get("setup_future_usage")
        method, customer = params.get("payment_method"), params.get("customer")
        try:
            reuse_refused = state.payment_intents.reuse_refused(method, customer)
            if usage not in (None, "off_session", "on_session"):
                raise StripeError(
                    f"Invalid setup_future_usage: {usage}", param="setup_future_usage"
                )
            if reuse_refused:
                raise StripeError(reuse_refused, param="payment_method")
        except StripeError as error:
            return JSONResponse({"error": error.body}, status_code=error.status)
        body = urlencode([(k, v) for k, v in pairs if k != "setup_future_usage"]).encode()
        answer = await forward(request, body)
        if answer.status_code != 200:
            return answer
        intent = json.loads(bytes(answer.body))
        state.payment_intents.created(intent["id"], params)
        if usage and customer and method and intent.get("status") in _CONFIRMED:
            # Stripe attaches the card to the Customer once the intent is confirmed.
            await forwarder.post(
                f"/v1/payment_methods/{method}/attach",
                content=urlencode({"customer": customer}).encode(),
                headers={"authorization": request.headers.get("authorization", "")},
            )
        return JSONResponse(state.payment_intents.shown(intent))

    async def retrieve_payment_intent(request: Request) -> Response:
        answer = await forward(request)
        if answer.status_code != 200:
            return answer
        return JSONResponse(state.payment_intents.shown(json.loads(bytes(answer.body))))

    async def payment_intent_request(request: Request) -> Response:
        """Development only: the parameters an intent was created with (`off_session` is a
        request parameter Stripe does not show on the intent)."""
        asked = state.payment_intents.requests.get(request.path_params["id"])
        if asked is None:
            return JSONResponse({"error": {"type": "invalid_request_error"}}, status_code=404)
        return JSONResponse(asked)

    async def create_refund(request: Request) -> Response:
        """Stripe's rule on refunds, which localstripe does not keep: a refund larger than
        what the charge has left unrefunded is refused (`charge_already_refunded` once nothing
        is left). The rest is localstripe's."""
        params = decode_form(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        intent_id, amount = params.get("payment_intent"), params.get("amount")
        auth = {"authorization": request.headers.get("authorization", "")}
        if isinstance(intent_id, str):
            found = await forwarder.get(f"/v1/payment_intents/{intent_id}", headers=auth)
            charge = found.json().get("latest_charge") if found.status_code == 200 else None
            if isinstance(charge, str):
                charge = (await forwarder.get(f"/v1/charges/{charge}", headers=auth)).json()
            if isinstance(charge, dict) and "amount" in charge:
                left = int(charge["amount"]) - int(charge.get("amount_refunded") or 0)
                asked = int(amount) if amount is not None else left
                if left <= 0 or asked > left:
                    error = (
                        StripeError(
                            f"Charge {charge.get('id')} has already been refunded.",
                            code="charge_already_refunded",
                        )
                        if left <= 0
                        else StripeError(
                            f"Refund amount ({asked}) is greater than unrefunded amount on "
                            f"charge ({left})",
                            param="amount",
                        )
                    )
                    return JSONResponse({"error": error.body}, status_code=error.status)
        return await forward(request)

    # Stripe replays the first answer to a POST sent again with the same Idempotency-Key;
    # localstripe ignores the key, so a create retried after a timeout (a worker stopped
    # mid-call, a slow answer) would make a second PaymentIntent, which Stripe never would.
    # Answers to forwarded POSTs are remembered here, and a repeat arriving while the first
    # is still in flight waits for it.
    answered: dict[tuple[str, str], tuple[str, Response]] = {}
    in_flight: dict[tuple[str, str], asyncio.Lock] = {}

    def idempotent(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def handle(request: Request) -> Response:
            idempotency_key = request.headers.get("idempotency-key")
            if request.method != "POST" or not idempotency_key:
                return await handler(request)
            key = (api_key(request) or "", idempotency_key)
            async with in_flight.setdefault(key, asyncio.Lock()):
                if key in answered:
                    path, first = answered[key]
                    if path != request.url.path:
                        error = StripeError(
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with.",
                            type="idempotency_error",
                        )
                        return JSONResponse({"error": error.body}, status_code=error.status)
                    first.headers["Idempotent-Replayed"] = "true"
                    return first
                answer = await handler(request)
                if answer.status_code < 500:
                    answered[key] = (request.url.path, answer)
                return answer

        return handle

    routes += [
        Route("/v1/payment_intents", idempotent(create_payment_intent), methods=["POST"]),
        Route("/v1/payment_intents/{id}", retrieve_payment_intent, methods=["GET"]),
        Route("/v1/refunds", idempotent(create_refund), methods=["POST"]),
        Route("/_connect/payment_intents/{id}/request", payment_intent_request, methods=["GET"]),
    ]

    # Last, so it only answers what no route above matches by path and method.
    routes.append(Route("/{path:path}", idempotent(forward), methods=_ALL_METHODS))

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
