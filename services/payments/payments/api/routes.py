"""An order's payment as its parties see it, a buyer's credits, the ledger for operators, and
Stripe's webhooks."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field

from payments import domain, ledger, webhooks
from payments.api.dependencies import Context, Webhooks
from payments.api.views import line_view, payment_view
from payments.store import store
from servicekit.hosting.http import CallerDep, Problem, not_found, require_role

router = APIRouter(prefix="/v1")


@router.get("/orders/{order_id}/payment")
async def get_payment(order_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    async with ctx.db.unit_of_work() as uow:
        payment = await uow.payments.get(order_id)
        if payment is None or not payment.visible_to(who.id, who.role):
            raise not_found("payment")
        operations = await uow.operations.of_order(order_id)
        disputes = await uow.disputes.of_order(order_id)
    return payment_view(
        payment,
        operations,
        disputes,
        staff=who.role in ("agent", "operator"),
        buyer=who.id == payment.buyer_id,
    )


class NewCard(BaseModel):
    payment_method: str = Field(min_length=3, max_length=100, pattern=r"^pm_[A-Za-z0-9_]+$")


@router.put("/orders/{order_id}/payment-method")
async def replace_payment_method(
    order_id: str, body: NewCard, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    """The buyer's new card after a hold lapsed (before shipment): re-authorized at once."""
    async with ctx.db.unit_of_work() as uow:
        payment = await uow.payments.get(order_id)
        if payment is None or not payment.visible_to(who.id, who.role):
            raise not_found("payment")
        if who.id != payment.buyer_id:
            raise Problem(
                403, "Forbidden", "only the order's buyer gives its card", slug="forbidden"
            )
        try:
            decision = domain.replace_card(payment, body.payment_method, ctx.clock.now())
        except domain.PaymentRefused as error:
            raise Problem(409, "Conflict", str(error), slug="no-card-needed") from error
        await store(uow, payment, decision)
        await uow.commit()
    ctx.wake_worker()
    return {"order_id": order_id, "state": "reauthorizing", "payment_method": body.payment_method}


@router.get("/me/credits")
async def my_credits(who: CallerDep, ctx: Context) -> dict[str, Any]:
    """The caller's goodwill credit: a balance per currency and every movement."""
    async with ctx.db.unit_of_work() as uow:
        balances = await uow.credit_balances.balances(who.id)
        lines = await uow.ledger.of_account(ledger.buyer_credit(who.id))
    return {
        "balances": [
            {"amount_minor": row.balance_minor, "currency": row.currency} for row in balances
        ],
        "entries": [line_view(row) | {"order_id": row.order_id} for row in lines],
    }


@router.get("/ledger/orders/{order_id}")
async def order_ledger(order_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    require_role(who, "operator")
    async with ctx.db.unit_of_work() as uow:
        rows = await uow.ledger.of_order(order_id)
    if not rows:
        raise not_found("ledger for an order")
    by_currency: dict[str, list[ledger.Line]] = {}
    for row in rows:
        by_currency.setdefault(row.currency, []).append(ledger.Line(row.account, row.amount_minor))
    return {
        "order_id": order_id,
        "lines": [line_view(row) for row in rows],
        "balances": {currency: ledger.balances(lines) for currency, lines in by_currency.items()},
        "balanced": all(
            sum(line.amount_minor for line in lines) == 0 for lines in by_currency.values()
        ),
    }


@router.post("/webhooks/stripe")
async def stripe_webhook(
    request: Request,
    ctx: Context,
    verification: Webhooks,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Signed by Stripe, not by a principal: the signature is the authentication."""
    payload = await request.body()
    now = ctx.clock.now()
    try:
        event = webhooks.verify(
            payload, stripe_signature, verification.secret, now, verification.tolerance
        )
    except webhooks.WebhookRefused as error:
        raise Problem(400, "Webhook refused", str(error), slug="webhook-refused") from error
    first = await webhooks.receive(ctx.db, event, now, ctx.terms)
    return {"received": True, "duplicate": not first}
