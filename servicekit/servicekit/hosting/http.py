"""HTTP conventions every service shares: RFC 9457 problem details (for the kit's `Problem`, any
domain's `Refusal`, invalid requests, races and the unexpected), the caller's identity as
forwarded by the gateway, and correlation ids on requests."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit.domain.refusals import Refusal
from servicekit.messaging import metrics
from servicekit.messaging.context import bind_correlation_id, new_correlation_id
from servicekit.messaging.failures import ConcurrentUpdate

PROBLEM_JSON = "application/problem+json"

Role = Literal["buyer", "seller", "agent", "operator", "carrier"]
ROLES: tuple[Role, ...] = ("buyer", "seller", "agent", "operator", "carrier")


class Problem(Exception):
    """An error answered as problem details. `extra` members are added to the body."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        slug: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail or title
        self.slug = slug or title.lower().replace(" ", "-")
        self.extra = extra


def not_found(what: str) -> Problem:
    return Problem(404, "Not found", f"No {what} with that id is visible to you", slug="not-found")


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail, slug="forbidden")


def problem_body(status: int, title: str, detail: str, slug: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }


def problem_response(status: int, title: str, detail: str, slug: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        problem_body(status, title, detail, slug, **extra),
        status_code=status,
        media_type=PROBLEM_JSON,
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, error: Problem) -> JSONResponse:
        return problem_response(error.status, error.title, error.detail, error.slug, **error.extra)

    @app.exception_handler(Refusal)
    async def _refused(_: Request, error: Refusal) -> JSONResponse:
        """Every service's domain refusals, answered one way: `Kind`'s value is the status."""
        answer = problem_response(
            error.kind.value, error.title, error.detail, error.slug, **error.extra
        )
        if error.retry_after is not None:
            answer.headers["Retry-After"] = str(error.retry_after)
        return answer

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in error.errors()]
        return problem_response(
            422,
            "Invalid request",
            "The request body or parameters are not valid; see errors",
            "validation-error",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "Error")
        return problem_response(
            error.status_code, title, str(error.detail), title.lower().replace(" ", "-")
        )

    @app.exception_handler(ConcurrentUpdate)
    async def _raced(_: Request, __: ConcurrentUpdate) -> JSONResponse:
        return problem_response(
            409,
            "Changed meanwhile",
            "Someone else changed this at the same time; reload it and try again",
            "concurrent-update",
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        return problem_response(
            500,
            "Internal error",
            "Something went wrong on our side; it has been logged",
            "internal-error",
        )


def install_request_context(app: FastAPI) -> None:
    """Bind a correlation id (the caller's `X-Correlation-ID` or a new one) and time requests."""

    @app.middleware("http")
    async def _context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        correlation_id = request.headers.get("x-correlation-id") or new_correlation_id()
        bind_correlation_id(correlation_id)
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        metrics.HTTP_REQUESTS.labels(
            request.method, getattr(route, "path", "unmatched"), str(response.status_code)
        ).observe(time.perf_counter() - started)
        response.headers["X-Correlation-ID"] = correlation_id
        return response


@dataclass(frozen=True)
class Caller:
    """Who is asking, as authenticated by the gateway."""

    id: str
    role: Role
    carrier: str | None = None  # the carrier a `carrier` principal speaks for


def authenticated_caller(
    request: Request,
    x_principal_id: Annotated[str | None, Header()] = None,
    x_principal_role: Annotated[str | None, Header()] = None,
    x_principal_carrier: Annotated[str | None, Header()] = None,
    x_internal_token: Annotated[str | None, Header()] = None,
) -> Caller:
    """The caller the gateway forwards, as a FastAPI dependency.

    Services are reached only through the gateway; where the app's internal token (recorded as
    `app.state.internal_token` by `ServiceRuntime.fastapi_app`) is set, a request without the
    matching `X-Internal-Token` is refused, so a caller cannot claim an identity by reaching a
    service directly. The empty string means no check; an app that recorded none answers no
    request as anyone.
    """
    internal_token: str | None = getattr(request.app.state, "internal_token", None)
    if internal_token is None:
        raise RuntimeError("this app recorded no internal token: callers cannot be checked")
    if internal_token and not hmac.compare_digest(x_internal_token or "", internal_token):
        raise Problem(
            401,
            "Unauthenticated",
            "Requests must come through the gateway",
            slug="unauthenticated",
        )
    if not x_principal_id or x_principal_role not in ROLES:
        raise Problem(401, "Unauthenticated", "No authenticated caller", slug="unauthenticated")
    return Caller(
        id=x_principal_id,
        role=x_principal_role,  # type: ignore[arg-type]
        carrier=x_principal_carrier if x_principal_role == "carrier" else None,
    )


CallerDep = Annotated[Caller, Depends(authenticated_caller)]


def require_role(caller: Caller, *roles: Role) -> None:
    if caller.role not in roles:
        raise forbidden(f"This action is for {' or '.join(roles)} accounts")
