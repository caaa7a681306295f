"""Seller payouts on SQLite and PostgreSQL against the dev stack's Stripe (the Connect server in
front of localstripe): a seller onboards, their released money is paid in one transfer per run
and never twice (also after a crash between Stripe's transfer and our commit), a refund after
the payout is clawed back by reversing the transfer, and a seller without an account keeps
their balance and is told once."""

import json
from datetime import timedelta

from sqlalchemy import select

from contracts.orders import OrderCompleted
from payments import ledger
from payments.api.seller_routes import (
    PayoutAccountRequest,
    put_payout_account,
    seller_balance,
)
from payments.domain.payouts import PayoutStatus
from servicekit.hosting.http import Caller
from servicekit.messaging.db import outbox

from payments_test_helpers import (
    SELLER,
    balances,
    deliver,
    eur,
    fact,
    resolved,
    settle,
    shipped_order,
)

SELLER_CALLER = Caller(id=SELLER, role="seller")


async def released_order(ctx) -> str:
    order_id = await shipped_order(ctx)
    await deliver(ctx, OrderCompleted(**fact(order_id), total=eur(8400), confirmed_by="buyer"))
    await settle(ctx)
    return order_id


async def onboard(ctx) -> dict:
    return await put_payout_account(
        PayoutAccountRequest(country="DE", currency="EUR"), SELLER_CALLER, ctx
    )


async def transfers_of(stripe_cards, payout_id):
    page = await stripe_cards.client.v1.transfers.list_async({"transfer_group": payout_id})
    return list(page.data)


async def published(engine, kind):
    async with engine.connect() as connection:
        rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).all()
    return [
        json.loads(row.payload)["data"]
        for row in rows
        if json.loads(row.payload)["type"] == f"marketplace.payment.{kind}.v1"
    ]


async def test_an_onboarded_seller_is_paid_once_what_they_are_owed(
    ctx, engine, payout_runner, stripe_cards
):
    account = await onboard(ctx)
    assert account["status"] == "active"  # the dev server completes onboarding at once
    assert account["account_id"].startswith("acct_")
    assert (await onboard(ctx))["account_id"] == account["account_id"]  # one account
    order_id = await released_order(ctx)

    (payout,) = await payout_runner.run()
    second = await payout_runner.run()

    assert (payout.status, payout.amount_minor, payout.order_ids) == (
        PayoutStatus.PAID,
        7980,
        [order_id],
    )
    assert second == []
    (transfer,) = await transfers_of(stripe_cards, payout.id)
    assert (transfer.amount, transfer.destination, transfer.id) == (
        7980,
        account["account_id"],
        payout.transfer_id,
    )
    assert await balances(ctx, order_id) == {
        "buyer_card": -8400,
        "payouts": 7980,
        "platform_fees": 420,
    }
    (balance,) = (await seller_balance(SELLER_CALLER, ctx))["balances"]
    assert (balance["in_escrow"]["amount_minor"], balance["available"]["amount_minor"]) == (0, 0)
    assert balance["paid_out"]["amount_minor"] == 7980
    (paid,) = await published(engine, "payout_paid")
    assert (paid["payout_id"], paid["seller_id"], paid["order_ids"]) == (
        payout.id,
        SELLER,
        [order_id],
    )


async def test_a_transfer_made_before_a_crash_is_found_not_made_again(
    ctx, payout_runner, stripe_cards
):
    await onboard(ctx)
    await released_order(ctx)
    (payout_id,) = await payout_runner.plan(ctx.clock.now())
    async with ctx.db.unit_of_work() as uow:
        booked = await uow.payouts.get(payout_id)
    made = await ctx.connect.transfer(booked)  # Stripe acted; then the process died

    await payout_runner.work_once()

    async with ctx.db.unit_of_work() as uow:
        payout = await uow.payouts.get(payout_id)
    assert (payout.status, payout.transfer_id) == (PayoutStatus.PAID, made)
    assert len(await transfers_of(stripe_cards, payout_id)) == 1


async def test_a_refund_after_the_payout_is_taken_back_by_reversing_the_transfer(
    ctx, payout_runner, stripe_cards
):
    await onboard(ctx)
    order_id = await released_order(ctx)
    (payout,) = await payout_runner.run()
    await deliver(ctx, resolved(order_id, "refund", ticket_id="tkt_after_payout"))
    await settle(ctx)
    assert (await balances(ctx, order_id))[ledger.seller_payable(SELLER)] == -7980

    assert await payout_runner.run() == []  # nothing paid: the claw-back is reversed

    (transfer,) = await transfers_of(stripe_cards, payout.id)
    assert (transfer.amount_reversed, transfer.reversed) == (7980, True)
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "refunds": 8400}
    async with ctx.db.unit_of_work() as uow:
        assert (await uow.payouts.get(payout.id)).status is PayoutStatus.REVERSED


async def test_a_seller_without_an_account_keeps_the_balance_and_is_told_once(
    ctx, engine, payout_runner
):
    order_id = await released_order(ctx)

    assert await payout_runner.run() == []
    assert await payout_runner.run() == []

    assert (await balances(ctx, order_id))[ledger.seller_payable(SELLER)] == 7980
    (told,) = await published(engine, "payout_account_needed")
    assert (told["seller_id"], told["available"]["amount_minor"]) == (SELLER, 7980)


async def test_money_waiting_for_an_account_is_reminded_then_handed_to_an_agent(
    ctx, engine, clock, payout_runner
):
    await released_order(ctx)
    first = clock.now()
    assert await payout_runner.run() == []  # told

    clock.set(first + timedelta(days=7, hours=1))
    await payout_runner.run()
    await payout_runner.run()  # a second run the same day reminds nobody again
    clock.set(first + timedelta(days=30, hours=1))
    await payout_runner.run()

    told = await published(engine, "payout_account_needed")
    assert [(t["reminder"], t["available"]["amount_minor"]) for t in told] == [
        (0, 7980),
        (1, 7980),
        (4, 7980),  # the latest one due since the last run (days 14, 21, 28 fell in between)
    ]
    (overdue,) = await published(engine, "payout_account_overdue")
    assert overdue["seller_id"] == SELLER
    assert overdue["waiting_since"].startswith(first.date().isoformat())
