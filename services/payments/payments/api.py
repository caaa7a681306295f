"""Payments' HTTP API (through the gateway): an order's payment as its parties see it."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from payments.db import Payments
from payments.domain import Payment
from payments.handlers import PaymentsContext
from servicekit.http import Caller, not_found


def payment_view(payment: Payment) -> dict[str, Any]:
    authorizations = []
    if payment.payment_intent_id or payment.authorize_started_at:
        authorizations.append(
            {
                "payment_intent_id": payment.payment_intent_id,
                "amount": payment.amount.model_dump(),
                "state": payment.state.value,
                "authorized_at": payment.authorized_at.isoformat()
                if payment.authorized_at
                else None,
                "expires_at": payment.expires_at.isoformat() if payment.expires_at else None,
                "failure_reason": payment.failure_reason,
                "decline_code": payment.decline_code,
            }
        )
    return {
        "order_id": payment.order_id,
        "state": payment.state.value,
        "amount": payment.amount.model_dump(),
        "authorizations": authorizations,
        "captures": [],
        "refunds": [],
        "payouts": [],
    }


def build_router(ctx: PaymentsContext, caller: Callable[..., Caller]) -> APIRouter:
    router = APIRouter(prefix="/v1")
    CallerDep = Annotated[Caller, Depends(caller)]

    @router.get("/orders/{order_id}/payment")
    async def get_payment(order_id: str, who: CallerDep) -> dict[str, Any]:
        async with ctx.db.unit_of_work() as uow:
            payment = await Payments(uow.session).get(order_id)
        if payment is None or not payment.visible_to(who.id, who.role):
            raise not_found("payment")
        return payment_view(payment)

    return router
