"""Payments' HTTP API (through the gateway): an order's payment as its parties see it, a
buyer's credits, the ledger for operators, and Stripe's webhooks."""

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from payments import ledger, webhooks
from payments.context import PaymentsContext
from payments.db import CreditBalances, Disputes, Ledger, Operations, Payments
from payments.domain import Operation, OperationKind, Payment
from servicekit.http import Caller, Problem, not_found, require_role


def _operation_view(operation: Operation, *, sees_failure: bool) -> dict[str, Any]:
    return {
        "id": operation.id,
        "state": operation.state.value,
        "amount": {"amount_minor": operation.amount_minor, "currency": operation.currency},
        "payment_intent_id": operation.payment_intent_id,
        "stripe_id": operation.stripe_id,
        "reason": operation.reason or None,
        "requested_at": operation.created_at.isoformat(),
        "finished_at": operation.finished_at.isoformat() if operation.finished_at else None,
        "failure": operation.failure if sees_failure else None,
    }


def payment_view(
    payment: Payment,
    operations: list[Operation],
    disputes: list[Any],
    *,
    staff: bool = True,
    buyer: bool = True,
) -> dict[str, Any]:
    """The payment as `staff` (agents, operators) or one of its parties sees it. Why the card
    was declined is the buyer's (and staff's) business, not the seller's; why an operation
    was set aside (Stripe's own words) is for staff."""
    sees_decline = staff or buyer

    def of(*kinds: OperationKind) -> list[dict[str, Any]]:
        return [_operation_view(op, sees_failure=staff) for op in operations if op.kind in kinds]

    def authorization_view(operation: Operation) -> dict[str, Any]:
        view = _operation_view(operation, sees_failure=sees_decline)
        declined = sees_decline and view["state"] == "failed"
        return view | {"decline_code": payment.decline_code if declined else None}

    money = payment.money
    return {
        "order_id": payment.order_id,
        "state": payment.state.value,
        "amount": money(payment.total_minor).model_dump(),
        "credit_applied": money(payment.credit_applied_minor).model_dump(),
        "authorized": money(payment.card_minor).model_dump(),
        "captured": money(payment.captured_minor).model_dump(),
        "refunded": money(payment.refunded_minor).model_dump(),
        "released": money(payment.released_minor).model_dump(),
        "platform_fee": money(payment.fee_minor).model_dump(),
        "payment_intent_id": payment.payment_intent_id,
        "expires_at": payment.expires_at.isoformat() if payment.expires_at else None,
        "failure_reason": payment.failure_reason if sees_decline else None,
        "decline_code": payment.decline_code if sees_decline else None,
        "authorizations": [
            authorization_view(op)
            for op in operations
            if op.kind in (OperationKind.AUTHORIZE, OperationKind.REAUTHORIZE)
        ],
        "voids": of(OperationKind.VOID, OperationKind.RELEASE_HOLD),
        "captures": of(OperationKind.CAPTURE),
        "refunds": of(OperationKind.REFUND),
        "payouts": of(OperationKind.TRANSFER),
        "disputes": [
            {
                "id": row.id,
                "status": row.status,
                "reason": row.reason,
                "amount": money(row.amount_minor).model_dump(),
                "opened_at": row.opened_at.isoformat(),
                "closed_at": row.closed_at.isoformat() if row.closed_at else None,
                "refusal": row.refusal if staff else None,
            }
            for row in disputes
        ],
    }


def _line_view(row: Any) -> dict[str, Any]:
    return {
        "account": row.account,
        "amount": {"amount_minor": row.amount_minor, "currency": row.currency},
        "entry_id": row.entry_id,
        "at": row.at.isoformat(),
        "reason": row.reason,
    }


def build_router(
    ctx: PaymentsContext,
    caller: Callable[..., Caller],
    *,
    webhook_secret: str,
    webhook_tolerance: timedelta,
) -> APIRouter:
    router = APIRouter(prefix="/v1")
    CallerDep = Annotated[Caller, Depends(caller)]

    @router.get("/orders/{order_id}/payment")
    async def get_payment(order_id: str, who: CallerDep) -> dict[str, Any]:
        async with ctx.db.unit_of_work() as uow:
            payment = await Payments(uow.session).get(order_id)
            if payment is None or not payment.visible_to(who.id, who.role):
                raise not_found("payment")
            operations = await Operations(uow.session).of_order(order_id)
            disputes = await Disputes(uow.session).of_order(order_id)
        return payment_view(
            payment,
            operations,
            disputes,
            staff=who.role in ("agent", "operator"),
            buyer=who.id == payment.buyer_id,
        )

    @router.get("/me/credits")
    async def my_credits(who: CallerDep) -> dict[str, Any]:
        """The caller's goodwill credit: a balance per currency and every movement."""
        async with ctx.db.unit_of_work() as uow:
            balances = await CreditBalances(uow.session).balances(who.id)
            lines = await Ledger(uow.session).of_account(ledger.buyer_credit(who.id))
        return {
            "balances": [
                {"amount_minor": row.balance_minor, "currency": row.currency} for row in balances
            ],
            "entries": [_line_view(row) | {"order_id": row.order_id} for row in lines],
        }

    @router.get("/ledger/orders/{order_id}")
    async def order_ledger(order_id: str, who: CallerDep) -> dict[str, Any]:
        require_role(who, "operator")
        async with ctx.db.unit_of_work() as uow:
            rows = await Ledger(uow.session).of_order(order_id)
        if not rows:
            raise not_found("ledger for an order")
        by_currency: dict[str, list[ledger.Line]] = {}
        for row in rows:
            by_currency.setdefault(row.currency, []).append(
                ledger.Line(row.account, row.amount_minor)
            )
        return {
            "order_id": order_id,
            "lines": [_line_view(row) for row in rows],
            "balances": {
                currency: ledger.balances(lines) for currency, lines in by_currency.items()
            },
            "balanced": all(
                sum(line.amount_minor for line in lines) == 0 for lines in by_currency.values()
            ),
        }

    @router.post("/webhooks/stripe")
    async def stripe_webhook(
        request: Request, stripe_signature: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """Signed by Stripe, not by a principal: the signature is the authentication."""
        payload = await request.body()
        now = ctx.clock.now()
        try:
            event = webhooks.verify(
                payload, stripe_signature, webhook_secret, now, webhook_tolerance
            )
        except webhooks.WebhookRefused as error:
            raise Problem(400, "Webhook refused", str(error), slug="webhook-refused") from error
        first = await webhooks.receive(ctx.db, event, now)
        return {"received": True, "duplicate": not first}

    return router
