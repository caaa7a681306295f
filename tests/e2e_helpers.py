"""Helpers for the end-to-end tests (fixtures are in conftest.py)."""

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from servicekit.operations import ops
from servicekit.testing import body_of


class Api:
    """A client of the public API as one principal."""

    def __init__(
        self, base_url: str, token: str | None, principal: dict[str, Any] | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.token = token
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        self.principal = principal or {}

    @property
    def id(self) -> str:
        return self.principal["id"]

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.put(path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.patch(path, json=json, **kwargs)


ADDRESS = {
    "name": "Bea Buyer",
    "line1": "1 Main Street",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def listing_body(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Vintage film camera",
        "price": {"amount_minor": 12500, "currency": "EUR"},
        "quantity_available": 3,
        "fulfilment": "seller_ships",
        "handling_days": 2,
    } | overrides


def order_body(
    listing_id: str, payment_method: str = "pm_card_visa", **overrides: Any
) -> dict[str, Any]:
    return {
        "listing_id": listing_id,
        "quantity": 1,
        "shipping_address": ADDRESS,
        "payment_method": payment_method,
    } | overrides


def every_item(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated list, following `next_cursor` (a shared stack's queues grow
    past one page as the suite runs)."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = ok(
            api.get(path, params={**params, "limit": 200, **({"cursor": cursor} if cursor else {})})
        )
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def eventually(check: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout}s; last answer: {last!r}")


def settled(operator: Api, *, timeout: float = 30.0) -> None:
    """Returns once the platform has finished what it started (`GET /v1/ops/settled`: no
    unpublished outbox row, unhandled event or busy worker in any service), seen on two
    answers in a row, so a test can assert that something did not happen without sleeping."""
    answers: list[bool] = []

    def twice() -> bool:
        answers.append(ok(operator.get("/v1/ops/settled"))["settled"])
        return answers[-2:] == [True, True]

    eventually(twice, timeout=timeout, interval=0.1)


def opened_ticket(buyer: Api, order_id: str, subject: str, body: str) -> dict[str, Any]:
    """The buyer's ticket on an order: support learns of the order from orders' events a
    moment after orders answered, and until then the order is not one it knows (404)."""

    def attempt() -> dict[str, Any] | None:
        answer = buyer.post("/v1/tickets", {"order_id": order_id, "subject": subject, "body": body})
        return ok(answer) if answer.status_code != 404 else None

    return eventually(attempt)


def resolve_when_known(
    agent: Api, ticket_id: str, body: dict[str, Any], *, captured: bool = False
) -> httpx.Response:
    """The agent's resolution, sent again while support answers 409 "not yet known": support
    learns what an order's money allows from events a moment behind payments'. With
    `captured`, the caller knows payments has captured the order, so a 409 saying nothing is
    captured yet is support still catching up, and is retried too."""

    def attempt() -> httpx.Response | None:
        answer = agent.post(f"/v1/tickets/{ticket_id}/resolve", body)
        if answer.status_code != 409:
            return answer
        problem = answer.json()
        if problem["type"].endswith("order-not-yet-known"):
            return None
        if captured and problem.get("captured") is False:
            return None
        return answer

    return eventually(attempt)


def order_status(api: Api, order_id: str, status: str) -> Callable[[], dict[str, Any] | None]:
    def check() -> dict[str, Any] | None:
        order = api.get(f"/v1/orders/{order_id}").json()
        return order if order.get("status") == status else None

    return check


def postgres_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def now_of(operator: Api) -> datetime:
    """The platform's (manual) clock."""
    return datetime.fromisoformat(operator.get("/v1/ops/clock").json()["now"])


def advance(operator: Api, *, days: float = 0, hours: float = 0) -> datetime:
    answer = operator.post("/v1/ops/clock/advance", {"seconds": days * 86400 + hours * 3600})
    assert answer.status_code == 200, answer.text
    return datetime.fromisoformat(answer.json()["now"])


def authorized_order(seller: Api, buyer: Api, **listing_overrides: Any) -> dict[str, Any]:
    """A listing and an order on it whose card is authorized (awaiting the seller)."""
    listing = seller.post("/v1/listings", listing_body(**listing_overrides)).json()
    body = order_body(listing["id"])
    if listing["fulfilment"] == "transfer":
        body.pop("shipping_address")
    placed = buyer.post("/v1/orders", body)
    assert placed.status_code == 201, placed.text
    return eventually(order_status(buyer, placed.json()["id"], "awaiting_seller"))


def ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def step_states(order: dict[str, Any]) -> list[str]:
    return [step["state"] for step in order["steps"]]


def kinds(order: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in order["timeline"]]


def delivered(carrier: Api, operator: Api, number: str) -> None:
    """The carrier reports the parcel delivered, now on the platform's clock."""
    ok(
        carrier.post(
            "/v1/carrier-events",
            {
                "tracking_number": number,
                "status": "delivered",
                "occurred_at": now_of(operator).isoformat(),
            },
        )
    )


# --- an order's parcel and its events ----------------------------------------------------------


def tracking() -> str:
    return f"TRK{uuid.uuid4().hex[:10].upper()}"


async def order_events(platform, order_id: str, expect: int) -> list[str]:
    """The types of the order's events on `orders.events`, read to the topic's end once the
    platform has settled (rather than for a fixed three seconds)."""
    config = platform.config
    settled(Api(f"http://127.0.0.1:{config.gateway_port}", config.operator_token))
    records = [r async for r in ops.read(platform.bootstrap, "orders.events", idle_ms=200)]
    return [body_of(r)["type"] for r in records if r.key == order_id.encode()][:expect] or []


def ship(seller, order, number=None):
    number = number or tracking()
    return ok(
        seller.post(f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number})
    ), number


def carrier_says(carrier, operator, number, status):
    return carrier.post(
        "/v1/carrier-events",
        {
            "tracking_number": number,
            "status": status,
            "occurred_at": now_of(operator).isoformat(),
        },
    )
