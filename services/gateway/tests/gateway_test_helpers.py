"""Shared values for the gateway tests (fixtures are in conftest.py)."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OPERATOR_TOKEN = "mkt_operator-token-for-tests"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Upstream:
    """A stand-in for the orders service behind the gateway: records what reaches it and
    answers `status` (201 with a new order id), or 503 while `outages` last, or waits for `hold`."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.outages = 0
        self.status = 201
        self.hold: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.app = FastAPI()

        @self.app.api_route("/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        async def anything(request: Request, path: str) -> JSONResponse:
            self.calls.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "headers": dict(request.headers),
                    "body": await request.body(),
                }
            )
            self.entered.set()
            if self.hold is not None:
                await self.hold.wait()
            if self.outages:
                self.outages -= 1
                return JSONResponse({"title": "Service unavailable"}, status_code=503)
            if self.status != 201:
                return JSONResponse(
                    {"type": "/problems/insufficient-stock", "status": self.status},
                    status_code=self.status,
                    media_type="application/problem+json",
                )
            order_id = f"ord_{len(self.calls)}"
            return JSONResponse(
                {"id": order_id, "status": "placed"},
                status_code=201,
                headers={"Location": f"/v1/orders/{order_id}"},
            )


# Text a hostile user might write anywhere: every page must show it as text.
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)></textarea><b>'
