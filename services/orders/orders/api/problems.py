"""A rule's refusal as problem details: 409 for "not now", 403 for "never yours", 404 for what
the caller may not see, 422 for the rest."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from orders.domain import DomainError, NotFound, TransitionRefused
from servicekit.hosting.http import Problem, problem_response

PROBLEM_STATUS = {
    "invalid-transition": 409,
    "action-not-allowed": 409,
    "insufficient-stock": 409,
    "listing-unavailable": 409,
    "not-a-party": 403,
    "forbidden": 403,
    "carrier-not-named": 403,
    "tracking-number-in-use": 409,
}


def domain_problem(error: DomainError) -> Problem:
    if isinstance(error, TransitionRefused):
        return Problem(
            409,
            "Action not allowed now",
            error.detail,
            slug=error.code,
            order_status=error.status.value,
            allowed_actions=error.allowed,
        )
    if isinstance(error, NotFound):
        return Problem(404, "Not found", error.detail, slug="not-found")
    status = PROBLEM_STATUS.get(error.code, 422)
    return Problem(status, error.code.replace("-", " ").capitalize(), error.detail, slug=error.code)


def install_domain_problems(app: FastAPI) -> None:
    """A rule's refusal is answered as problem details (see `domain_problem`)."""

    async def refused(_: Request, error: Exception) -> JSONResponse:
        problem = domain_problem(error)  # type: ignore[arg-type]
        return problem_response(
            problem.status, problem.title, problem.detail, problem.slug, **problem.extra
        )

    app.add_exception_handler(DomainError, refused)
