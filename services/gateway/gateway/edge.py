"""Bad input stops at the edge: a body over the size limit is 413, a body that is not JSON is
415, and JSON that is malformed, not UTF-8, nested too deep, with a number of absurd length or
carrying text no service can store or show (NUL, terminal escapes, bidirectional overrides) is
422, all as problem details and before any service or the idempotency store sees it. A client
that stops sending its body gets 408 and its connection is closed, and an `X-Correlation-ID`
that is too long or holds anything but letters, digits and `._:-` is replaced by a fresh one.

The services parse bodies with FastAPI, which answers such input with a 400 or, for a NUL
character that reaches PostgreSQL, a 500; checking once here gives every route the same
answers. Pure ASGI, so an oversized body is refused without being read into memory.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.domain import (
    Location,
    correlation_id_for,
    is_json_media_type,
    json_body_faults,
    route_for,
    text_fault,
)
from servicekit.hosting.http import problem_response

API_PREFIX = "/v1/"


class EdgeGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_json_depth: int,
        body_read_timeout_seconds: float = 30.0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.body_read_timeout_seconds = body_read_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = with_correlation_id(scope)
        headers = {name.decode("latin-1"): value for name, value in scope["headers"]}
        declared = headers.get("content-length", b"").strip()
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.body_read_timeout_seconds):
                body = await self._read_body(receive)
        except TimeoutError:
            await self._too_slow(scope, receive, send)
            return
        if body is None:
            await self._too_large(scope, receive, send)
            return
        refusal = self._refusal(scope, body, headers.get("content-type"))
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it grows past the limit (a chunked upload
        declares no length)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "Content too large",
            f"A request body may be at most {self.max_body_bytes} bytes",
            "content-too-large",
            max_bytes=self.max_body_bytes,
        )
        # The rest of the body is left unread, so this connection cannot carry another request.
        response.headers["connection"] = "close"
        await response(scope, receive, send)

    async def _too_slow(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            408,
            "Request timeout",
            f"The request body did not arrive within {self.body_read_timeout_seconds:g} seconds",
            "request-timeout",
        )
        # Half a body is still on the wire: the connection is released, not reused.
        response.headers["connection"] = "close"
        await response(scope, receive, send)

    def _refusal(self, scope: Scope, body: bytes, content_type: bytes | None) -> Response | None:
        """The answer that refuses this request, or None to let it through."""
        path: str = scope["path"]
        if not path.startswith(API_PREFIX):
            return None  # the portal's pages and forms: only the size limit applies
        if "\x00" in path:
            return problem_response(
                404, "Not found", "No resource has a NUL character in its path", "not-found"
            )
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        faults: list[tuple[Location, str]] = [
            (["query", name], fault)
            for name, value in query
            if (fault := text_fault(name) or text_fault(value))
        ]
        route = route_for(path)
        # A public route's body (a Stripe webhook) is checked against its signature by the
        # service that owns it, byte for byte: it is left as it came.
        if body and not (route is not None and route.public):
            if not is_json_media_type(content_type.decode("latin-1") if content_type else None):
                return problem_response(
                    415,
                    "Unsupported media type",
                    "Send the request body as JSON, with `Content-Type: application/json`",
                    "unsupported-media-type",
                )
            faults += json_body_faults(body, max_depth=self.max_json_depth)
        if not faults:
            return None
        return problem_response(
            422,
            "Invalid request",
            "The request body or parameters are not valid; see errors",
            "validation-error",
            errors=[{"loc": location, "msg": message} for location, message in faults],
        )


def with_correlation_id(scope: Scope) -> Scope:
    """The request with an acceptable `X-Correlation-ID` (its own or a fresh one), so that the
    logs, the services it is forwarded to and the answer all carry the same bounded id."""
    sent = next((value for name, value in scope["headers"] if name == b"x-correlation-id"), None)
    correlation_id = correlation_id_for(sent.decode("latin-1") if sent is not None else None)
    if sent is not None and correlation_id == sent.decode("latin-1"):
        return scope
    headers = [(name, value) for name, value in scope["headers"] if name != b"x-correlation-id"]
    return {**scope, "headers": [*headers, (b"x-correlation-id", correlation_id.encode())]}
