"""Orders' use cases on SQLite and PostgreSQL: placing an order reserves stock and tells
payments; payment results move the order on; stale writes lose."""

import asyncio
from datetime import date

import pytest
from sqlalchemy import update

from contracts import Money
from orders import domain
from orders.db import listings
from orders.domain import DomainError, Fulfilment, ListingStatus, PaymentState, Status
from servicekit.messaging.failures import ConcurrentUpdate

from orders_service_test_helpers import (
    authorized,
    body,
    failed,
    handle,
    new_listing,
    new_order,
    outbox_rows,
    stored_listing,
    stored_order,
)
from orders_test_helpers import NOW, PRICE

# --- placing an order ---------------------------------------------------------------------


async def test_placing_an_order_reserves_stock_and_tells_payments_the_listing_price(ctx, engine):
    listing = await new_listing(ctx, quantity_available=5)
    order = await new_order(ctx, listing.id, quantity=2)

    assert (await stored_listing(ctx, listing.id)).quantity_available == 3
    saved = await stored_order(ctx, order.id)
    assert saved.status is Status.PLACED
    assert saved.total == Money(amount_minor=25000, currency="EUR")
    assert [entry.kind for entry in saved.timeline] == ["placed"]

    rows = await outbox_rows(engine)
    assert len(rows) == 1
    row = rows[0]
    assert (row.topic, row.message_key, row.event_type) == (
        "orders.events",
        order.id,
        "marketplace.order.placed.v1",
    )
    data = body(row)["data"]
    assert data["unit_price"] == {"amount_minor": 12500, "currency": "EUR"}
    assert data["total"] == {"amount_minor": 25000, "currency": "EUR"}
    assert (data["quantity"], data["buyer_id"], data["seller_id"]) == (2, "usr_buyer", "usr_seller")
    assert data["payment_method"] == "pm_card_visa"
    # What notifications names the item by, and how long the seller has to ship it.
    assert (data["title"], data["handling_days"]) == ("Vintage film camera", 2)


async def test_ordering_the_last_units_sells_the_listing_out(ctx):
    listing = await new_listing(ctx, quantity_available=2)
    await new_order(ctx, listing.id, quantity=2)
    stored = await stored_listing(ctx, listing.id)
    assert (stored.quantity_available, stored.status) == (0, ListingStatus.SOLD_OUT)
    with pytest.raises(DomainError) as refused:
        await new_order(ctx, listing.id)
    assert refused.value.code == "listing-unavailable"


async def test_a_refused_order_changes_nothing(ctx, engine):
    listing = await new_listing(ctx, quantity_available=1)
    with pytest.raises(DomainError) as refused:
        await new_order(ctx, listing.id, quantity=2)
    assert refused.value.code == "insufficient-stock"
    assert (await stored_listing(ctx, listing.id)).quantity_available == 1
    assert await outbox_rows(engine) == []


async def test_an_unknown_listing_is_not_found(ctx, engine):
    with pytest.raises(DomainError) as refused:
        await new_order(ctx, "lst_missing")
    assert refused.value.code == "listing-not-found"
    assert await outbox_rows(engine) == []


async def test_a_transfer_listing_needs_a_future_event_date(ctx):
    with pytest.raises(DomainError) as missing:
        await new_listing(ctx, fulfilment=Fulfilment.TRANSFER)
    assert missing.value.code == "event-date-required"
    with pytest.raises(DomainError) as passed:
        await new_listing(ctx, fulfilment=Fulfilment.TRANSFER, event_date=NOW.date())
    assert passed.value.code == "event-date-passed"
    listing = await new_listing(ctx, fulfilment=Fulfilment.TRANSFER, event_date=date(2026, 12, 31))
    assert (await stored_listing(ctx, listing.id)).event_date == date(2026, 12, 31)


# --- payment results ----------------------------------------------------------------------


async def test_an_authorized_card_moves_the_order_to_the_seller(ctx, engine):
    listing = await new_listing(ctx)
    order = await new_order(ctx, listing.id)

    await handle(ctx, authorized(order.id))

    saved = await stored_order(ctx, order.id)
    assert (saved.status, saved.payment_state) == (Status.AWAITING_SELLER, PaymentState.AUTHORIZED)
    assert saved.authorized == PRICE
    assert saved.version == order.version + 1
    assert [entry.kind for entry in saved.timeline] == ["placed", "payment_authorized"]
    assert len(await outbox_rows(engine)) == 1  # only OrderPlaced


async def test_a_failed_card_cancels_the_order_gives_the_stock_back_and_says_so(ctx, engine):
    listing = await new_listing(ctx, quantity_available=1)
    order = await new_order(ctx, listing.id)
    assert (await stored_listing(ctx, listing.id)).status is ListingStatus.SOLD_OUT

    await handle(ctx, failed(order.id))

    saved = await stored_order(ctx, order.id)
    assert (saved.status, saved.payment_state) == (Status.CANCELLED, PaymentState.FAILED)
    assert saved.cancel_reason == "payment_failed"
    assert saved.timeline[-1].kind == "cancelled"
    assert "Your card was declined." in saved.timeline[-1].detail
    restocked = await stored_listing(ctx, listing.id)
    assert (restocked.quantity_available, restocked.status) == (1, ListingStatus.ACTIVE)

    rows = await outbox_rows(engine)
    assert [row.event_type for row in rows] == [
        "marketplace.order.placed.v1",
        "marketplace.order.cancelled.v1",
    ]
    assert rows[1].message_key == order.id
    data = body(rows[1])["data"]
    assert (data["reason"], data["cancelled_by"], data["buyer_id"]) == (
        "payment_failed",
        "system",
        "usr_buyer",
    )


async def test_a_failed_card_leaves_a_paused_listing_paused(ctx, engine):
    listing = await new_listing(ctx, quantity_available=2)
    order = await new_order(ctx, listing.id)
    async with ctx.db.unit_of_work() as uow:
        await uow.session.execute(
            update(listings).where(listings.c.id == listing.id).values(status="paused")
        )
        await uow.commit()

    await handle(ctx, failed(order.id))

    restocked = await stored_listing(ctx, listing.id)
    assert (restocked.quantity_available, restocked.status) == (2, ListingStatus.PAUSED)


async def test_an_authorization_for_an_order_already_cancelled_is_ignored(ctx, engine):
    listing = await new_listing(ctx)
    order = await new_order(ctx, listing.id)
    await handle(ctx, failed(order.id))
    before = await stored_order(ctx, order.id)

    await handle(ctx, authorized(order.id))

    after = await stored_order(ctx, order.id)
    assert after.status is Status.CANCELLED
    assert after.version == before.version
    assert after.timeline == before.timeline
    assert len(await outbox_rows(engine)) == 2


async def test_a_failure_for_an_order_already_authorized_is_ignored(ctx, engine):
    listing = await new_listing(ctx, quantity_available=3)
    order = await new_order(ctx, listing.id)
    await handle(ctx, authorized(order.id))

    await handle(ctx, failed(order.id))

    after = await stored_order(ctx, order.id)
    assert after.status is Status.AWAITING_SELLER
    assert (await stored_listing(ctx, listing.id)).quantity_available == 2  # not given back
    assert [row.event_type for row in await outbox_rows(engine)] == ["marketplace.order.placed.v1"]


async def test_a_repeated_failure_gives_the_stock_back_only_once(ctx, engine):
    listing = await new_listing(ctx, quantity_available=3)
    order = await new_order(ctx, listing.id)

    await handle(ctx, failed(order.id))
    await handle(ctx, failed(order.id))  # a second event, not caught by the inbox

    assert (await stored_listing(ctx, listing.id)).quantity_available == 3
    events = [row.event_type for row in await outbox_rows(engine)]
    assert events.count("marketplace.order.cancelled.v1") == 1


async def test_a_result_for_an_order_we_do_not_have_is_ignored(ctx, engine):
    await handle(ctx, authorized("ord_elsewhere"))
    await handle(ctx, failed("ord_elsewhere"))
    assert await outbox_rows(engine) == []


# --- optimistic concurrency ---------------------------------------------------------------


async def test_of_two_writers_holding_the_same_version_the_second_loses(ctx):
    listing = await new_listing(ctx)
    order = await new_order(ctx, listing.id)

    async with ctx.db.unit_of_work() as first, ctx.db.unit_of_work() as second:
        # Each writer reads the order (and ends its read transaction, as a request would).
        first_orders, second_orders = first.orders, second.orders
        mine = await first_orders.get(order.id)
        await first.commit()
        theirs = await second_orders.get(order.id)
        await second.commit()
        assert mine.version == theirs.version

        await first_orders.save(domain.record_authorization(mine, PRICE, NOW).order, before=mine)
        await first.commit()
        with pytest.raises(ConcurrentUpdate):
            await second_orders.save(
                domain.record_authorization_failure(theirs, "declined", NOW).order, before=theirs
            )

    saved = await stored_order(ctx, order.id)
    assert saved.status is Status.AWAITING_SELLER
    assert saved.version == order.version + 1
    assert [entry.kind for entry in saved.timeline] == ["placed", "payment_authorized"]


async def test_the_last_units_cannot_be_reserved_twice(ctx):
    listing = await new_listing(ctx, quantity_available=2)
    await new_order(ctx, listing.id)  # someone else takes one

    async with ctx.db.unit_of_work() as uow:
        assert not await uow.listings.reserve(listing.id, 2)
        assert await uow.listings.reserve(listing.id, 1)
        await uow.commit()

    stored = await stored_listing(ctx, listing.id)
    assert stored.quantity_available == 0
    assert stored.status.value == "sold_out"


async def test_concurrent_buyers_of_the_last_unit_get_one_order_and_a_refusal(ctx):
    listing = await new_listing(ctx, quantity_available=1)

    results = await asyncio.gather(
        *(new_order(ctx, listing.id) for _ in range(3)), return_exceptions=True
    )

    placed = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(placed) == 1 and len(refused) == 2
    assert {r.code for r in refused} <= {"insufficient-stock", "listing-unavailable"}
    assert (await stored_listing(ctx, listing.id)).quantity_available == 0


async def test_concurrent_buyers_of_a_well_stocked_listing_all_get_their_order(ctx):
    listing = await new_listing(ctx, quantity_available=100)

    orders = await asyncio.gather(*(new_order(ctx, listing.id) for _ in range(5)))

    assert len({order.id for order in orders}) == 5
    assert (await stored_listing(ctx, listing.id)).quantity_available == 95
