"""A seller's standing and vacation, on SQLite and PostgreSQL: suspended or revoked sellers
and sellers away have their listings hidden and refuse orders; open orders go on."""

from datetime import date, timedelta

import pytest

from orders import handlers
from orders.domain import DomainError, Status

from orders_service_test_helpers import (
    SELLER,
    all_listings,
    event_types,
    handle,
    new_listing,
    new_order,
    order_through,
    standing_changed,
    stored_listing,
    visible_listings,
)
from orders_test_helpers import NOW

TODAY = NOW.date()


async def two_sellers(ctx):
    mine = await new_listing(ctx)
    theirs = await new_listing(ctx, seller_id="usr_someone_else", title="Record player")
    return mine, theirs


async def assert_refused_to_order(ctx, engine, listing_id):
    before = await event_types(engine)
    stock = (await stored_listing(ctx, listing_id)).quantity_available
    with pytest.raises(DomainError) as refused:
        await new_order(ctx, listing_id)
    assert refused.value.code == "listing-unavailable"
    assert await event_types(engine) == before
    assert (await stored_listing(ctx, listing_id)).quantity_available == stock
    return refused.value


# --- standing -----------------------------------------------------------------------------


@pytest.mark.parametrize("standing", ["suspended", "revoked"])
async def test_a_suspended_or_revoked_seller_is_hidden_and_cannot_sell(ctx, engine, standing):
    mine, theirs = await two_sellers(ctx)
    assert await visible_listings(ctx, TODAY) == {theirs.id, mine.id}

    await handle(ctx, standing_changed("usr_seller", standing, "at_risk"))

    await assert_refused_to_order(ctx, engine, mine.id)
    assert await visible_listings(ctx, TODAY) == {theirs.id}
    assert await visible_listings(ctx, TODAY, seller_id="usr_seller") == set()
    assert await all_listings(ctx, TODAY, seller_id="usr_seller") == {mine.id}
    assert (await new_order(ctx, theirs.id)).status is Status.PLACED


async def test_a_seller_back_in_good_standing_sells_again(ctx, engine):
    mine, _ = await two_sellers(ctx)
    await handle(ctx, standing_changed("usr_seller", "suspended", "good"))
    await handle(ctx, standing_changed("usr_seller", "good", "suspended"))
    assert mine.id in await visible_listings(ctx, TODAY)
    assert (await new_order(ctx, mine.id)).status is Status.PLACED


@pytest.mark.parametrize("standing", ["at_risk", "under_review"])
async def test_a_seller_at_risk_still_sells(ctx, engine, standing):
    mine, _ = await two_sellers(ctx)
    await handle(ctx, standing_changed("usr_seller", standing, "good"))
    assert mine.id in await visible_listings(ctx, TODAY)
    assert (await new_order(ctx, mine.id)).status is Status.PLACED


async def test_a_standing_change_emits_nothing(ctx, engine):
    await two_sellers(ctx)
    await handle(ctx, standing_changed("usr_seller", "suspended", "good"))
    assert await event_types(engine) == []


# --- vacation -----------------------------------------------------------------------------


async def test_a_vacation_hides_the_listings_until_its_last_day(ctx, engine, clock):
    mine, theirs = await two_sellers(ctx)
    until = TODAY + timedelta(days=3)

    seller = await handlers.set_vacation(ctx, "usr_seller", until)

    assert seller.vacation_until == until
    refused = await assert_refused_to_order(ctx, engine, mine.id)
    assert str(until) in refused.detail
    assert await visible_listings(ctx, TODAY) == {theirs.id}
    assert await visible_listings(ctx, until - timedelta(days=1)) == {theirs.id}
    assert await visible_listings(ctx, until) == {theirs.id, mine.id}
    assert await all_listings(ctx, TODAY, seller_id="usr_seller") == {mine.id}

    clock.set(NOW + timedelta(days=3))  # the vacation is over
    assert (await new_order(ctx, mine.id)).status is Status.PLACED


async def test_a_vacation_ended_early_shows_the_listings_again(ctx, engine):
    mine, _ = await two_sellers(ctx)
    await handlers.set_vacation(ctx, "usr_seller", TODAY + timedelta(days=10))
    seller = await handlers.set_vacation(ctx, "usr_seller", None)
    assert seller.vacation_until is None
    assert mine.id in await visible_listings(ctx, TODAY)
    assert (await new_order(ctx, mine.id)).status is Status.PLACED


@pytest.mark.parametrize("until", [TODAY, TODAY - timedelta(days=1), date(2020, 1, 1)])
async def test_a_vacation_cannot_end_today_or_in_the_past(ctx, engine, until):
    mine, _ = await two_sellers(ctx)
    with pytest.raises(DomainError) as refused:
        await handlers.set_vacation(ctx, "usr_seller", until)
    assert refused.value.code == "date-in-past"
    assert mine.id in await visible_listings(ctx, TODAY)


async def test_open_orders_go_on_during_a_vacation(ctx, engine):
    _, order = await order_through(ctx, Status.AWAITING_SELLER)
    await handlers.set_vacation(ctx, "usr_seller", TODAY + timedelta(days=7))
    accepted = await handlers.accept(ctx, order.id, SELLER)
    assert accepted.status is Status.ACCEPTED
