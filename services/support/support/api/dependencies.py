"""What every route is given besides the caller (the kit's `CallerDep`): the service's context."""

from typing import Annotated

from fastapi import Depends, Request

from support.handlers.context import SupportContext


def support_context(request: Request) -> SupportContext:
    context: SupportContext = request.app.state.support
    return context


Context = Annotated[SupportContext, Depends(support_context)]
