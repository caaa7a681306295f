"""What every route is given besides the caller (the kit's `CallerDep`): the service's context."""

from typing import Annotated

from fastapi import Depends, Request

from orders.handlers import OrdersContext, Who
from servicekit.hosting.http import Caller


def orders_context(request: Request) -> OrdersContext:
    context: OrdersContext = request.app.state.orders
    return context


Context = Annotated[OrdersContext, Depends(orders_context)]


def who_of(caller: Caller) -> Who:
    return Who(caller.id, caller.role, caller.carrier)
