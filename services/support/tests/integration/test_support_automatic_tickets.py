"""Support's automatic tickets on SQLite and PostgreSQL: each opens once with the order's
context (also when a payment event overtakes its order), a repeated slip updates it, SLA
breaches escalate once, and a buyer's unanswered message opens a ticket after 24 hours."""

from datetime import timedelta

import pytest

from contracts.orders import (
    OrderDeliveryFailed,
    OrderMessagePosted,
    OrderSellerBackedOut,
)
from support.domain.tickets import Status
from support.handlers import clocks

from support_test_helpers import (
    BUYER,
    EUR,
    NOW,
    SELLER,
    deliver,
    fact,
    new_order_id,
    placed,
    published,
    tickets_of,
    triggers,
)


@pytest.mark.parametrize(
    "reason",
    [
        "shipment_overdue",
        "delivery_failed",
        "returned_to_sender",
        "not_received",
        "damaged",
        "problem_other",
        "seller_backed_out",
        "capture_failed",
        "authorization_expiring",
        "chargeback",
        "refund_failed",
    ],
)
async def test_a_broken_promise_opens_one_system_ticket_with_the_orders_context(
    ctx, engine, reason
):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    event = triggers(order_id)[reason]

    await deliver(ctx, event, source="payments" if "payment" in event.type else "orders")

    [ticket] = await tickets_of(ctx, order_id)
    assert (ticket.reason, ticket.opened_by, ticket.status) == (reason, "system", Status.OPEN)
    assert (ticket.buyer_id, ticket.seller_id, ticket.currency) == (BUYER, SELLER, EUR)
    assert ticket.context["order_id"] == order_id
    assert ticket.first_response_due > NOW
    opened = [data for kind, data in await published(engine) if kind == "ticket_opened.v1"]
    assert [(o["ticket_id"], o["reason"]) for o in opened] == [(ticket.id, reason)]


async def test_a_single_failed_delivery_opens_nothing(ctx):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await deliver(ctx, OrderDeliveryFailed(**fact(order_id), attempts=1))
    assert await tickets_of(ctx, order_id) == []


async def test_the_same_breach_again_updates_the_open_ticket_instead_of_opening_another(
    ctx, engine
):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    overdue = triggers(order_id)["shipment_overdue"]
    await deliver(ctx, overdue)
    await deliver(ctx, overdue.model_copy(update={"occurred_at": NOW + timedelta(days=1)}))

    [ticket] = await tickets_of(ctx, order_id)
    assert ticket.occurrences == 2
    assert ticket.priority == "urgent"  # high, raised once
    kinds = [kind for kind, _ in await published(engine)]
    assert kinds == ["ticket_opened.v1", "ticket_escalated.v1"]


async def test_a_seller_backing_out_of_a_ticket_to_an_event_must_be_solved_before_the_event(ctx):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    event_day = (NOW + timedelta(days=2)).date()
    await deliver(
        ctx,
        OrderSellerBackedOut(
            **fact(order_id, fulfilment="transfer"), reason="lost", event_date=str(event_day)
        ),
    )
    [ticket] = await tickets_of(ctx, order_id)
    assert ticket.priority == "urgent"
    assert ticket.resolution_due <= NOW + timedelta(days=1)


async def test_a_payment_event_that_overtakes_its_order_still_opens_a_full_ticket(ctx):
    order_id = new_order_id()
    await deliver(ctx, triggers(order_id)["capture_failed"], source="payments")
    [ticket] = await tickets_of(ctx, order_id)
    assert (ticket.buyer_id, ticket.seller_id, ticket.currency) == (BUYER, SELLER, EUR)


async def test_an_sla_breach_escalates_the_ticket_once(ctx, engine, clock):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await deliver(ctx, triggers(order_id)["not_received"])
    [ticket] = await tickets_of(ctx, order_id)

    assert (
        await clocks.escalate_breaches(ctx, ticket.first_response_due - timedelta(minutes=1)) == 0
    )
    assert await clocks.escalate_breaches(ctx, ticket.first_response_due) == 1
    assert await clocks.escalate_breaches(ctx, ticket.first_response_due) == 0

    [escalated] = await tickets_of(ctx, order_id)
    assert escalated.status is Status.ESCALATED
    assert escalated.priority == "urgent"
    assert escalated.first_response_breached and not escalated.resolution_breached
    why = [d["why"] for kind, d in await published(engine) if kind == "ticket_escalated.v1"]
    assert why == ["first_response_overdue"]

    await clocks.escalate_breaches(ctx, ticket.resolution_due)
    why = [d["why"] for kind, d in await published(engine) if kind == "ticket_escalated.v1"]
    assert why == ["first_response_overdue", "resolution_overdue"]


async def test_a_buyers_message_unanswered_for_a_day_opens_a_ticket(ctx, engine):
    answered, ignored = new_order_id(), new_order_id()
    for order_id in (answered, ignored):
        await deliver(ctx, placed(order_id))
        await deliver(
            ctx,
            OrderMessagePosted(
                **fact(order_id), message_id="m1", sender_id=BUYER, sender_role="buyer", body="?"
            ),
        )
    await deliver(
        ctx,
        OrderMessagePosted(
            **fact(answered), message_id="m2", sender_id=SELLER, sender_role="seller", body="!"
        ),
    )

    assert await clocks.open_unanswered(ctx, NOW + timedelta(hours=23)) == 0
    assert await clocks.open_unanswered(ctx, NOW + timedelta(hours=24)) == 1
    assert await clocks.open_unanswered(ctx, NOW + timedelta(hours=48)) == 0

    assert await tickets_of(ctx, answered) == []
    [ticket] = await tickets_of(ctx, ignored)
    assert ticket.reason == "message_unanswered"
