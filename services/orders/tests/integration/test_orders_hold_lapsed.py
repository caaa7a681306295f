"""A hold on the buyer's card that payments could not renew (#18): the order cannot ship until
the buyer gives another card, and ships again once it is authorized. The domain alone, then
payments' two events folded by the handlers on SQLite and PostgreSQL, and the seller's ship
refused through the HTTP API as problem details."""

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from contracts.payments import PaymentAuthorizationRenewed, PaymentHoldLapsed
from orders import domain, handlers
from orders.api import install_api
from orders.domain import Actor, DomainError, Fulfilment, PaymentState, Status, TransitionRefused
from servicekit.domain.refusals import Kind
from servicekit.hosting.http import install_problem_handlers

from orders_service_test_helpers import (
    SELLER,
    THREE_PL,
    data,
    emitting,
    order_through,
    received,
    ship_order,
    stored_order,
    tracking_of,
)
from orders_test_helpers import ACCEPTED_AT, CALENDAR, PRICE, RULES, order_in, ship_it

LAPSED_AT = ACCEPTED_AT + timedelta(hours=2)
RENEWED_AT = LAPSED_AT + timedelta(hours=3)


def lapsed(status: Status = Status.ACCEPTED, fulfilment=Fulfilment.SELLER_SHIPS):
    return domain.record_hold_lapsed(order_in(status, fulfilment), LAPSED_AT).order


# --- the domain -------------------------------------------------------------------------------


@pytest.mark.parametrize("fulfilment", [Fulfilment.SELLER_SHIPS, Fulfilment.TRANSFER])
def test_a_seller_cannot_ship_on_a_lapsed_hold(fulfilment):
    order = lapsed(fulfilment=fulfilment)

    assert order.payment_state is PaymentState.HOLD_LAPSED
    assert order.timeline[-1].kind == "payment_hold_lapsed"
    with pytest.raises(TransitionRefused) as refused:
        ship_it(order, at=LAPSED_AT)
    assert refused.value.code == refused.value.slug == "payment-hold-lapsed"
    assert refused.value.kind is Kind.CONFLICT
    assert "wait until the buyer gives another card" in refused.value.detail
    assert "ship" not in order.allowed_actions(Actor.SELLER, LAPSED_AT)
    assert refused.value.allowed == order.allowed_actions(Actor.SELLER, LAPSED_AT)
    assert "decline" in order.allowed_actions(Actor.SELLER, LAPSED_AT)  # the rest is as it was


def test_a_3pl_cannot_ship_a_warehouse_order_on_a_lapsed_hold_either():
    order = lapsed(fulfilment=Fulfilment.WAREHOUSE)
    assert "ship" not in order.allowed_actions(Actor.CARRIER, LAPSED_AT)
    with pytest.raises(TransitionRefused) as refused:
        ship_it(order, at=LAPSED_AT, actor=Actor.CARRIER)
    assert refused.value.code == "payment-hold-lapsed"


def test_the_buyers_new_card_lets_the_seller_ship_again():
    renewed = domain.record_authorization_renewed(lapsed(), PRICE, RENEWED_AT).order

    assert renewed.payment_state is PaymentState.AUTHORIZED
    assert renewed.timeline[-1].kind == "payment_authorization_renewed"
    assert "ship" in renewed.allowed_actions(Actor.SELLER, RENEWED_AT)
    assert ship_it(renewed, at=RENEWED_AT).status is Status.SHIPPED


def test_the_buyer_is_told_to_give_another_card_until_then():
    order = lapsed()
    shipped_step = domain.steps(order, CALENDAR, RULES)[1]
    assert shipped_step.message.startswith("The hold on your card lapsed")
    assert "Give another card" in shipped_step.message

    renewed = domain.record_authorization_renewed(order, PRICE, RENEWED_AT).order
    assert "lapsed" not in domain.steps(renewed, CALENDAR, RULES)[1].message


@pytest.mark.parametrize("status", [Status.PLACED, Status.CANCELLED, Status.SHIPPED])
def test_a_lapse_without_a_hold_held_changes_nothing(status):
    order = order_in(status)
    assert domain.record_hold_lapsed(order, LAPSED_AT).order is order


def test_a_routine_renewal_changes_nothing_the_order_shows():
    order = order_in(Status.ACCEPTED)
    assert domain.record_authorization_renewed(order, PRICE, LAPSED_AT).order is order


# --- payments' events, folded on both databases -------------------------------------------------


def hold_lapsed(order, at):
    return PaymentHoldLapsed(
        order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        amount=order.total,
        expires_at=at + timedelta(hours=24),
        reason="Your card was declined",
    )


def authorization_renewed(order, at):
    return PaymentAuthorizationRenewed(
        order_id=order.id,
        payment_intent_id="pi_new",
        replaced_payment_intent_id="pi_1",
        amount=order.total,
        expires_at=at + timedelta(days=7),
    )


async def handle(ctx, event) -> None:
    """Deliver `event` as the consumer does: through orders' event router, in one unit of
    work (so the two events are routed as well as folded)."""
    route = handlers.event_router(ctx).route(event.type)
    assert route is not None, event.type
    async with ctx.db.unit_of_work() as uow:
        await route.handle([received(event)], uow)
        await uow.commit()


@pytest.fixture
def app(ctx) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.internal_token = ""
    install_api(app, ctx)
    return app


async def call(app: FastAPI, who, method: str, path: str, body=None) -> httpx.Response:
    headers = {"X-Principal-Id": who.id, "X-Principal-Role": who.role}
    if who.carrier:
        headers["X-Principal-Carrier"] = who.carrier
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://orders", headers=headers
    ) as http:
        return await http.request(method, path, json=body)


async def test_a_lapsed_hold_stops_the_shipment_until_the_buyers_new_card(ctx, engine, app):
    _, order = await order_through(ctx, Status.ACCEPTED)
    now = ctx.clock.now()

    _, rows = await emitting(engine, handle(ctx, hold_lapsed(order, now)))
    assert rows == []  # the buyer hears it from payments' event
    stored = await stored_order(ctx, order.id)
    assert (stored.status, stored.payment_state) == (Status.ACCEPTED, PaymentState.HOLD_LAPSED)

    view = (await call(app, SELLER, "GET", f"/v1/orders/{order.id}")).json()
    assert view["payment"]["state"] == "hold_lapsed"
    assert "ship" not in view["allowed_actions"]
    refused = await call(
        app,
        SELLER,
        "POST",
        f"/v1/orders/{order.id}/ship",
        {"carrier": "DHL", "tracking_number": tracking_of(order.id)},
    )
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"] == "/problems/payment-hold-lapsed"
    assert "wait until the buyer gives another card" in problem["detail"]
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await stored_order(ctx, order.id)).status is Status.ACCEPTED

    before = await stored_order(ctx, order.id)
    _, rows = await emitting(engine, handle(ctx, hold_lapsed(order, now)))  # redelivered
    assert rows == [] and (await stored_order(ctx, order.id)).version == before.version
    with pytest.raises(DomainError) as refused:
        await ship_order(ctx, order.id)
    assert refused.value.code == "payment-hold-lapsed"

    await handle(ctx, authorization_renewed(order, now))
    renewed = await stored_order(ctx, order.id)
    assert renewed.payment_state is PaymentState.AUTHORIZED
    assert [entry.kind for entry in renewed.timeline][-2:] == [
        "payment_hold_lapsed",
        "payment_authorization_renewed",
    ]
    view = (await call(app, SELLER, "GET", f"/v1/orders/{order.id}")).json()
    assert view["payment"]["state"] == "authorized" and "ship" in view["allowed_actions"]
    assert (await ship_order(ctx, order.id)).status is Status.SHIPPED


async def test_a_routine_renewal_writes_nothing(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED)

    _, rows = await emitting(engine, handle(ctx, authorization_renewed(order, ctx.clock.now())))

    assert rows == []
    assert (await stored_order(ctx, order.id)).version == order.version


async def test_a_warehouse_order_on_a_lapsed_hold_is_not_the_3pls_to_ship(ctx, app):
    _, order = await order_through(ctx, Status.ACCEPTED, Fulfilment.WAREHOUSE)
    await handle(ctx, hold_lapsed(order, ctx.clock.now()))

    view = (await call(app, THREE_PL, "GET", f"/v1/orders/{order.id}")).json()
    assert "ship" not in view["allowed_actions"]


async def test_no_new_card_by_the_lapsed_holds_expiry_cancels_it_not_against_the_seller(
    ctx, engine
):
    _, order = await order_through(ctx, Status.ACCEPTED)
    lapse = hold_lapsed(order, ctx.clock.now())
    await handle(ctx, lapse)
    assert (await stored_order(ctx, order.id)).act_by == lapse.expires_at

    fired, rows = await emitting(
        engine, handlers.act_on_deadlines(ctx, lapse.expires_at + timedelta(minutes=1))
    )

    assert fired == 1
    cancelled = await stored_order(ctx, order.id)
    assert (cancelled.status, cancelled.cancel_reason) == (Status.CANCELLED, "payment_hold_lapsed")
    [row] = rows
    assert row.event_type.endswith("order.cancelled.v1")
    told = data(row)
    assert (told["reason"], told["cancelled_by"]) == ("payment_hold_lapsed", "system")
