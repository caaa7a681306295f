"""A carrier learns what its parcels need through the gateway (issue #19, "Requests go to
whoever acts on them"): after a failed delivery the buyer picks a date, and the carrier's
`GET /v1/carrier/shipments` shows it; another carrier's list does not."""

import uuid
from datetime import datetime, timedelta

from e2e_helpers import Api, authorized_order, every_item, now_of, ok


def test_a_carrier_sees_the_date_a_buyer_chose_and_another_carrier_does_not(
    operator, gateway_url, seller, buyer, carrier
):
    other = ok(
        operator.post(
            "/v1/principals",
            {
                "role": "carrier",
                "name": f"UPS {uuid.uuid4().hex[:6]}",
                "email": f"{uuid.uuid4().hex[:8]}@example.com",
                "carrier": "UPS",
            },
        )
    )
    ups = Api(gateway_url, other["token"], other)
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    number = f"TRK{uuid.uuid4().hex[:10].upper()}"
    ok(seller.post(f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number}))
    before = now_of(operator)
    scan = {
        "tracking_number": number,
        "status": "delivery_failed",
        "occurred_at": before.isoformat(),
    }
    assert ok(carrier.post("/v1/carrier-events", scan))["status"] == "delivery_failed"
    preferred = (before.date() + timedelta(days=2)).isoformat()
    ok(buyer.post(f"/v1/orders/{order['id']}/redeliver", {"preferred_date": preferred}))

    since = (before - timedelta(seconds=1)).isoformat()
    mine = [
        item
        for item in every_item(carrier, "/v1/carrier/shipments", since=since)
        if item["order_id"] == order["id"]
    ]
    theirs = every_item(ups, "/v1/carrier/shipments", since=since)

    assert [(i["tracking_number"], i["kind"], i["date"]) for i in mine] == [
        (number, "redelivery", preferred)
    ]
    assert mine[0]["address"]["city"] and datetime.fromisoformat(mine[0]["asked_at"]) >= before
    assert all(item["order_id"] != order["id"] for item in theirs)
    assert all(item["carrier"] == "UPS" for item in theirs)
