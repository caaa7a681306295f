"""Fair, replayable standards (#19) on SQLite and PostgreSQL: a missed deadline counts as the
seller's cancellation and a carrier's fault not as their defect; exemptions, misuse flags and
operators' decisions are published with who made them, and coming back on the service's own
topic they change nothing; a surge is told once; anyone signed in lists a seller's reviews."""

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from contracts import event_type_registry
from contracts.orders import OrderCancelled, OrderReturnedToSender, OrderReviewed
from seller_standards import handlers
from seller_standards.api import install_api
from seller_standards.db import exemptions, standing_history
from seller_standards.domain.policy import Exemption
from servicekit.hosting.http import install_problem_handlers
from servicekit.hosting.pagination import encode_cursor
from servicekit.testing import received

from standards_test_helpers import (
    NOW,
    SELLER,
    deliver,
    fact,
    new_order_id,
    placed,
    published,
    shipping_history,
)

EXEMPTED = "marketplace.seller.exemption_granted.v1"
FLAGGED = "marketplace.seller.review_flagged.v1"
DECIDED = "marketplace.seller.standing_decided.v1"
SURGE = "marketplace.seller.order_surge.v1"


async def test_an_order_cancelled_for_a_missed_acceptance_counts_against_the_seller(ctx):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await deliver(
        ctx,
        OrderCancelled(
            order_id=order_id,
            buyer_id="usr_buyer",
            seller_id=SELLER,
            reason="acceptance_window_missed",
            cancelled_by="system",
            cancelled_at=NOW + timedelta(days=1),
        ),
    )
    rate = (await handlers.standards_of(ctx, SELLER)).metrics["seller_cancel_rate"]
    assert (rate.value, rate.orders) == (1.0, (order_id,))


@pytest.mark.parametrize(
    ("fault", "defective"), [("carrier", False), (None, False), ("seller", True)]
)
async def test_a_parcel_sent_back_is_the_sellers_defect_only_when_it_is_their_fault(
    ctx, fault, defective
):
    order_id = new_order_id()
    for event in shipping_history(order_id, late=False):
        await deliver(ctx, event)
    returned = OrderReturnedToSender(
        **fact(order_id, NOW + timedelta(days=4)), attempts=2, fault=fault
    )
    await deliver(ctx, returned)
    defects = (await handlers.standards_of(ctx, SELLER)).metrics["defect_rate"]
    assert defects.value == (1.0 if defective else 0.0)


async def count(engine, table):
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(table))).scalar_one()


async def own_events_come_back(ctx, engine, event_type):
    """Deliver what the service published of `event_type` to it, as its consumer of its own
    topic does."""
    route = handlers.event_router(ctx).route(event_type)
    model = event_type_registry()[event_type]
    for data in await published(engine, event_type):
        async with ctx.db.unit_of_work() as uow:
            event = received(model(**data), source="seller_standards", time=NOW)
            await route.handle([event], uow)
            await uow.commit()


async def test_exemptions_flags_and_decisions_are_published_with_who_made_them(ctx, engine):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await deliver(ctx, OrderReviewed(**fact(order_id), review_id="rev_1", rating=1, text="meh"))
    span = Exemption(NOW - timedelta(days=2), NOW - timedelta(days=1), "Flood")
    await handlers.add_exemption(ctx, SELLER, span, "usr_operator")
    await handlers.flag_misuse(ctx, "rev_1", "usr_agent")
    await handlers.flag_misuse(ctx, "rev_1", "usr_agent")  # flagged already: published once
    await handlers.set_standing(ctx, SELLER, "good", "checked by hand", "usr_operator")

    [granted] = await published(engine, EXEMPTED)
    assert (granted["decided_by"], granted["reason"]) == ("usr_operator", "Flood")
    [flag] = await published(engine, FLAGGED)
    assert (flag["review_id"], flag["order_id"], flag["flagged_by"]) == (
        "rev_1",
        order_id,
        "usr_agent",
    )
    [decided] = await published(engine, DECIDED)  # a confirmation: no standing_changed
    assert (decided["standing"], decided["previous"], decided["decided_by"]) == (
        "good",
        "good",
        "usr_operator",
    )

    for event_type in (EXEMPTED, FLAGGED, DECIDED):  # live, they come back: nothing twice
        await own_events_come_back(ctx, engine, event_type)
    assert await count(engine, exemptions) == 1
    assert await count(engine, standing_history) == 1


async def test_a_surge_in_orders_is_published_once(ctx, engine, clock):
    for day in range(28, 0, -7):  # one order a week, then twelve in a day
        await deliver(ctx, placed(new_order_id(), NOW - timedelta(days=day)))
    for _ in range(12):
        await deliver(ctx, placed(new_order_id(), NOW))
    [surge] = await published(engine, SURGE)
    assert surge["seller_id"] == SELLER and surge["recent_orders"] >= 10
    clock.set(NOW + timedelta(hours=2))
    await handlers.reevaluate_sellers(ctx, clock.now())
    assert len(await published(engine, SURGE)) == 1


def client(ctx) -> httpx.AsyncClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.internal_token = ""
    install_api(app, ctx)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


def as_(principal_id: str, role: str) -> dict[str, str]:
    return {"X-Principal-Id": principal_id, "X-Principal-Role": role}


async def test_anyone_signed_in_lists_a_sellers_reviews_page_by_page(ctx, clock):
    for n in range(3):
        order_id = f"ord_{n}"
        review = OrderReviewed(
            **fact(order_id, NOW + timedelta(hours=n)),
            review_id=f"rev_{n}",
            rating=n + 1,
            text=f"review {n}",
        )
        await deliver(ctx, review)
    async with client(ctx) as api:
        flagged = await api.post("/v1/reviews/rev_0/flag-misuse", headers=as_("usr_ag", "agent"))
        assert flagged.status_code == 200
        path = f"/v1/sellers/{SELLER}/reviews"
        first = await api.get(path, params={"limit": 2}, headers=as_("usr_buyer", "buyer"))
        assert first.status_code == 200
        page = first.json()
        assert [r["id"] for r in page["items"]] == ["rev_2", "rev_1"]  # newest first
        assert page["items"][0] == {
            "id": "rev_2",
            "order_id": "ord_2",
            "rating": 3,
            "text": "review 2",
            "created_at": (NOW + timedelta(hours=2)).isoformat(),
            "flagged": False,
        }
        rest = await api.get(
            path, params={"limit": 2, "cursor": page["next_cursor"]}, headers=as_("u", "buyer")
        )
        assert [(r["id"], r["flagged"]) for r in rest.json()["items"]] == [("rev_0", True)]
        assert rest.json()["next_cursor"] is None
        refused = await api.post("/v1/reviews/rev_1/flag-misuse", headers=as_("u", "buyer"))
        assert refused.status_code == 403
        anonymous = await api.get(path)
        assert anonymous.status_code == 401
        bad = await api.get(path, params={"cursor": encode_cursor("yesterday", "rev_1")})
        assert bad.status_code in (401, 422)
        bad = await api.get(
            path, params={"cursor": encode_cursor("yesterday", "x")}, headers=as_("u", "buyer")
        )
        assert bad.status_code == 422
