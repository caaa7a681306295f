"""Stripe's wire formats, as the Connect server reads and answers them: the nested form
encoding of requests, parameter checks, the error object, list pages, API keys and the
`Stripe-Signature` of webhooks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any

from starlette.requests import Request


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
