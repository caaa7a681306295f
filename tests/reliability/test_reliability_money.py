"""Where money could go wrong under stress: two people acting on one order at the same
instant, Stripe's webhooks replayed, out of order, stale or forged, and Stripe answering too
late after it charged."""

import asyncio
import json
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from devstack.stripe_proxy import StripeProxy
from payments.webhooks import stripe_signature

from reliability_audit import events_of, problems
from reliability_journeys import (
    WEBHOOK_SECRET,
    Crowd,
    Journey,
    accept_and_ship,
    deliver,
    order_of,
    place,
    read,
    run,
    status_in,
    wait_for,
)


def test_an_accept_and_a_cancel_racing_on_one_order_leave_a_consistent_outcome(fault_stack, crowd):
    journeys = crowd.journeys(4)
    place(journeys)
    wait_for(journeys, status_in("awaiting_seller"), "authorized")
    answers: dict[str, list[int]] = {}
    for journey in journeys:
        answers[journey.order_id] = _at_once(
            lambda j=journey: j.seller.post(f"/v1/orders/{j.order_id}/accept"),
            lambda j=journey: j.buyer.post(
                f"/v1/orders/{j.order_id}/cancel", {"reason": "changed my mind"}
            ),
        )

    for journey in journeys:
        # A buyer may cancel until shipment, so both may succeed (accepted, then cancelled);
        # what may not happen is a 5xx, both refused, or a state the answers contradict.
        accepted, cancelled = answers[journey.order_id]
        assert accepted in (200, 409) and cancelled in (200, 409), (accepted, cancelled)
        assert 200 in (accepted, cancelled), (accepted, cancelled)
        expected = "cancelled" if cancelled == 200 else "accepted"
        assert order_of(journey)["status"] == expected
    cancelled = [j for j in journeys if answers[j.order_id][1] < 300]
    wait_for(
        cancelled, lambda j: (order_of(j).get("payment") or {}).get("state") == "voided", "voided"
    )
    for journey in journeys:
        ledger = read(crowd.operator, f"/v1/ledger/orders/{journey.order_id}")
        assert ledger["balanced"], ledger


def _at_once(*calls: Any) -> list[int]:
    """Send every call at the same instant, each from its own thread; their status codes."""
    start = threading.Barrier(len(calls))
    codes: list[int] = [0] * len(calls)

    def send(index: int) -> None:
        start.wait()
        codes[index] = calls[index]().status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return codes


def test_stripe_webhooks_replayed_reordered_stale_or_forged_count_once_or_not_at_all(
    fault_stack, crowd
):
    journeys = crowd.journeys(1)
    place(journeys)
    accept_and_ship(journeys)
    deliver(crowd, journeys)
    journey = journeys[0]
    intent = _payment_intent(fault_stack, journey)
    now = datetime.fromisoformat(read(crowd.operator, "/v1/ops/clock")["now"])
    opened = _dispute(intent, "needs_response", now)
    won = _dispute(intent, "won", now, dispute_id=opened["data"]["object"]["id"])

    forged = _post_webhook(crowd, opened, at=now, secret="whsec_someone_else")
    stale = _post_webhook(crowd, opened, at=now - timedelta(hours=1))
    assert (forged.status_code, stale.status_code) == (400, 400)
    assert forged.headers["content-type"].startswith("application/problem+json")
    assert _disputes(fault_stack, journey) == []

    assert _post_webhook(crowd, won, at=now).status_code == 200  # closed before opened
    for _ in range(3):  # and the opening replayed
        assert _post_webhook(crowd, opened, at=now).status_code == 200

    deadline = time.monotonic() + 30
    while len(_disputes(fault_stack, journey)) < 2 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _disputes(fault_stack, journey) == ["dispute_opened", "dispute_closed"]
    ledger = read(crowd.operator, f"/v1/ledger/orders/{journey.order_id}")
    assert ledger["balanced"], ledger


def _payment_intent(stack: Any, journey: Journey) -> str:
    events = asyncio.run(events_of(stack.bootstrap, {journey.order_id}))[journey.order_id]
    authorized = next(e for e in events if e["type"] == "marketplace.payment.authorized.v1")
    return str(authorized["data"]["payment_intent_id"])


def _disputes(stack: Any, journey: Journey) -> list[str]:
    events = asyncio.run(events_of(stack.bootstrap, {journey.order_id}))[journey.order_id]
    return [
        e["type"].removeprefix("marketplace.payment.").removesuffix(".v1")
        for e in events
        if ".dispute_" in e["type"]
    ]


def _dispute(
    payment_intent_id: str, status: str, at: datetime, *, dispute_id: str | None = None
) -> dict[str, Any]:
    kind = "charge.dispute.created" if status == "needs_response" else "charge.dispute.closed"
    return {
        "id": f"evt_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": kind,
        "created": int(at.timestamp()),
        "data": {
            "object": {
                "id": dispute_id or f"dp_{uuid.uuid4().hex[:12]}",
                "object": "dispute",
                "amount": 12500,
                "currency": "eur",
                "payment_intent": payment_intent_id,
                "reason": "fraudulent",
                "status": status,
            }
        },
    }


def _post_webhook(
    crowd: Crowd, event: dict[str, Any], *, at: datetime, secret: str = WEBHOOK_SECRET
) -> Any:
    """As Stripe sends it: the JSON body, signed."""
    payload = json.dumps(event).encode()
    return crowd.operator.http.post(
        "/v1/webhooks/stripe",
        content=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": stripe_signature(payload, secret, at),
            "Authorization": "",
        },
    )


def test_stripe_timing_out_after_it_charged_is_found_charged_and_not_charged_again(
    fault_stack, crowd, supervisor
):
    held: list[str] = []

    def answer_the_first_capture_too_late() -> bool:
        if not held:
            held.append(slow.captures[-1])
            time.sleep(4)  # the charge is made; payments gave up waiting after 1.5 s
        return True

    slow = StripeProxy(fault_stack.stripe_base, answer_the_first_capture_too_late)
    try:
        supervisor.arm("payments", STRIPE_API_BASE=slow.url, STRIPE_TIMEOUT_SECONDS="1.5")
        journeys = crowd.journeys(2)
        run(crowd, journeys)
    finally:
        slow.close()

    assert len(held) == 1
    assert problems(fault_stack, crowd, journeys) == []
