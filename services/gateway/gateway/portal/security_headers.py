"""Security headers on every answer of the gateway, and a script-free policy on the portal's."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.portal.settings import PORTAL

PORTAL_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
EVERY_RESPONSE = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """Security headers on every answer: the harmless ones on the API, and on portal pages a
    Content-Security-Policy that allows no script at all, and no caching of what a signed-in
    principal sees. Pure ASGI: it only adds headers as the response starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        portal = path == PORTAL or path.startswith(f"{PORTAL}/")
        static = path.startswith(f"{PORTAL}/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if not (portal and not static and name.lower() == b"cache-control")
                ]
                present = {name.lower() for name, _ in headers}
                added = list(EVERY_RESPONSE)
                added.append(
                    (b"content-security-policy", PORTAL_CSP.encode())
                    if portal
                    else (b"content-security-policy", b"frame-ancestors 'none'")
                )
                if portal and not static:
                    added.append((b"cache-control", b"no-store"))
                headers += [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
