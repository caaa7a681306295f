"""The gateway's rules: tokens, which service owns which path, and what a repeated
`Idempotency-Key` means. Pure: no I/O."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from contracts.text import control_character_fault

TOKEN_PREFIX = "mkt_"
# The furthest a new token's expiry may lie: ten years. Beyond that it would be "never" in
# disguise, and a year-9999 date in a far-off offset cannot even be stored (it overflows UTC).
MAX_TOKEN_LIFETIME = timedelta(days=3653)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored only as hashes: a leaked table does not leak credentials."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_fault(
    expires_at: datetime | None, revoked_at: datetime | None, now: datetime
) -> str | None:
    """Why a known token no longer authenticates, or None while it does."""
    if revoked_at is not None:
        return "The token was revoked"
    if expires_at is not None and expires_at <= now:
        return "The token has expired"
    return None


def expiry_fault(expires_at: datetime, now: datetime) -> str | None:
    """Why a new token may not expire at `expires_at`, or None when it may."""
    if expires_at <= now:
        return "must lie in the future"
    if expires_at > now + MAX_TOKEN_LIFETIME:
        return f"must lie at most {MAX_TOKEN_LIFETIME.days} days ahead"
    return None


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
    _route(r"^/v1/orders/[^/]+/payment-method$", "payments"),
    _route(r"^/v1/me/credits$", "payments"),
    _route(r"^/v1/ledger(/.*)?$", "payments"),
    _route(r"^/v1/webhooks/stripe$", "payments", public=True),
    _route(r"^/v1/sellers/[^/]+/(standards|exemptions|standing|reviews)$", "seller_standards"),
    _route(r"^/v1/reviews/[^/]+/flag-misuse$", "seller_standards"),
    _route(r"^/v1/me/(notifications(/.*)?|notification-preferences)$", "notifications"),
    _route(r"^/v1/ops/failed-emails$", "notifications"),
    _route(r"^/v1/tickets(/.*)?$", "support"),
    _route(r"^/v1/orders/[^/]+/tickets$", "support"),
    _route(r"^/v1/listings(/.*)?$", "orders"),
    _route(r"^/v1/events(/.*)?$", "orders"),  # resale events (#20)
    _route(r"^/v1/orders(/.*)?$", "orders"),
    _route(r"^/v1/sellers/me/(payout-account|balance|payouts)$", "payments"),
    _route(r"^/v1/ops/payouts/run$", "payments"),
    _route(r"^/v1/sellers/me/vacation$", "orders"),
    _route(r"^/v1/carrier-events$", "orders"),
    _route(r"^/v1/carrier/shipments$", "orders"),
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
    except (ValueError, RecursionError):
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def idempotency_cutoff(now: datetime, ttl_seconds: float) -> datetime:
    """Keys taken before this are forgotten: their reuse is a new request."""
    return now - timedelta(seconds=ttl_seconds)


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


# Bad input at the edge: what a request body, query or path may not carry, whichever service
# it is for.

Location = list[str | int]


def is_json_media_type(content_type: str | None) -> bool:
    """`application/json`, or a `+json` type such as `application/merge-patch+json`."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    kind, _, subtype = media_type.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


# Longer number literals are no amount, count or date any service takes; Python refuses to
# convert an integer of more than 4,300 digits at all (a ValueError, not a decode error).
MAX_NUMBER_LITERAL = 100

# What a correlation id may be: it is logged and carried in every event the request causes.
CORRELATION_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def correlation_id_for(sent: str | None) -> str:
    """The caller's `X-Correlation-ID` when it is a short token of safe characters; otherwise
    (absent, too long, or carrying anything else) a fresh one: a correlation id is a tracing
    aid, so a bad one is replaced rather than failing the request."""
    if sent is not None and CORRELATION_ID.fullmatch(sent):
        return sent
    return str(uuid.uuid4())


def text_fault(text: str) -> str | None:
    """Why a piece of text cannot be taken in: PostgreSQL's text holds no NUL character, an
    unpaired surrogate (a `\\ud800` escape) is not encodable as UTF-8, and control characters
    that are never plain text (terminal escapes, bidirectional overrides; contracts.text) end up
    in e-mail headers, logs and pages. Line breaks and tabs pass: a service decides where its
    text must be one line."""
    if "\x00" in text:
        return "NUL characters are not allowed"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "Unpaired surrogate characters are not allowed"
    return control_character_fault(text, multiline=True)


class _NumberTooLong(ValueError):
    pass


def _bounded_number(parse: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse_literal(literal: str) -> int | float:
        if len(literal) > MAX_NUMBER_LITERAL:
            raise _NumberTooLong(literal[:20])
        return parse(literal)

    return parse_literal


def json_body_faults(body: bytes, *, max_depth: int) -> list[tuple[Location, str]]:
    """What is wrong with a JSON request body, as (location, message) pairs; none when it is
    UTF-8 JSON nested at most `max_depth` objects and arrays deep with no unstorable text."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return [(["body", error.start], "The body is not valid UTF-8")]
    too_deep = [(["body"], f"JSON nested more than {max_depth} levels deep")]
    try:
        document = json.loads(
            text, parse_int=_bounded_number(int), parse_float=_bounded_number(float)
        )
    except json.JSONDecodeError as error:
        return [(["body", error.pos], f"JSON decode error: {error.msg}")]
    except RecursionError:
        return too_deep
    except ValueError:  # _NumberTooLong, or an integer past Python's own digit limit
        return [(["body"], f"A JSON number is longer than {MAX_NUMBER_LITERAL} characters")]
    faults: list[tuple[Location, str]] = []
    # Walked with a stack, not recursion: the depth is what is being checked.
    pending: list[tuple[object, Location, int]] = [(document, ["body"], 0)]
    while pending:
        value, location, depth = pending.pop()
        if isinstance(value, str):
            fault = text_fault(value)
            if fault:
                faults.append((location, fault))
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= max_depth:
            return too_deep
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and (fault := text_fault(key)):
                faults.append(([*location, key], fault))
            pending.append((item, [*location, key], depth + 1))
    return faults
