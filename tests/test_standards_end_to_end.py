"""Seller standards end to end on the manual clock: a seller who lets orders go past their
ship-by date falls below standard and is told why, support opens a review ticket, and after the
review period the seller is suspended: their listings vanish and orders are refused with a
clear error."""

from e2e_helpers import (
    advance,
    eventually,
    every_item,
    listing_body,
    ok,
    order_body,
    order_status,
)


def standing_of(api, seller_id, standing):
    def check():
        shown = api.get(f"/v1/sellers/{seller_id}/standards").json()
        return shown if shown.get("standing") == standing else None

    return check


def test_a_seller_who_ships_late_repeatedly_is_reviewed_then_suspended(
    operator, seller, buyer, new_principal
):
    agent = new_principal("agent")
    # ten orders placed at once, then each awaited (one at a time, each waits for its card)
    listing = ok(seller.post("/v1/listings", listing_body(quantity_available=11)))
    placed = [ok(buyer.post("/v1/orders", order_body(listing["id"]))) for _ in range(10)]
    orders = [eventually(order_status(buyer, o["id"], "awaiting_seller")) for o in placed]
    for order in orders:
        ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    assert ok(seller.get(f"/v1/sellers/{seller.id}/standards"))["standing"] == "good"

    advance(operator, days=6)  # every ship-by passes without a tracking number

    shown = eventually(standing_of(seller, seller.id, "under_review"), timeout=60)
    on_time = shown["metrics"]["on_time_shipping_rate"]
    assert (on_time["value"], on_time["sample_size"], on_time["threshold"]) == (0.0, 10, 0.95)
    assert sorted(on_time["orders"]) == sorted(o["id"] for o in orders)
    [why] = shown["history"]
    assert why["standing"] == "under_review"
    assert "on time shipping rate 0% is below 80% (10 orders)" in why["reason"]
    assert shown["score"] < 100

    told = eventually(
        lambda: [
            n
            for n in ok(seller.get("/v1/me/notifications"))["items"]
            if n["kind"] == "standing_under_review.seller"
        ]
    )
    assert "on time shipping rate" in told[0]["body"]
    assert "What to do next" in told[0]["body"]

    review = eventually(
        lambda: [
            t
            for t in every_item(agent, "/v1/tickets")
            if t["reason"] == "seller_review" and t["seller_id"] == seller.id
        ]
    )
    assert review[0]["order_id"] is None

    # other people cannot read a seller's standards
    assert buyer.get(f"/v1/sellers/{seller.id}/standards").status_code == 404
    assert new_principal("seller").get(f"/v1/sellers/{seller.id}/standards").status_code == 404

    advance(operator, days=15)  # the review period passes with nothing better

    shown = eventually(standing_of(agent, seller.id, "suspended"), timeout=60)
    assert "after the review period" in shown["history"][-1]["reason"]
    eventually(
        lambda: any(
            n["kind"] == "standing_suspended.seller"
            for n in ok(seller.get("/v1/me/notifications"))["items"]
        )
    )
    eventually(
        lambda: buyer.get("/v1/listings", params={"seller_id": seller.id}).json()["items"] == []
    )
    refused = buyer.post("/v1/orders", order_body(orders[0]["listing_id"]))
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "cannot take orders" in refused.json()["detail"]

    # an operator lifts the suspension, with a reason on the record
    lifted = ok(
        operator.put(
            f"/v1/sellers/{seller.id}/standing",
            {"standing": "good", "reason": "the seller explained a family emergency"},
        )
    )
    assert lifted["history"][-1]["decided_by"] == operator.id
    eventually(lambda: buyer.get("/v1/listings", params={"seller_id": seller.id}).json()["items"])
    assert (
        seller.put(
            f"/v1/sellers/{seller.id}/standing", {"standing": "good", "reason": "me"}
        ).status_code
        == 403
    )
