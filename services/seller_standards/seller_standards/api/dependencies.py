"""What every route is given besides the caller (the kit's `CallerDep`): the service's context."""

from typing import Annotated

from fastapi import Depends, Request

from seller_standards.handlers import StandardsContext


def standards_context(request: Request) -> StandardsContext:
    context: StandardsContext = request.app.state.seller_standards
    return context


Context = Annotated[StandardsContext, Depends(standards_context)]
