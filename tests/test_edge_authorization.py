"""Object-level authorization, operation by operation: every operation of the public API that
names a resource is tried by every principal who may not use it on that resource (another
buyer, another seller, a carrier, an agent or operator where staff may not act, the owner
where the action is the other party's). Each gets 404 where it may not see the resource and
403 where it may see it but not do this, as API.md says, and the resource is unchanged.

The resources are real, made through the API, each in a state where the operation would
succeed for its owner: a refusal can only be the authorization's. The table must name every
operation of the served OpenAPI document, so a new route cannot go untested."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from e2e_helpers import (
    ADDRESS,
    Api,
    delivered,
    eventually,
    listing_body,
    now_of,
    ok,
    opened_ticket,
    order_body,
    order_status,
    settled,
)

OWNERS = ("buyer", "seller")  # the buyer and the seller of every order below
OTHERS = ("other_buyer", "other_seller", "carrier", "agent", "operator")
EVERYONE = frozenset(OWNERS + OTHERS)
PARTIES = frozenset(OWNERS)
STAFF = frozenset({"agent", "operator"})

ORDER_STATES = ("awaiting", "accepted", "delivery_failed", "delivered", "completed", "returning")
# Who may see each resource at all; anyone else is answered 404 whatever they try.
VISIBLE_TO: dict[str, frozenset[str]] = {
    **{f"{state} order": PARTIES | STAFF for state in ORDER_STATES},
    "ticket": PARTIES | STAFF,
    "listing": EVERYONE,  # an active listing is public
    "paused listing": frozenset({"seller"}),
    "notification": frozenset({"buyer"}),  # the buyer's own inbox
    "seller": frozenset({"seller"}) | STAFF,  # a seller's standards
    "review": EVERYONE,
    "dead-letter": frozenset({"operator"}),
    "event": EVERYONE,  # a resale event is public to anyone signed in (#20)
}


def kind(resource: str) -> str:
    return resource.rsplit(" ", 1)[-1]


@dataclass(frozen=True)
class Guarded:
    """An operation on one real resource: who may use it, and a body it would accept."""

    resource: str  # a key of the world's ids: "<order state> order", "ticket", ...
    allowed: frozenset[str]
    body: dict[str, Any] | None = None
    by_role: bool = False  # refused by role before the resource is looked up: 403 for all

    def expected(self, who: str) -> int:
        return 403 if self.by_role or who in VISIBLE_TO[self.resource] else 404


REASON = {"reason": "Changed my mind"}
TABLE: dict[str, Guarded] = {
    "GET /v1/orders/{order_id}": Guarded("awaiting order", PARTIES | STAFF),
    "POST /v1/orders/{order_id}/accept": Guarded("awaiting order", frozenset({"seller"})),
    "POST /v1/orders/{order_id}/decline": Guarded("awaiting order", frozenset({"seller"}), REASON),
    "POST /v1/orders/{order_id}/cancel": Guarded("awaiting order", frozenset({"buyer"}), REASON),
    "PUT /v1/orders/{order_id}/shipping-address": Guarded(
        "awaiting order", frozenset({"buyer"}), ADDRESS | {"line1": "2 Other Street"}
    ),
    "POST /v1/orders/{order_id}/ship": Guarded(
        "accepted order", frozenset({"seller"}), {"carrier": "DHL", "tracking_number": "TRKNEW1"}
    ),
    "POST /v1/orders/{order_id}/redeliver": Guarded(
        "delivery_failed order", frozenset({"buyer"}), {"preferred_date": "2030-01-15"}
    ),
    "POST /v1/orders/{order_id}/confirm-receipt": Guarded("delivered order", frozenset({"buyer"})),
    "POST /v1/orders/{order_id}/report-problem": Guarded(
        "delivered order",
        frozenset({"buyer"}),
        {"reason": "damaged", "details": "The lens is cracked"},
    ),
    "POST /v1/orders/{order_id}/return": Guarded("delivered order", frozenset({"buyer"}), REASON),
    "POST /v1/orders/{order_id}/exchange": Guarded(
        "delivered order", frozenset({"buyer"}), {"reason": "Wrong size", "note": "A larger one"}
    ),
    "POST /v1/orders/{order_id}/confirm-return": Guarded("returning order", frozenset({"seller"})),
    "POST /v1/orders/{order_id}/review": Guarded(
        "completed order", frozenset({"buyer"}), {"rating": 1, "text": "Not mine to review"}
    ),
    "GET /v1/orders/{order_id}/messages": Guarded("awaiting order", PARTIES | STAFF),
    "POST /v1/orders/{order_id}/messages": Guarded("awaiting order", PARTIES, {"body": "Hi"}),
    "GET /v1/orders/{order_id}/payment": Guarded("awaiting order", PARTIES | STAFF),
    "PUT /v1/orders/{order_id}/payment-method": Guarded(
        "awaiting order", frozenset({"buyer"}), {"payment_method": "pm_card_visa"}
    ),
    "GET /v1/orders/{order_id}/tickets": Guarded("awaiting order", PARTIES | STAFF),
    "GET /v1/ledger/orders/{order_id}": Guarded(
        "awaiting order", frozenset({"operator"}), by_role=True
    ),
    "GET /v1/listings/{listing_id}": Guarded("paused listing", frozenset({"seller"})),
    "PATCH /v1/listings/{listing_id}": Guarded(
        "listing", frozenset({"seller"}), {"price": {"amount_minor": 1, "currency": "EUR"}}
    ),
    "GET /v1/tickets/{ticket_id}": Guarded("ticket", PARTIES | STAFF),
    "POST /v1/tickets/{ticket_id}/messages": Guarded(
        "ticket", PARTIES | STAFF, {"body": "Any news?", "internal": False}
    ),
    "POST /v1/tickets/{ticket_id}/resolve": Guarded(
        "ticket", frozenset({"agent"}), {"action": "no_action", "note": "Not mine to close"}
    ),
    "POST /v1/me/notifications/{notification_id}/read": Guarded(
        "notification", frozenset({"buyer"})
    ),
    "GET /v1/sellers/{seller_id}/standards": Guarded("seller", frozenset({"seller"}) | STAFF),
    # A seller's reviews are public to anyone signed in: nobody here may be refused.
    "GET /v1/sellers/{seller_id}/reviews": Guarded("seller", EVERYONE),
    "POST /v1/sellers/{seller_id}/exemptions": Guarded(
        "seller",
        frozenset({"operator"}),
        {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "reason": "Flood"},
        by_role=True,
    ),
    "PUT /v1/sellers/{seller_id}/standing": Guarded(
        "seller", frozenset({"operator"}), {"standing": "revoked", "reason": "No"}, by_role=True
    ),
    "POST /v1/reviews/{review_id}/flag-misuse": Guarded(
        "review", frozenset({"agent"}), by_role=True
    ),
    "POST /v1/ops/dead-letters/{letter_id}/replay": Guarded(
        "dead-letter", frozenset({"operator"}), by_role=True
    ),
    # Resale events (#20): anyone signed in reads one; only operators cancel or postpone it.
    "GET /v1/events/{event_id}": Guarded("event", EVERYONE),
    "POST /v1/events/{event_id}/cancel": Guarded(
        "event", frozenset({"operator"}), {"reason": "Not yours to cancel"}, by_role=True
    ),
    "POST /v1/events/{event_id}/postpone": Guarded(
        "event",
        frozenset({"operator"}),
        {"starts_at": "2030-01-15T20:00:00+01:00", "ends_at": "2030-01-15T23:00:00+01:00"},
        by_role=True,
    ),
}

# Operations that name no resource of anyone's: each acts on the caller's own things or
# on no one's (a list is filtered to what the caller may see).
NO_RESOURCE = {
    "GET /v1/me",
    "GET /v1/me/credits",
    "GET /v1/me/notifications",
    "GET /v1/me/notification-preferences",
    "PUT /v1/me/notification-preferences",
    "PUT /v1/sellers/me/vacation",
    "GET /v1/sellers/me/payout-account",
    "PUT /v1/sellers/me/payout-account",
    "GET /v1/sellers/me/balance",
    "GET /v1/sellers/me/payouts",
    "GET /v1/listings",
    "POST /v1/listings",
    "POST /v1/events",  # operators create resale events: refused by role, no one's resource
    "GET /v1/orders",
    "POST /v1/orders",
    "GET /v1/tickets",
    "POST /v1/tickets",
    "POST /v1/carrier-events",
    "GET /v1/carrier/shipments",  # the caller's carrier's own parcels
    "POST /v1/principals",
    "GET /v1/ops/clock",
    "POST /v1/ops/clock/advance",
    "GET /v1/ops/consumers",
    "GET /v1/ops/settled",
    "GET /v1/ops/dead-letters",
    "GET /v1/ops/failed-emails",
    "POST /v1/ops/payouts/run",
    "DELETE /v1/me/token",
    "POST /v1/webhooks/stripe",
}

METHODS = ("get", "put", "post", "patch", "delete")


def served_operations(gateway_url: str) -> dict[str, list[str]]:
    """Each operation of the served OpenAPI document -> the names of its path parameters."""
    document = httpx.get(f"{gateway_url}/openapi.json").json()
    operations = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                operations[f"{method.upper()} {path}"] = [
                    p["name"] for p in operation.get("parameters", []) if p["in"] == "path"
                ]
    return operations


def test_the_table_names_every_operation_of_the_public_api(gateway_url):
    operations = served_operations(gateway_url)
    unlisted = set(operations) - set(TABLE) - NO_RESOURCE
    assert not unlisted, f"add these operations to TABLE (or NO_RESOURCE): {sorted(unlisted)}"
    assert not (set(TABLE) | NO_RESOURCE) - set(operations), "listed but no longer served"
    assert all(operations[label] for label in TABLE)
    assert not [label for label in NO_RESOURCE if operations[label]], "these name a resource"


@dataclass
class World:
    people: dict[str, Api]
    ids: dict[str, str]


def make_principal(operator: Api, gateway_url: str, role: str) -> Api:
    answer = ok(
        operator.post(
            "/v1/principals",
            {
                "role": role,
                "name": f"{role.title()} {uuid.uuid4().hex[:6]}",
                "email": f"{uuid.uuid4().hex[:8]}@example.com",
            }
            # A carrier principal names the carrier it speaks for (the parcels ship with DHL).
            | ({"carrier": "DHL"} if role == "carrier" else {}),
        )
    )
    return Api(gateway_url, answer["token"], answer)


def tracking_number() -> str:
    return f"TRK{uuid.uuid4().hex[:10].upper()}"


def carrier_reports(carrier: Api, operator: Api, number: str, status: str) -> None:
    ok(
        carrier.post(
            "/v1/carrier-events",
            {
                "tracking_number": number,
                "status": status,
                "occurred_at": now_of(operator).isoformat(),
            },
        )
    )


@pytest.fixture(scope="module")
def world(operator: Api, gateway_url: str) -> World:
    people = {"operator": operator}
    for name in ("buyer", "seller", "other_buyer", "other_seller", "carrier", "agent"):
        people[name] = make_principal(operator, gateway_url, name.removeprefix("other_"))
    buyer, seller, carrier = people["buyer"], people["seller"], people["carrier"]
    listing = ok(seller.post("/v1/listings", listing_body(quantity_available=20)))
    paused = ok(seller.post("/v1/listings", listing_body()))
    ok(seller.patch(f"/v1/listings/{paused['id']}", {"status": "paused"}))
    placed = [ok(buyer.post("/v1/orders", order_body(listing["id"])))["id"] for _ in range(7)]
    orders = [eventually(order_status(buyer, order_id, "awaiting_seller")) for order_id in placed]
    awaiting, accepted, failed, delivered_, completed, reviewed, returning = orders
    for order in orders[1:]:
        ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    for order in orders[2:]:
        number = tracking_number()
        ok(
            seller.post(
                f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number}
            )
        )
        if order is failed:
            carrier_reports(carrier, operator, number, "delivery_failed")
        else:
            delivered(carrier, operator, number)
    for order in (completed, reviewed):
        ok(buyer.post(f"/v1/orders/{order['id']}/confirm-receipt"))
    review = ok(buyer.post(f"/v1/orders/{reviewed['id']}/review", {"rating": 5, "text": "Great"}))
    ok(buyer.post(f"/v1/orders/{returning['id']}/return", {"reason": "Not for me"}))
    ticket = opened_ticket(buyer, awaiting["id"], "When?", "Hello")
    notification = eventually(lambda: ok(buyer.get("/v1/me/notifications"))["items"])[0]
    starts = now_of(operator) + timedelta(days=30)
    event = ok(
        operator.post(
            "/v1/events",
            {
                "name": "Edge gig",
                "venue": "Hall",
                "kind": "ticket",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=3)).isoformat(),
            },
        )
    )
    ids = {
        "awaiting order": awaiting["id"],
        "accepted order": accepted["id"],
        "delivery_failed order": failed["id"],
        "delivered order": delivered_["id"],
        "completed order": completed["id"],
        "returning order": returning["id"],
        "listing": listing["id"],
        "paused listing": paused["id"],
        "ticket": ticket["id"],
        "notification": notification["id"],
        "seller": seller.id,
        "review": review["id"],
        "dead-letter": "orders.events.payments.dlq:0:0",
        "event": event["id"],
    }
    # what the platform does on its own after these steps (captures, payouts, the review
    # counted in the seller's standing) has happened before anything is compared
    reached = {"captured": [failed, delivered_, returning], "released": [completed, reviewed]}
    for state, batch in reached.items():
        for order in batch:
            eventually(
                lambda o=order, s=state: (
                    ok(buyer.get(f"/v1/orders/{o['id']}/payment"))["state"] == s
                )
            )
    eventually(lambda: average_rating(operator, seller.id)["sample_size"] == 1)
    settled(operator)  # nothing the platform does on its own changes a resource any more
    return World(people, ids)


def average_rating(operator: Api, seller_id: str) -> dict[str, Any]:
    return ok(operator.get(f"/v1/sellers/{seller_id}/standards"))["metrics"]["average_rating"]


def snapshot(world: World, resource: str) -> Any:
    """The resource as its owner (or an operator) sees it."""
    people, ids = world.people, world.ids
    buyer, operator = people["buyer"], people["operator"]
    reads: dict[str, Callable[[], Any]] = {
        "order": lambda: [
            ok(buyer.get(f"/v1/orders/{ids[resource]}")),
            ok(buyer.get(f"/v1/orders/{ids[resource]}/messages")),
            ok(buyer.get(f"/v1/orders/{ids[resource]}/payment")),
            ok(operator.get(f"/v1/ledger/orders/{ids[resource]}")),
        ],
        "ticket": lambda: ok(operator.get(f"/v1/tickets/{ids['ticket']}")),
        "listing": lambda: ok(people["seller"].get(f"/v1/listings/{ids[resource]}")),
        "notification": lambda: [
            n
            for n in ok(buyer.get("/v1/me/notifications"))["items"]
            if n["id"] == ids["notification"]
        ],
        "seller": lambda: {
            key: value
            for key, value in ok(operator.get(f"/v1/sellers/{ids['seller']}/standards")).items()
            if key in ("standing", "history", "exemptions")
        },
        "review": lambda: average_rating(operator, ids["seller"]),
        "dead-letter": lambda: None,  # a made-up letter: refused by role, nothing to look at
        "event": lambda: ok(buyer.get(f"/v1/events/{ids['event']}")),
    }
    return reads[kind(resource)]()


@pytest.mark.parametrize("label", sorted(TABLE))
def test_no_one_but_who_may_reaches_the_resource(label, world):
    guarded = TABLE[label]
    method, template = label.split(" ", 1)
    path = template.replace(
        template[template.index("{") : template.index("}") + 1], world.ids[guarded.resource]
    )
    before = snapshot(world, guarded.resource)
    wrong = []
    for who in sorted(EVERYONE - guarded.allowed):
        answer = world.people[who].http.request(method, path, json=guarded.body)
        problem = answer.headers.get("content-type") == "application/problem+json"
        if answer.status_code != guarded.expected(who) or not problem:
            wrong.append(f"{who}: {answer.status_code} {answer.text[:200]}")
    assert not wrong, (
        f"{label} on the {guarded.resource} expected "
        + ", ".join(f"{who} {guarded.expected(who)}" for who in sorted(EVERYONE - guarded.allowed))
        + "\n"
        + "\n".join(wrong)
    )
    assert snapshot(world, guarded.resource) == before
