"""Payments' defences (#16) on SQLite and PostgreSQL: goodwill credit bounded by the order,
forged resolutions refused, a Stripe operation that fails for good set aside while the others
go on, and the buyer's decline reason kept from the seller."""

import json

import pytest
import stripe

from contracts import Money
from contracts.orders import OrderShipped
from payments.api.views import payment_view
from payments.cards import TransientCardError
from payments.domain import OperationState, PaymentRefused
from payments.worker import OPERATIONS_SET_ASIDE

from payments_test_helpers import (
    authorized_order,
    balances,
    deliver,
    eur,
    events_of,
    fact,
    new_order_id,
    placed,
    resolved,
    settle,
    shipped_order,
    stored_payment,
)

# --- resolutions and credits --------------------------------------------------------------


async def test_a_forged_credit_for_an_order_payments_does_not_know_is_refused(ctx, engine):
    forged = resolved(new_order_id(), "credit", eur(4_242_424))
    with pytest.raises(PaymentRefused, match="has no payment"):
        await deliver(ctx, forged)
    assert await events_of(engine, forged.order_id) == []


@pytest.mark.parametrize("action", ["refund", "partial_refund"])
async def test_a_forged_refund_for_an_order_payments_does_not_know_is_refused(ctx, action):
    with pytest.raises(PaymentRefused, match="has no payment"):
        await deliver(ctx, resolved(new_order_id(), action, eur(100)))


async def test_credit_on_an_order_is_bounded_by_its_total_across_tickets(ctx, engine):
    order_id = await shipped_order(ctx)  # 84.00 EUR
    with pytest.raises(PaymentRefused, match="at most 8400 more"):
        await deliver(ctx, resolved(order_id, "credit", eur(999_999_999_999), ticket_id="t1"))
    await deliver(ctx, resolved(order_id, "credit", eur(5_000), ticket_id="t2"))
    with pytest.raises(PaymentRefused, match="at most 3400 more"):
        await deliver(ctx, resolved(order_id, "credit", eur(3_401), ticket_id="t3"))
    await deliver(ctx, resolved(order_id, "credit", eur(3_400), ticket_id="t4"))

    issued = [d for k, d in await events_of(engine, order_id) if k == "credit_issued.v1"]
    assert [
        (
            d["amount"]["amount_minor"],
            d["total_credited"]["amount_minor"],
            d["creditable"]["amount_minor"],
        )
        for d in issued
    ] == [(5_000, 5_000, 3_400), (3_400, 8_400, 0)]
    assert (await balances(ctx, order_id))["goodwill"] == -8_400


async def test_an_operator_setting_allows_more_credit(ctx):
    ctx.credit_limit_bps = 20_000
    order_id = await shipped_order(ctx)
    await deliver(ctx, resolved(order_id, "credit", eur(16_800)))
    assert (await balances(ctx, order_id))["goodwill"] == -16_800


async def test_a_credit_in_another_currency_or_for_another_buyer_is_refused(ctx):
    order_id = await shipped_order(ctx)
    usd = Money(amount_minor=100, currency="USD")
    with pytest.raises(PaymentRefused, match="paid in EUR"):
        await deliver(ctx, resolved(order_id, "credit", usd))
    someone_else = resolved(order_id, "credit", eur(100)).model_copy(
        update={"buyer_id": "usr_someone_else"}
    )
    with pytest.raises(PaymentRefused, match="not bought by usr_someone_else"):
        await deliver(ctx, someone_else)


async def test_payments_events_say_what_can_still_be_refunded(ctx, engine):
    order_id = await shipped_order(ctx)
    await deliver(ctx, resolved(order_id, "partial_refund", eur(1_000)))
    await settle(ctx)
    events = dict(await events_of(engine, order_id))
    assert events["authorized.v1"]["creditable"]["amount_minor"] == 8_400
    assert events["captured.v1"]["refundable"]["amount_minor"] == 8_400
    refunded = events["refunded.v1"]
    assert refunded["captured"]["amount_minor"] == 8_400
    assert refunded["total_refunded"]["amount_minor"] == 1_000
    assert refunded["refundable"]["amount_minor"] == 7_400


# --- a Stripe operation that fails for good ----------------------------------------------


class PoisonFor:
    """Stripe for every order but one, whose operations Stripe refuses as invalid requests
    (or which fail with `error`)."""

    def __init__(self, cards, poisoned_order, error=None):
        self.cards, self.poisoned_order, self.calls = cards, poisoned_order, []
        self.error = error or stripe.InvalidRequestError(
            "No such PaymentMethod: 'pm_gone'", param="payment_method"
        )

    async def perform(self, operation, payment_method, customer_id=None):
        self.calls.append(operation.id)
        if operation.order_id == self.poisoned_order:
            raise self.error
        return await self.cards.perform(operation, payment_method)

    async def look_up(self, operation):
        if operation.order_id == self.poisoned_order:
            raise self.error
        return await self.cards.look_up(operation)


def _set_aside_count(kind: str) -> float:
    return OPERATIONS_SET_ASIDE.labels(kind)._value.get()


async def test_a_stripe_operation_refused_for_good_is_set_aside_and_the_others_go_on(
    ctx, engine, stripe_cards, worker
):
    poisoned, healthy = new_order_id(), new_order_id()
    cards = PoisonFor(stripe_cards, poisoned)
    ctx.cards = cards
    before = _set_aside_count("authorize")
    await deliver(ctx, placed(poisoned))
    await deliver(ctx, placed(healthy))

    await worker.run_once()
    await worker.run_once()  # nothing is tried again

    assert cards.calls.count(f"order:{poisoned}:authorize") == 1
    async with ctx.db.unit_of_work() as uow:
        (operation,) = await uow.operations.of_order(poisoned)
        assert await uow.operations.open(10) == []
    assert operation.state is OperationState.FAILED
    assert operation.failure.startswith("set aside: InvalidRequestError")
    assert "No such PaymentMethod" in operation.failure
    assert _set_aside_count("authorize") == before + 1
    assert (await stored_payment(ctx, healthy)).payment_intent_id
    assert [k for k, _ in await events_of(engine, healthy)] == ["authorized.v1"]
    # the poisoned order is told as a refusal is: it cannot go ahead
    assert [k for k, _ in await events_of(engine, poisoned)] == ["authorization_failed.v1"]


async def test_a_capture_stripe_refuses_for_good_goes_to_support_instead_of_blocking(
    ctx, engine, stripe_cards, worker
):
    order_id = await authorized_order(ctx)
    ctx.cards = PoisonFor(stripe_cards, order_id)
    await deliver(ctx, OrderShipped(**fact(order_id), total=eur(8400)))
    await worker.run_once()

    async with ctx.db.unit_of_work() as uow:
        capture = await uow.operations.get(f"order:{order_id}:capture")
    assert capture.state is OperationState.FAILED
    assert capture.failure.startswith("set aside:")
    kinds = [k for k, _ in await events_of(engine, order_id)]
    assert kinds == ["authorized.v1", "capture_failed.v1"]


async def test_an_unexpected_failure_is_tried_a_few_times_then_set_aside(ctx, stripe_cards, worker):
    order_id = new_order_id()
    ctx.cards = PoisonFor(stripe_cards, order_id, error=RuntimeError("cannot read the answer"))
    worker.attempts_before_set_aside = 3
    await deliver(ctx, placed(order_id))
    for _ in range(3):
        worker.backoff = {key: (failures, 0.0) for key, (failures, _) in worker.backoff.items()}
        await worker.run_once()

    async with ctx.db.unit_of_work() as uow:
        (operation,) = await uow.operations.of_order(order_id)
    assert operation.state is OperationState.FAILED
    assert operation.failure == "set aside: RuntimeError: cannot read the answer"
    assert worker.backoff == {}


async def test_orders_backing_off_do_not_fill_the_workers_batch(ctx, stripe_cards, worker):
    stuck, waiting = new_order_id(), new_order_id()
    ctx.cards = PoisonFor(stripe_cards, stuck, error=TransientCardError("reset by peer"))
    ctx.batch_size = 1
    await deliver(ctx, placed(stuck))
    await deliver(ctx, placed(waiting))

    await worker.run_once()  # the oldest, stuck one, fails and backs off
    await worker.run_once()  # the next pass reaches the other order

    assert (await stored_payment(ctx, waiting)).payment_intent_id
    async with ctx.db.unit_of_work() as uow:
        (operation,) = await uow.operations.of_order(stuck)
    assert operation.state is OperationState.STARTED  # an outage is tried again, not set aside


# --- who sees the decline reason ----------------------------------------------------------


async def test_a_seller_does_not_see_why_the_buyers_card_was_declined(ctx, worker):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id, payment_method="pm_card_chargeCustomerFail"))
    await worker.run_once()
    payment = await stored_payment(ctx, order_id)
    async with ctx.db.unit_of_work() as uow:
        operations = await uow.operations.of_order(order_id)

    seller = payment_view(payment, operations, [], staff=False, buyer=False)
    buyer = payment_view(payment, operations, [], staff=False, buyer=True)
    agent = payment_view(payment, operations, [], staff=True, buyer=False)

    assert seller["state"] == "failed"
    assert (seller["failure_reason"], seller["decline_code"]) == (None, None)
    assert seller["authorizations"][0]["failure"] is None
    assert seller["authorizations"][0]["decline_code"] is None
    assert "card_declined" not in json.dumps(seller)
    for view in (buyer, agent):
        assert view["decline_code"] == "card_declined"
        assert view["failure_reason"]
        assert view["authorizations"][0]["decline_code"] == "card_declined"
