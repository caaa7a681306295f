"""Messages name the item and its real handling time (issue #19): `order.placed` carries the
listing's title and handling days, kept with the order and used by later messages, never the
order's id nor a fixed "2-4 days"; and the deadline events reach their people: the buyer asked
whether a long-unscanned parcel arrived (`order.delivery_unconfirmed`), both sides told that a
replacement is late (`order.exchange_overdue`)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from contracts import Money
from contracts.orders import (
    OrderAccepted,
    OrderDeliveryUnconfirmed,
    OrderExchangeOverdue,
    OrderPlaced,
)
from contracts.principals import PrincipalRegistered
from notifications import domain
from notifications.db import notifications
from notifications.domain import OrderParties
from notifications.templates import Catalogue

from notifications_test_helpers import NOW, deliver

ORDER = "ord_7f3a9c"
FACT = {"order_id": ORDER, "buyer_id": "usr_buyer", "seller_id": "usr_seller"}
FACT |= {"listing_id": "lst_1", "fulfilment": "seller_ships", "occurred_at": NOW}
CONFIRM_BY = NOW + timedelta(days=3)
REFUND_AT = NOW + timedelta(days=5)
PARTIES = OrderParties(ORDER, "usr_buyer", "usr_seller", {"title": "Vintage film camera"})


def placed(**told) -> OrderPlaced:
    return OrderPlaced(
        order_id=ORDER,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        listing_id="lst_1",
        quantity=1,
        unit_price=Money(amount_minor=5000, currency="JPY"),
        total=Money(amount_minor=5000, currency="JPY"),
        fulfilment="seller_ships",
        payment_method="pm_card_visa",
        placed_at=NOW,
        accept_by=NOW + timedelta(days=2),
        **told,
    )


def unconfirmed() -> OrderDeliveryUnconfirmed:
    return OrderDeliveryUnconfirmed(
        **FACT,
        shipped_at=NOW - timedelta(days=14),
        confirm_by=CONFIRM_BY,
        carrier="DHL",
        tracking_number="TRK-1",
    )


def exchange_overdue() -> OrderExchangeOverdue:
    return OrderExchangeOverdue(**FACT, ship_by=NOW, refund_at=REFUND_AT)


async def told(ctx) -> dict[str, tuple[str, str]]:
    """message -> (title, text) of everything written."""
    async with ctx.db.unit_of_work() as uow:
        rows = (await uow.session.execute(select(notifications))).all()
    return {row.message: (row.title, row.text) for row in rows}


async def register(ctx) -> None:
    for person, role in (("usr_buyer", "buyer"), ("usr_seller", "seller")):
        await deliver(
            ctx,
            PrincipalRegistered(
                principal_id=person,
                role=role,
                name=role.title(),
                email=f"{person}@example.com",
                registered_at=NOW,
            ),
            source="gateway",
        )


# --- the catalogue --------------------------------------------------------------------------


def test_a_buyer_is_asked_whether_a_long_unscanned_parcel_arrived():
    data = unconfirmed().model_dump(mode="json")
    intents = domain.intents_for(OrderDeliveryUnconfirmed.type, data, PARTIES)

    assert [(i.recipient_id, i.message) for i in intents] == [
        ("usr_buyer", "delivery_unconfirmed.buyer")
    ]
    rendered = Catalogue().render(
        intents[0].message,
        "en",
        {"name": "Bea", "data": data, "order": PARTIES.facts, "link": None},
    )
    assert "arrive" in rendered.title
    assert "Vintage film camera" in rendered.text and "TRK-1" in rendered.text
    assert CONFIRM_BY.strftime("%a %d %b %Y") in rendered.text  # by when to say so


def test_both_sides_hear_that_a_replacement_is_late():
    data = exchange_overdue().model_dump(mode="json")
    intents = domain.intents_for(OrderExchangeOverdue.type, data, PARTIES)

    assert sorted((i.recipient_id, i.message) for i in intents) == [
        ("usr_buyer", "exchange_late.buyer"),
        ("usr_seller", "exchange_late.seller"),
    ]
    for intent in intents:
        rendered = Catalogue().render(
            intent.message,
            "en",
            {"name": "Sam", "data": data, "order": PARTIES.facts, "link": None},
        )
        assert "Vintage film camera" in rendered.text
        assert REFUND_AT.strftime("%a %d %b %Y") in rendered.text  # when the buyer is refunded


# --- through the handlers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handling_days", "shown"), [(3, "3 business days"), (1, "1 business day")]
)
async def test_the_accepted_message_names_the_item_and_its_handling_days(ctx, handling_days, shown):
    await register(ctx)
    await deliver(ctx, placed(title="Vintage film camera", handling_days=handling_days))
    await deliver(ctx, OrderAccepted(**FACT, ship_by=NOW + timedelta(days=handling_days + 1)))

    title, text = (await told(ctx))["order_accepted.buyer"]

    assert "Vintage film camera" in text and shown in text
    assert "2-4" not in text
    assert ORDER not in title + text


async def test_no_message_shows_the_orders_id_even_for_an_order_placed_before_titles(ctx):
    await register(ctx)
    await deliver(ctx, placed())  # an older order.placed: no title, no handling days
    await deliver(ctx, OrderAccepted(**FACT, ship_by=NOW + timedelta(days=3)))
    await deliver(ctx, unconfirmed())
    await deliver(ctx, exchange_overdue())

    written = await told(ctx)

    assert set(written) >= {
        "order_accepted.buyer",
        "delivery_unconfirmed.buyer",
        "exchange_late.buyer",
        "exchange_late.seller",
    }
    assert all(ORDER not in title + text for title, text in written.values())
    assert "a few business days" in written["order_accepted.buyer"][1]
