"""What every route is given: the service's context and the caller the gateway authenticated."""

import inspect
from typing import Annotated

from fastapi import Depends, Request

from seller_standards.handlers import StandardsContext
from servicekit.http import Caller, caller_dependency


def standards_context(request: Request) -> StandardsContext:
    context: StandardsContext = request.app.state.seller_standards
    return context


def authenticated_caller(**gateway_headers: str | None) -> Caller:
    """Replaced by the kit's caller dependency when the API is installed (`install_api`);
    an app that never bound one answers no request as anyone."""
    raise RuntimeError(
        "seller standards' API was included without install_api: no caller dependency"
    )


# The API documents are rendered from the routes as declared, not as overridden: declaring the
# headers the kit's caller reads keeps every route's documented parameters and 422 answer.
authenticated_caller.__signature__ = inspect.signature(  # type: ignore[attr-defined]
    caller_dependency(""), eval_str=True
)

Context = Annotated[StandardsContext, Depends(standards_context)]
CallerOf = Annotated[Caller, Depends(authenticated_caller)]
