"""The Stripe Connect endpoints localstripe lacks, served as Stripe documents them.

Seller payouts need connected accounts, account links, transfers and transfer reversals;
localstripe has none of them. This small server answers those endpoints itself, in Stripe's
form-encoded request / JSON response style with Stripe's error shape, and forwards every
other request unchanged (method, path, query, body, headers) to the localstripe base URL it
is given. The official SDK therefore keeps one `api_base` for all of Stripe, and payments
never knows which server it talks to.

What differs from Stripe, on purpose, for development:

- Onboarding completes at once: creating an account link for an account enables it
  (`details_submitted`, `charges_enabled`, `payouts_enabled` true, the `transfers` capability
  `active`, nothing due), and an `account.updated` event is sent. The link's URL (served
  here) only redirects to `return_url`.
- There is no platform balance: a transfer to an enabled account never fails for funds.
- State is kept in memory; a restart starts empty.

`Idempotency-Key` works as on Stripe: the same key on the same endpoint with the same
parameters returns the first answer (`Idempotent-Replayed: true`) rather than creating a
second object; the same key with another endpoint or other parameters is an
`idempotency_error`. Only successful answers are kept, as Stripe keeps no result for a
request refused by validation. If a webhook URL and signing secret are configured, the events
this server generates (`account.updated`, `transfer.created`, `transfer.reversed`) are POSTed
there signed as Stripe signs them, so `stripe.Webhook.construct_event` accepts them.

Run: `python -m uvicorn devstack.stripe_connect:app_from_environment --factory` with
`STRIPE_CONNECT_UPSTREAM` (the localstripe base URL) and optionally
`STRIPE_CONNECT_WEBHOOK_URL` and `STRIPE_CONNECT_WEBHOOK_SECRET`; see
`devstack.components.stripe_connect`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

log = logging.getLogger("devstack.stripe_connect")

API_VERSION = "2025-01-27.acacia"
CURRENCY_BY_COUNTRY = {"US": "usd", "GB": "gbp", "CA": "cad", "AU": "aud", "CH": "chf"}
# Headers set by the HTTP layer itself, or that would not match a body passed on.
_NO_KEY = {
    "type": "invalid_request_error",
    "message": "You did not provide an API key. You need to provide your API key in the "
    "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
}
_ALL_METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]
_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


class StripeError(Exception):
    """Answered as Stripe's error object: `{"error": {"type", "message", "param", "code"}}`."""

    def __init__(
        self, message: str, *, param: str | None = None, status: int = 400, **more: str
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"type": "invalid_request_error", "message": message, "param": param, **more}
        self.body = {k: v for k, v in self.body.items() if v is not None}


def missing(kind: str, ident: str, param: str, status: int = 400) -> StripeError:
    return StripeError(
        f"No such {kind}: '{ident}'", param=param, status=status, code="resource_missing"
    )


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's nested form encoding: `metadata[a]=1`, `capabilities[transfers][requested]`,
    `expand[0]=x` or `expand[]=x` (lists)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head, *re.findall(r"\[([^\]]*)\]", "[" + rest)] if rest else [head]
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def positive_amount(value: Any, param: str = "amount") -> int:
    try:
        amount = int(value)
    except (TypeError, ValueError):
        raise StripeError(f"Invalid integer: {value}", param=param) from None
    if amount <= 0:
        raise StripeError("This value must be greater than or equal to 1.", param=param)
    return amount


def required(params: dict[str, Any], name: str) -> Any:
    if params.get(name) in (None, ""):
        raise StripeError(f"Missing required param: {name}.", param=name)
    return params[name]


def metadata_of(params: dict[str, Any]) -> dict[str, str]:
    metadata = params.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise StripeError("Invalid object", param="metadata")
    return {k: str(v) for k, v in metadata.items() if v != ""}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe sends: `t=...,v1=HMAC-SHA256(secret, "t.body")`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass
class Connect:
    """The in-memory state, and the Stripe objects it answers with."""

    webhook_url: str | None = None
    webhook_secret: str | None = None
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[tuple[str, str], tuple[str, str, dict[str, Any], dict[str, Any]]] = field(
        default_factory=dict
    )
    events: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # account link token -> return_url

    def account(self, ident: str, param: str = "account", status: int = 400) -> dict[str, Any]:
        if ident not in self.accounts:
            raise missing("account", ident, param, status)
        return self.accounts[ident]

    def transfer(self, ident: str, param: str = "id", status: int = 404) -> dict[str, Any]:
        if ident not in self.transfers:
            raise missing("transfer", ident, param, status)
        return self.transfers[ident]

    def event(self, type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        data: dict[str, Any] = {"object": json.loads(json.dumps(obj))}
        if previous is not None:
            data["previous_attributes"] = previous
        self.events.append(
            {
                "id": new_id("evt"),
                "object": "event",
                "api_version": API_VERSION,
                "created": int(time.time()),
                "data": data,
                "livemode": False,
                "pending_webhooks": 1 if self.webhook_url else 0,
                "request": {"id": None, "idempotency_key": None},
                "type": type,
            }
        )

    async def deliver(self, events: list[dict[str, Any]]) -> None:
        """POST each event, signed, retrying a few times as Stripe retries."""
        if not (self.webhook_url and self.webhook_secret):
            return
        async with httpx.AsyncClient(timeout=10) as client:
            for event in events:
                payload = json.dumps(event)
                for attempt in range(5):
                    headers = {
                        "Content-Type": "application/json; charset=utf-8",
                        "Stripe-Signature": sign(payload, self.webhook_secret, int(time.time())),
                    }
                    try:
                        answer = await client.post(
                            self.webhook_url, content=payload, headers=headers
                        )
                        if answer.is_success:
                            break
                        log.warning("webhook %s answered %s", event["type"], answer.status_code)
                    except httpx.HTTPError as error:
                        log.warning("webhook %s not delivered: %s", event["type"], error)
                    await asyncio.sleep(0.5 * 2**attempt)

    # --- accounts -------------------------------------------------------------------------

    def create_account(self, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("type", "express")
        if kind not in ("express", "standard", "custom"):
            raise StripeError(
                "Invalid type: must be one of custom, express, or standard", param="type"
            )
        country = str(params.get("country") or "US").upper()
        requested = {
            name: str((value or {}).get("requested", "")).lower() == "true"
            for name, value in (params.get("capabilities") or {}).items()
        }
        ident = new_id("acct")
        self.accounts[ident] = {
            "id": ident,
            "object": "account",
            "type": kind,
            "country": country,
            "email": params.get("email"),
            "default_currency": params.get("default_currency")
            or CURRENCY_BY_COUNTRY.get(country, "eur"),
            "business_type": params.get("business_type"),
            "capabilities": {name: "inactive" for name, on in requested.items() if on},
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "requirements": requirements(done=False),
            "future_requirements": requirements(done=True),
            "metadata": metadata_of(params),
            "created": int(time.time()),
            "tos_acceptance": {"date": None},
        }
        return self.accounts[ident]

    def get_account(self, ident: str) -> dict[str, Any]:
        return self.account(ident, param="account", status=404)

    def create_account_link(self, params: dict[str, Any], request: Request) -> dict[str, Any]:
        account = self.account(str(required(params, "account")))
        kind = required(params, "type")
        if kind not in ("account_onboarding", "account_update"):
            raise StripeError(
                "Invalid type: must be one of account_onboarding or account_update", param="type"
            )
        return_url = str(required(params, "return_url"))
        required(params, "refresh_url")
        now = int(time.time())
        token = secrets.token_urlsafe(12)
        self.links[token] = return_url
        if not account["details_submitted"]:
            previous = {
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
                "capabilities": dict(account["capabilities"]),
                "requirements": account["requirements"],
            }
            account.update(
                charges_enabled=True,
                payouts_enabled=True,
                details_submitted=True,
                requirements=requirements(done=True),
                capabilities={name: "active" for name in account["capabilities"] or ["transfers"]},
                tos_acceptance={"date": now, "ip": "127.0.0.1"},
            )
            self.event("account.updated", account, previous)
        here = str(request.base_url).rstrip("/")
        return {
            "object": "account_link",
            "created": now,
            "expires_at": now + 300,
            "url": f"{here}/_connect/onboarding/{account['id']}/{token}",
        }

    # --- transfers and reversals ----------------------------------------------------------

    def create_transfer(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = positive_amount(required(params, "amount"))
        currency = str(required(params, "currency")).lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise StripeError(f"Invalid currency: {currency}.", param="currency")
        destination = str(required(params, "destination"))
        if destination not in self.accounts:
            raise missing("destination", destination, "destination")
        account = self.accounts[destination]
        if not account["payouts_enabled"]:
            raise StripeError(
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                param="destination",
                code="insufficient_capabilities_for_transfer",
            )
        ident = new_id("tr")
        self.transfers[ident] = transfer = {
            "id": ident,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": new_id("txn"),
            "created": int(time.time()),
            "currency": currency,
            "description": params.get("description"),
            "destination": destination,
            "destination_payment": new_id("py"),
            "livemode": False,
            "metadata": metadata_of(params),
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/transfers/{ident}/reversals",
            },
            "reversed": False,
            "source_transaction": params.get("source_transaction"),
            "source_type": params.get("source_type", "card"),
            "transfer_group": params.get("transfer_group"),
        }
        self.event("transfer.created", transfer)
        return transfer

    def list_transfers(self, query: dict[str, Any]) -> dict[str, Any]:
        found = list(reversed(self.transfers.values()))  # newest first, as Stripe lists
        for name in ("transfer_group", "destination"):
            if query.get(name):
                found = [t for t in found if t[name] == query[name]]
        return page(found, query, "/v1/transfers")

    def reverse(self, ident: str, params: dict[str, Any]) -> dict[str, Any]:
        transfer = self.transfer(ident)
        left = transfer["amount"] - transfer["amount_reversed"]
        if left == 0:
            raise StripeError(f"Transfer {ident} has already been fully reversed.", param="amount")
        amount = positive_amount(params["amount"]) if params.get("amount") else left
        if amount > left:
            raise StripeError(
                f"Amount ({amount}) is greater than the amount left to reverse ({left}) "
                f"on transfer {ident}.",
                param="amount",
            )
        reversal = {
            "id": new_id("trr"),
            "object": "transfer_reversal",
            "amount": amount,
            "balance_transaction": new_id("txn"),
            "created": int(time.time()),
            "currency": transfer["currency"],
            "destination_payment_refund": new_id("pyr"),
            "metadata": metadata_of(params),
            "source_refund": None,
            "transfer": ident,
        }
        previous = {
            "amount_reversed": transfer["amount_reversed"],
            "reversed": transfer["reversed"],
        }
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        reversals = transfer["reversals"]
        reversals["data"].insert(0, reversal)
        reversals["total_count"] += 1
        self.event("transfer.reversed", transfer, previous)
        return reversal

    def list_reversals(self, ident: str, query: dict[str, Any]) -> dict[str, Any]:
        return page(
            self.transfer(ident)["reversals"]["data"], query, f"/v1/transfers/{ident}/reversals"
        )

    def reversal(self, ident: str, reversal_id: str) -> dict[str, Any]:
        for reversal in self.transfer(ident)["reversals"]["data"]:
            if reversal["id"] == reversal_id:
                return reversal
        raise missing("transfer_reversal", reversal_id, "id", 404)


def requirements(*, done: bool) -> dict[str, Any]:
    due = [] if done else ["business_type", "external_account", "tos_acceptance.date"]
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": due,
        "disabled_reason": None if done else "requirements.past_due",
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def page(items: list[dict[str, Any]], query: dict[str, Any], url: str) -> dict[str, Any]:
    """A Stripe list object; `starting_after` / `ending_before` page by id, newest first."""
    try:
        limit = max(1, min(100, int(query.get("limit") or 10)))
    except ValueError:
        raise StripeError("Invalid integer", param="limit") from None
    ids = [item["id"] for item in items]
    if query.get("starting_after") in ids:
        items = items[ids.index(query["starting_after"]) + 1 :]
        chosen = items[:limit]
    elif query.get("ending_before") in ids:
        items = items[: ids.index(query["ending_before"])]
        chosen = items[-limit:]
    else:
        chosen = items[:limit]
    return {"object": "list", "data": chosen, "has_more": len(items) > limit, "url": url}


def api_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        key = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            key = base64.b64decode(credentials).decode().partition(":")[0]
        except ValueError:
            return None
    else:
        return None
    return key if key.startswith(("sk_", "rk_")) else None


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
