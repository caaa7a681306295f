"""What buyers and agents do on SQLite and PostgreSQL: a buyer opens a ticket on their own
order (a second question joins the open one), internal notes stay with agents, and an agent's
resolution is published for payments once, with the money decided on the order's earlier
tickets counted."""

import pytest

from servicekit.hosting.http import Problem
from support.domain.errors import (
    InvalidResolution,
    NotAllowed,
    NotYetKnown,
    ResolutionImpossible,
)
from support.domain.tickets import Status
from support.handlers import commands

from support_test_helpers import (
    BUYER,
    EUR,
    NOW,
    deliver,
    money,
    new_order_id,
    paid,
    placed,
    published,
    tickets_of,
    triggers,
)


async def test_a_buyer_opens_a_ticket_on_their_order_and_nobody_else_can(ctx):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    ticket = await commands.open_by_customer(
        ctx, principal_id=BUYER, role="buyer", order_id=order_id, title="Colour?", body="Blue?"
    )
    assert (ticket.opened_by, ticket.reason) == (BUYER, "customer_request")

    with pytest.raises(Problem) as refused:
        await commands.open_by_customer(
            ctx, principal_id="usr_other", role="buyer", order_id=order_id, title="x", body="y"
        )
    assert refused.value.status == 404
    with pytest.raises(NotAllowed):
        await commands.open_by_customer(
            ctx, principal_id="usr_agent", role="agent", order_id=order_id, title="x", body="y"
        )


async def test_internal_notes_stay_with_agents_and_a_reply_starts_the_clock(ctx):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await deliver(ctx, triggers(order_id)["damaged"])
    [ticket] = await tickets_of(ctx, order_id)

    await commands.post_message(
        ctx, ticket.id, principal_id="usr_agent", role="agent", body="check photos", internal=True
    )
    answered = await commands.post_message(
        ctx, ticket.id, principal_id="usr_agent", role="agent", body="Photos?", internal=False
    )
    assert answered.status is Status.PENDING_BUYER
    assert answered.first_responded_at == NOW
    with pytest.raises(NotAllowed):
        await commands.post_message(
            ctx, ticket.id, principal_id=BUYER, role="buyer", body="x", internal=True
        )
    async with ctx.db.unit_of_work() as uow:
        seen_by_buyer = await uow.messages.of_ticket(ticket.id, with_internal=False)
        seen_by_agent = await uow.messages.of_ticket(ticket.id, with_internal=True)
    assert [m.body for m in seen_by_buyer] == ["Photos?"]
    assert [m.body for m in seen_by_agent] == ["check photos", "Photos?"]


async def test_a_second_question_joins_the_open_one_and_an_overlarge_refund_is_refused(ctx):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    first = await commands.open_by_customer(
        ctx, principal_id=BUYER, role="buyer", order_id=order_id, title="Colour?", body="Blue?"
    )
    await commands.post_message(
        ctx, first.id, principal_id="usr_a", role="agent", body="Let me check", internal=False
    )
    again = await commands.open_by_customer(
        ctx, principal_id=BUYER, role="buyer", order_id=order_id, title="Size?", body="And M?"
    )
    assert again.id == first.id
    assert again.status is Status.OPEN  # the buyer answered: back with the agents
    async with ctx.db.unit_of_work() as uow:
        bodies = [m.body for m in await uow.messages.of_ticket(first.id, with_internal=True)]
    assert bodies == ["Blue?", "Let me check", "And M?"]
    # what payments holds is not known yet: support does not guess
    with pytest.raises(NotYetKnown):
        await commands.resolve(
            ctx,
            first.id,
            principal_id="usr_a",
            role="agent",
            action="partial_refund",
            amount=money(1000),
            note="x",
        )
    await paid(ctx, order_id)
    with pytest.raises(ResolutionImpossible, match=r"50\.00 EUR can still be refunded") as refused:
        await commands.resolve(
            ctx,
            first.id,
            principal_id="usr_a",
            role="agent",
            action="partial_refund",
            amount=money(5001),
            note="x",
        )
    assert refused.value.extra["refundable"] == {"amount_minor": 5000, "currency": EUR}
    async with ctx.db.unit_of_work() as uow:
        assert (await uow.tickets.get(first.id)).is_open  # nothing changed


async def test_a_resolution_is_published_for_payments_once_and_only_by_an_agent(ctx, engine):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await paid(ctx, order_id)
    await deliver(ctx, triggers(order_id)["damaged"])
    [ticket] = await tickets_of(ctx, order_id)

    with pytest.raises(NotAllowed):
        await commands.resolve(
            ctx, ticket.id, principal_id=BUYER, role="buyer", action="refund", amount=None, note=""
        )
    with pytest.raises(InvalidResolution, match="needs an amount"):
        await commands.resolve(
            ctx,
            ticket.id,
            principal_id="usr_a",
            role="agent",
            action="credit",
            amount=None,
            note="",
        )
    resolved = await commands.resolve(
        ctx,
        ticket.id,
        principal_id="usr_a",
        role="agent",
        action="partial_refund",
        amount=money(1200),
        note="a crack in the lens",
    )
    assert resolved.status is Status.RESOLVED
    [(_, data)] = [(k, d) for k, d in await published(engine) if k == "ticket_resolved.v1"]
    assert (data["action"], data["amount"]["amount_minor"], data["order_id"]) == (
        "partial_refund",
        1200,
        order_id,
    )
    # resolved: a new breach of the same kind opens a new ticket
    await deliver(ctx, triggers(order_id)["damaged"])
    assert len(await tickets_of(ctx, order_id)) == 2


async def test_money_decided_on_one_ticket_is_counted_on_the_next_of_the_same_order(ctx, engine):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await paid(ctx, order_id)
    await deliver(ctx, triggers(order_id)["damaged"])
    await deliver(ctx, triggers(order_id)["delivery_failed"])
    damaged, late = await tickets_of(ctx, order_id)

    async def resolve(ticket, action, amount_minor):
        return await commands.resolve(
            ctx,
            ticket.id,
            principal_id="usr_a",
            role="agent",
            action=action,
            amount=money(amount_minor),
            note="sorry",
        )

    await resolve(damaged, "partial_refund", 3000)
    with pytest.raises(ResolutionImpossible, match=r"20\.00 EUR"):
        await resolve(late, "refund", 2001)
    await resolve(late, "credit", 5000)
    resolved = [d for kind, d in await published(engine) if kind == "ticket_resolved.v1"]
    assert [(d["action"], d["amount"]["amount_minor"], d["buyer_id"]) for d in resolved] == [
        ("partial_refund", 3000, BUYER),
        ("credit", 5000, BUYER),
    ]


async def test_a_refund_before_the_capture_is_accepted_whole_and_published_for_a_void(ctx, engine):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await paid(ctx, order_id, capture=False)
    await deliver(ctx, triggers(order_id)["seller_backed_out"])
    [ticket] = await tickets_of(ctx, order_id)

    await commands.resolve(
        ctx, ticket.id, principal_id="usr_a", role="agent", action="refund", amount=None, note="x"
    )

    [data] = [d for kind, d in await published(engine) if kind == "ticket_resolved.v1"]
    assert (data["action"], data["amount"]) == ("refund", None)
