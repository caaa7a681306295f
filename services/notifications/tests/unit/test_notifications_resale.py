"""A resale event's ticket or booking (#20): each step of the transfer has its own words (the
seller accepted and is asking the organiser, it is in the recipient's name and what to bring,
the money is held until after the event, a delay, a new date, a cancellation), warm and plain,
saying what happens next and by when; the buyer hears what they must whatever they chose."""

from datetime import UTC, datetime

import pytest

from notifications import domain
from notifications.domain import OrderParties
from notifications.templates import Catalogue

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ORDER = OrderParties(
    "ord_1",
    "usr_buyer",
    "usr_seller",
    {"title": "Row 4, seat 12", "recipient_name": "Bea Buyer", "accept_by": NOW.isoformat()},
)
EVENT = {
    "event_id": "evt_1",
    "name": "Nils Frahm live",
    "venue": "Konzerthaus Berlin",
    "kind": "ticket",
    "starts_at": "2026-11-28T19:00:00+00:00",
    "ends_at": "2026-11-28T22:00:00+00:00",
    "utc_offset_minutes": 60,
}
FACT = {
    "order_id": "ord_1",
    "buyer_id": "usr_buyer",
    "seller_id": "usr_seller",
    "listing_id": "lst_1",
    "fulfilment": "transfer",
    "occurred_at": NOW.isoformat(),
    "event": EVENT,
}
RELEASE = "2026-11-30T22:00:00+00:00"
CASES = {
    "marketplace.order.accepted.v1": (FACT | {"ship_by": "2026-11-27T17:00:00+00:00"}),
    "marketplace.order.shipped.v1": (
        FACT | {"transfer_reference": "TIX-42", "release_at": RELEASE}
    ),
    "marketplace.order.transfer_confirmed.v1": FACT | {"release_at": RELEASE},
    "marketplace.order.shipment_overdue.v1": FACT
    | {"ship_by": "2026-11-27T17:00:00+00:00", "accepted_at": NOW.isoformat()},
    "marketplace.order.event_postponed.v1": FACT
    | {
        "event": EVENT | {"starts_at": "2026-12-12T19:00:00+00:00"},
        "previous_starts_at": EVENT["starts_at"],
        "cancellable_until": "2026-12-12T19:00:00+00:00",
        "release_at": "2026-12-14T22:00:00+00:00",
    },
    "marketplace.order.cancelled.v1": {
        "order_id": "ord_1",
        "buyer_id": "usr_buyer",
        "seller_id": "usr_seller",
        "reason": "event_cancelled",
        "cancelled_by": "system",
        "cancelled_at": NOW.isoformat(),
        "event": EVENT,
    },
}


def told(event_type):
    data = CASES[event_type]
    return {
        intent.message: (
            intent,
            Catalogue().render(
                intent.message,
                "en",
                {"name": "Bea", "data": data, "order": ORDER.facts, "link": "http://p/o"},
            ),
        )
        for intent in domain.intents_for(event_type, data, ORDER)
    }


@pytest.mark.parametrize(
    ("event_type", "message", "words"),
    [
        (
            "marketplace.order.accepted.v1",
            "transfer_accepted.buyer",
            ["the organiser", "Fri 27 Nov"],
        ),
        (
            "marketplace.order.shipped.v1",
            "transfer_done.buyer",
            ["to Bea Buyer", "TIX-42", "What to bring", "an ID", "Mon 30 Nov"],
        ),
        (
            "marketplace.order.transfer_confirmed.v1",
            "transfer_confirmed.buyer",
            ["after the event"],
        ),
        (
            "marketplace.order.shipment_overdue.v1",
            "transfer_late.buyer",
            ["specialist", "cancelled"],
        ),
        ("marketplace.order.event_postponed.v1", "event_postponed.buyer", ["cancel", "in full"]),
        ("marketplace.order.cancelled.v1", "event_cancelled.buyer", ["every cent back"]),
        ("marketplace.order.cancelled.v1", "event_cancelled.seller", ["not held against you"]),
    ],
)
def test_each_step_of_a_transfer_tells_what_happens_next_and_by_when(event_type, message, words):
    _, rendered = told(event_type)[message]
    assert "Nils Frahm live" in rendered.title + rendered.text
    for word in words:
        assert word in rendered.text, word
    assert "<p>" in rendered.html


def test_the_buyer_must_hear_of_a_cancelled_or_postponed_event():
    assert told("marketplace.order.cancelled.v1")["event_cancelled.buyer"][0].must
    assert told("marketplace.order.event_postponed.v1")["event_postponed.buyer"][0].must


def test_an_event_name_is_text_in_every_message():
    hostile = EVENT | {"name": "<script>x</script>", "venue": "<b>Hall</b>"}
    for event_type, data in CASES.items():
        data = data | {"event": hostile}
        for intent in domain.intents_for(event_type, data, ORDER):
            if intent.message == "shipment_late.seller":
                continue  # the seller's overdue message names the item, not the event
            rendered = Catalogue().render(
                intent.message,
                "en",
                {"name": "Bea", "data": data, "order": ORDER.facts, "link": "l"},
            )
            assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html


def test_goods_keep_their_own_words():
    goods = {k: v for k, v in CASES["marketplace.order.accepted.v1"].items() if k != "event"}
    (intent,) = domain.intents_for("marketplace.order.accepted.v1", goods, ORDER)
    assert intent.message == "order_accepted.buyer"
