"""The gateway's rules: tokens, which service owns which path, and what a repeated
`Idempotency-Key` means. Pure: no I/O."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

TOKEN_PREFIX = "mkt_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored only as hashes: a leaked table does not leak credentials."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    service: str
    public: bool = False  # reachable without a token (signed webhooks)


def _route(pattern: str, service: str, *, public: bool = False) -> Route:
    return Route(re.compile(pattern), service, public)


# First match wins: the more specific paths come first.
ROUTES: tuple[Route, ...] = (
    _route(r"^/v1/orders/[^/]+/payment$", "payments"),
    _route(r"^/v1/me/credits$", "payments"),
    _route(r"^/v1/ledger(/.*)?$", "payments"),
    _route(r"^/v1/webhooks/stripe$", "payments", public=True),
    _route(r"^/v1/sellers/[^/]+/(standards|exemptions|standing)$", "seller_standards"),
    _route(r"^/v1/reviews/[^/]+/flag-misuse$", "seller_standards"),
    _route(r"^/v1/me/(notifications(/.*)?|notification-preferences)$", "notifications"),
    _route(r"^/v1/tickets(/.*)?$", "support"),
    _route(r"^/v1/orders/[^/]+/tickets$", "support"),
    _route(r"^/v1/listings(/.*)?$", "orders"),
    _route(r"^/v1/orders(/.*)?$", "orders"),
    _route(r"^/v1/sellers/me/vacation$", "orders"),
    _route(r"^/v1/carrier-events$", "orders"),
)


def has_dot_segments(path: str) -> bool:
    """`.` or `..` segments (decoded from `%2E`) would let a forwarded path escape the
    public API on the service, for instance to its internal endpoints: such paths are
    refused, not resolved."""
    return any(segment in (".", "..") for segment in path.split("/"))


def route_for(path: str) -> Route | None:
    return next((route for route in ROUTES if route.pattern.match(path)), None)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """Two requests are "the same" when method, path and body match; JSON bodies compare
    by content, not by key order or spacing."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


class Repeat(StrEnum):
    NEW = "new"  # first time: go ahead
    REPLAY = "replay"  # same request, answered before: give the first answer again
    MISMATCH = "mismatch"  # same key, another request: refuse (422)
    IN_PROGRESS = "in_progress"  # the first is still running: refuse for now (409)


@dataclass(frozen=True)
class StoredRequest:
    fingerprint: str
    completed: bool


def classify_repeat(stored: StoredRequest | None, fingerprint: str) -> Repeat:
    if stored is None:
        return Repeat.NEW
    if stored.fingerprint != fingerprint:
        return Repeat.MISMATCH
    return Repeat.REPLAY if stored.completed else Repeat.IN_PROGRESS
