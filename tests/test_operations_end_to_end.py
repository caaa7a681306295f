"""What operators see through the gateway: every consumer group's lag, whether the platform
has settled, and dead letters they can replay. A poison message dead-lettered by a consumer
shows up with its reason."""

import uuid

from servicekit.testing import produce

from e2e_helpers import eventually, listing_body, ok, order_body, settled


def test_operators_see_every_groups_lag_and_nobody_else_does(operator, buyer):
    groups = ok(operator.get("/v1/ops/consumers"))["groups"]
    by_name = {g["group"]: g for g in groups}
    assert {"orders", "payments", "support", "seller_standards", "notifications"} <= set(by_name)
    topics = {p["topic"] for p in by_name["payments"]["partitions"]}
    assert topics == {"orders.events", "support.events"}
    for group in groups:
        assert group["lag"] == sum(p["lag"] for p in group["partitions"])
        assert all(isinstance(p["end"], int) and p["lag"] >= 0 for p in group["partitions"])
    assert buyer.get("/v1/ops/consumers").status_code == 403


def test_once_settled_what_an_order_set_in_motion_has_happened(operator, seller, buyer):
    listing = ok(seller.post("/v1/listings", listing_body()))
    order = ok(buyer.post("/v1/orders", order_body(listing["id"])))

    settled(operator)

    # no waiting from here: the card worker, the consumers and the e-mails are done
    assert ok(buyer.get(f"/v1/orders/{order['id']}"))["status"] == "awaiting_seller"
    assert ok(buyer.get(f"/v1/orders/{order['id']}/payment"))["state"] == "authorized"
    told = ok(seller.get("/v1/me/notifications"))["items"]
    assert any(n.get("order_id") == order["id"] for n in told)
    answer = ok(operator.get("/v1/ops/settled"))
    assert {"orders", "payments", "notifications", "gateway"} <= set(answer["services"])
    assert answer["services"]["payments"]["worker:card-operations"] == 0
    assert buyer.get("/v1/ops/settled").status_code == 403


async def test_a_poison_message_is_dead_lettered_listed_and_can_be_replayed(
    platform, operator, buyer
):
    key = f"ord_poison_{uuid.uuid4().hex[:8]}"
    await produce(platform.bootstrap, "support.events", [(key, b"{not json", {})])

    def listed():
        letters = ok(operator.get("/v1/ops/dead-letters"))["items"]
        return [d for d in letters if d["key"] == key]

    letters = eventually(lambda: len(listed()) >= 3 and listed(), timeout=60)
    # each group that reads support.events parked it in its own dead-letter topic
    groups = {d["group"] for d in letters}
    assert groups <= {"payments", "orders", "seller_standards", "notifications"}
    assert all(d["id"].startswith(f"support.events.{d['group']}.dlq:") for d in letters)
    assert all(d["reason"] == "invalid_message" for d in letters)
    assert all(d["origin_topic"] == "support.events" for d in letters)

    replayed = operator.post(f"/v1/ops/dead-letters/{letters[0]['id']}/replay")
    assert replayed.status_code == 202
    assert replayed.json()["onto"] == "support.events"
    missing = operator.post("/v1/ops/dead-letters/no.such.dlq:0:0/replay")
    assert missing.status_code == 404
    assert buyer.get("/v1/ops/dead-letters").status_code == 403
