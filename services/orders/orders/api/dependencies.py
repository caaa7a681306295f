"""What every route is given: the service's context and the caller the gateway authenticated."""

from typing import Annotated

from fastapi import Depends, Request

from orders.handlers import OrdersContext, Who
from servicekit.http import Caller


def orders_context(request: Request) -> OrdersContext:
    context: OrdersContext = request.app.state.orders
    return context


def authenticated_caller() -> Caller:
    """Replaced by the kit's caller dependency when the API is installed (`install_api`);
    an app that never bound one answers no request as anyone."""
    raise RuntimeError("orders' API was included without install_api: no caller dependency")


Context = Annotated[OrdersContext, Depends(orders_context)]
CallerOf = Annotated[Caller, Depends(authenticated_caller)]


def who_of(caller: Caller) -> Who:
    return Who(caller.id, caller.role, caller.carrier)
