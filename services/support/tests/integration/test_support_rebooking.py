"""Alternatives and rebook on a ticket (#20), on SQLite and PostgreSQL: support keeps orders'
listing facts by event (the latest version wins), the backed-out ticket lists the other
sellers' listings cheapest first, and a rebook on anything else is 409 with the
alternatives, changing nothing; an accepted one publishes the listing."""

from datetime import timedelta

import pytest

from contracts.orders import EventFacts, ListingUpdated, OrderRebookFailed, OrderSellerBackedOut
from support.domain.errors import ResolutionImpossible
from support.handlers import commands
from support.handlers.rebooking import alternatives_shown

from support_test_helpers import (
    AGENT,
    NOW,
    SELLER,
    deliver,
    fact,
    money,
    new_order_id,
    paid,
    placed,
    published,
    tickets_of,
)

EVENT = EventFacts(
    event_id="evt_r",
    name="Gig",
    venue="Hall",
    kind="ticket",
    starts_at=NOW + timedelta(days=5),
    ends_at=NOW + timedelta(days=5, hours=3),
    utc_offset_minutes=60,
)


def listing(listing_id, price, *, seller="usr_other", left=1, status="active", version=1):
    return ListingUpdated(
        listing_id=listing_id,
        seller_id=seller,
        event_id=EVENT.event_id,
        price=money(price),
        quantity_available=left,
        status=status,
        version=version,
        occurred_at=NOW,
    )


async def backed_out_ticket(ctx):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await paid(ctx, order_id, capture=False)
    gone = OrderSellerBackedOut(
        **fact(order_id, fulfilment="transfer"), reason="lost it", event=EVENT, quantity=1
    )
    await deliver(ctx, gone)
    (ticket,) = await tickets_of(ctx, order_id)
    return ticket


async def rebook(ctx, ticket, listing_id):
    return await commands.resolve(
        ctx,
        ticket.id,
        principal_id=AGENT,
        role="agent",
        action="rebook",
        amount=None,
        note="Another seat",
        listing_id=listing_id,
    )


async def test_the_ticket_offers_the_event_listings_and_rebooks_only_on_one_of_them(ctx, engine):
    for fact_ in (
        listing("lst_dear", 7000),
        listing("lst_cheap", 6000, version=1),
        listing("lst_cheap", 6500, version=3),  # a later change
        listing("lst_cheap", 5000, version=2),  # an older one, arriving late: ignored
        listing("lst_own", 1000, seller=SELLER),
        listing("lst_gone", 1000, left=0, status="sold_out"),
    ):
        await deliver(ctx, fact_)
    ticket = await backed_out_ticket(ctx)

    async with ctx.db.unit_of_work() as uow:
        shown = await alternatives_shown(uow, ticket)
        assert "rebook" in await commands.possible_now(ctx, uow, ticket)
    assert [(a["listing_id"], a["price"]["amount_minor"]) for a in shown["alternatives"]] == [
        ("lst_cheap", 6500),
        ("lst_dear", 7000),
    ]
    before = len(await published(engine))
    for wrong in ("lst_own", "lst_gone", "lst_unknown", None):
        with pytest.raises(ResolutionImpossible) as refused:
            await rebook(ctx, ticket, wrong)
        assert refused.value.status == 409
        assert [a["listing_id"] for a in refused.value.extra["alternatives"]] == [
            "lst_cheap",
            "lst_dear",
        ]
    assert len(await published(engine)) == before  # nothing changed
    (still,) = await tickets_of(ctx, ticket.order_id)
    assert still.is_open

    await rebook(ctx, ticket, "lst_dear")

    kind, resolved = (await published(engine))[-1]
    assert (kind, resolved["action"], resolved["listing_id"]) == (
        "ticket_resolved.v1",
        "rebook",
        "lst_dear",
    )


async def test_a_ticket_that_is_not_a_seller_backing_out_of_an_event_is_not_rebooked(ctx):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await deliver(ctx, OrderSellerBackedOut(**fact(order_id), reason="lost it"))  # no event
    (ticket,) = await tickets_of(ctx, order_id)
    async with ctx.db.unit_of_work() as uow:
        assert await alternatives_shown(uow, ticket) == {}
        assert "rebook" not in await commands.possible_now(ctx, uow, ticket)
    with pytest.raises(ResolutionImpossible) as refused:
        await rebook(ctx, ticket, "lst_dear")
    assert refused.value.extra["alternatives"] == []


async def test_a_rebook_orders_could_not_place_reopens_the_ticket_for_another_or_a_refund(
    ctx, engine
):
    await deliver(ctx, listing("lst_dear", 7000))
    await deliver(ctx, listing("lst_cheap", 6000))
    ticket = await backed_out_ticket(ctx)
    await rebook(ctx, ticket, "lst_cheap")
    await deliver(ctx, listing("lst_cheap", 6000, left=0, status="sold_out", version=2))
    failed = OrderRebookFailed(
        **fact(ticket.order_id, fulfilment="transfer"),
        ticket_id=ticket.id,
        new_listing_id="lst_cheap",
        reason="The listing sold out meanwhile",
        event=EVENT,
    )

    await deliver(ctx, failed)
    await deliver(ctx, failed)  # a replay changes nothing more

    (reopened,) = await tickets_of(ctx, ticket.order_id)
    assert (reopened.status, reopened.priority, reopened.resolution) == ("open", "urgent", None)
    async with ctx.db.unit_of_work() as uow:
        notes = await uow.messages.of_ticket(ticket.id, with_internal=True)
        shown = await alternatives_shown(uow, reopened)
        possible = await commands.possible_now(ctx, uow, reopened)
    (note,) = [n for n in notes if n.author_role == "system"]
    assert note.internal and "lst_cheap: The listing sold out meanwhile" in note.body
    assert [a["listing_id"] for a in shown["alternatives"]] == ["lst_dear"]
    assert "rebook" in possible

    await commands.resolve(
        ctx,
        ticket.id,
        principal_id=AGENT,
        role="agent",
        action="refund",
        amount=None,
        note="Nothing else suits",
    )
    kind, resolved = (await published(engine))[-1]
    assert (kind, resolved["action"]) == ("ticket_resolved.v1", "refund")
