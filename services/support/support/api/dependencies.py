"""What every route is given: the service's context and the caller the gateway authenticated."""

import inspect
from typing import Annotated

from fastapi import Depends, Request

from servicekit.http import Caller, caller_dependency
from support.handlers.context import SupportContext


def support_context(request: Request) -> SupportContext:
    context: SupportContext = request.app.state.support
    return context


def authenticated_caller(**gateway_headers: str | None) -> Caller:
    """Replaced by the kit's caller dependency when the API is installed (`install_api`);
    an app that never bound one answers no request as anyone."""
    raise RuntimeError("support's API was included without install_api: no caller dependency")


# The API documents are rendered from the routes as declared, not as overridden: declaring the
# headers the kit's caller reads keeps every route's documented parameters and 422 answer.
authenticated_caller.__signature__ = inspect.signature(  # type: ignore[attr-defined]
    caller_dependency(""), eval_str=True
)

Context = Annotated[SupportContext, Depends(support_context)]
CallerOf = Annotated[Caller, Depends(authenticated_caller)]
