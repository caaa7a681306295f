"""An order as its buyer or seller reads it (issue #21): a headline for every status and
reader, exceptions that look like exceptions, money in sentences (the seller's fee and net for
the seller only), dates in the reader's zone, the seller's queue by urgency, the forms'
confirmation step and errors by field. Pure functions and templates, no server."""

from typing import Any

import pytest
from starlette.requests import Request

from gateway.portal.forms import ORDER_ACTIONS, field_errors
from gateway.portal.reading import (
    headline,
    is_late,
    money_sentences,
    seller_groups,
    tracking_url,
)
from gateway.portal.routes.orders import order_context
from gateway.portal.views import templates

from gateway_test_helpers import HOSTILE

STATUSES = [
    *("placed", "awaiting_seller", "accepted", "shipped", "delivery_failed", "delivered"),
    *("completed", "disputed", "return_requested", "returned", "refunded"),
    *("exchange_requested", "returned_to_sender", "declined", "cancelled"),
]
BUYER = {"id": "prn_b", "role": "buyer", "name": "Bea"}
SELLER = {"id": "prn_s", "role": "seller", "name": "Sam"}
NAMES = {"prn_b": "Bea Buyer", "prn_s": "Sam's Cameras"}


def eur(minor: int) -> dict[str, Any]:
    return {"amount_minor": minor, "currency": "EUR"}


def an_order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "id": "ord_7f3a",
        "status": "accepted",
        "buyer_id": "prn_b",
        "seller_id": "prn_s",
        "title": "Leica M6 with 35mm lens",
        "quantity": 2,
        "unit_price": eur(7250),
        "total": eur(14500),
        "fulfilment": "seller_ships",
        "placed_at": "2026-11-23T09:00:00+00:00",
        "accept_by": "2026-11-25T09:00:00+00:00",
        "ship_by": "2026-11-27T23:30:00+00:00",
        "shipping_address": {
            "name": "Bea Buyer",
            "line1": "Keizersgracht 1",
            "line2": None,
            "city": "Amsterdam",
            "postal_code": "1015 AA",
            "country": "NL",
        },
        "steps": [
            {"name": "confirmed", "state": "done", "message": "Confirmed."},
            {"name": "shipped", "state": "current", "message": "You get a tracking number."},
            {"name": "completed", "state": "upcoming", "message": "Confirm once it arrives."},
        ],
        "timeline": [{"at": "2026-11-23T09:00:00+00:00", "kind": "placed", "detail": ""}],
        "payment": {"state": "authorized", "authorized": eur(14500), "captured": eur(0)}
        | {"refunded": eur(0), "released": eur(0)},
        "shipment": {"carrier": None, "tracking_number": None, "delivery_attempts": 0},
        "tickets": [],
        "allowed_actions": [],
    }
    return order | changes


def render(me: dict[str, Any], order: dict[str, Any], **extra: Any) -> str:
    context = order_context(
        order, me, NAMES, extra.pop("payment", {}), [], extra.pop("failed", None)
    )
    return templates.get_template("portal/order.html").render(
        csrf="c", form_key="k", me=me, **context, **extra
    )


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_has_a_headline_for_each_reader_and_they_differ(status):
    order = an_order(status=status)
    buyer, seller = headline(order, "buyer"), headline(order, "seller")
    assert buyer.title and seller.title
    assert "_" not in buyer.title + seller.title  # words, not the API's names
    assert buyer.title != seller.title or status in ("cancelled", "refunded")


def test_problems_look_like_problems_and_say_by_when():
    late = an_order(timeline=[{"at": "2026-11-28T00:00:00Z", "kind": "shipment_overdue"}])
    assert is_late(late) and not is_late(an_order())
    for reader in ("buyer", "seller"):
        shown = headline(late, reader)
        assert shown.tone == "bad" and shown.by == late["ship_by"] and shown.by_label == "Was due"
    assert headline(late, "buyer").title.startswith("Late")
    assert headline(late, "seller").title.startswith("Overdue")
    for status in ("delivery_failed", "returned_to_sender", "declined", "cancelled"):
        assert headline(an_order(status=status), "buyer").tone == "bad", status
    assert headline(an_order(status="disputed"), "seller").tone == "bad"
    lapsed = an_order(status="awaiting_seller", payment={"state": "hold_lapsed"})
    assert headline(lapsed, "buyer").title == "Give another card to keep this order"
    assert "Do not ship" in headline(lapsed, "seller").text
    waiting = headline(an_order(status="awaiting_seller"), "seller")
    assert waiting.title == "Accept or decline this order" and waiting.by == an_order()["accept_by"]


def test_money_reads_as_sentences_in_the_readers_terms():
    held = an_order()
    assert money_sentences(held, "buyer") == [
        "145.00 EUR on hold, not charged. It is charged when the seller ships."
    ]
    captured = an_order(payment={"state": "captured", "captured": eur(6500)})
    assert money_sentences(captured, "buyer") == ["Charged 65.00 EUR, held until you confirm."]
    refunded = an_order(payment={"state": "refunded", "refunded": eur(14500)})
    assert "arrives" not in "".join(money_sentences(refunded, "seller"))
    assert money_sentences(refunded, "buyer")[0].startswith("Refunded 145.00 EUR to your card;")
    assert "5-10 business days" in money_sentences(refunded, "buyer")[0]
    yen = an_order(total={"amount_minor": 5000, "currency": "JPY"})
    yen["payment"] = {
        "state": "authorized",
        "authorized": {"amount_minor": 5000, "currency": "JPY"},
    }
    assert money_sentences(yen, "buyer")[0].startswith("5,000 JPY on hold")


def test_a_resale_events_money_is_told_as_held_until_after_the_event():
    payment = {"state": "captured", "captured": eur(6500), "held_until": "2027-03-15T20:00:00Z"}
    transferred = an_order(fulfilment="transfer", payment=payment)
    assert money_sentences(transferred, "buyer") == [
        "Charged 65.00 EUR, held until Mon 15 Mar 2027, after the event: the seller is paid "
        "only once it has gone well."
    ]
    assert (
        "held until Mon 15 Mar 2027, after the event" in money_sentences(transferred, "seller")[0]
    )


def test_fees_and_the_net_are_the_sellers_alone():
    released = an_order(
        status="completed",
        payment={"state": "released", "captured": eur(14500), "released": eur(13050)},
    )
    detail = {"platform_fee": eur(1450), "credit_applied": eur(0)}
    seller = " ".join(money_sentences(released, "seller", detail))
    assert "130.50 EUR released to you" in seller and "fee of 14.50 EUR" in seller
    buyer = " ".join(money_sentences(released, "buyer", detail))
    assert "130.50" not in buyer and "14.50" not in buyer and "fee" not in buyer
    page = render(BUYER, released, payment=detail)
    assert "130.50" not in page and "14.50" not in page
    assert "130.50 EUR released to you" in render(SELLER, released, payment=detail)


def test_the_page_says_what_and_who_and_where_to_ship():
    order = an_order()
    seller_page, buyer_page = render(SELLER, order), render(BUYER, order)
    assert "<h1>Leica M6 with 35mm lens" in seller_page
    assert (
        "2 \u00d7 72.50 EUR" in seller_page
    )  # quantity times the unit price and "145.00 EUR" in seller_page
    assert 'bought by <strong class="party">Bea Buyer</strong>' in seller_page
    assert 'sold by <strong class="party">Sam&#39;s Cameras</strong>' in buyer_page
    assert "Ship to" in seller_page and "Keizersgracht 1" in seller_page
    assert '<code class="id">ord_7f3a</code>' in seller_page
    assert "<h1>Order" not in seller_page


def test_a_transfer_names_its_event_and_recipient_when_the_view_has_them():
    order = an_order(fulfilment="transfer", shipping_address=None)
    order |= {
        "event": {"name": "Lowlands", "venue": "Biddinghuizen", "starts_at": "2027-08-20T12:00Z"},
        "recipient": {"name": "Ria Recipient", "email": "ria@example.com"},
    }
    page = render(SELLER, order)
    assert "Lowlands at Biddinghuizen" in page and "Ria Recipient" in page
    assert '<time datetime="2027-08-20T12:00:00+00:00">Fri 20 Aug 2027, 12:00 UTC</time>' in page
    assert "ria@example.com" not in render(BUYER, order)  # the buyer gave it; no need to echo
    order["event"]["status"] = "postponed"
    assert '<span class="status event-status">postponed</span>' in render(BUYER, order)


def test_dates_are_shown_in_the_readers_zone_in_time_elements():
    request = Request({"type": "http", "headers": [(b"cookie", b"mkt_tz=Europe/Amsterdam")]})
    page = templates.get_template("portal/order.html").render(
        csrf="c",
        form_key="k",
        me=SELLER,
        request=request,
        **order_context(an_order(), SELLER, NAMES, {}, []),
    )
    # ship by 23:30 UTC on Friday is 00:30 on Saturday in Amsterdam
    assert '<time datetime="2026-11-27T23:30:00+00:00">Sat 28 Nov 2026, 00:30 CET</time>' in page
    forged = Request({"type": "http", "headers": [(b"cookie", b"mkt_tz=../../etc/passwd")]})
    page = templates.get_template("portal/order.html").render(
        csrf="c",
        form_key="k",
        me=SELLER,
        request=forged,
        **order_context(an_order(), SELLER, NAMES, {}, []),
    )
    assert "Fri 27 Nov 2026, 23:30 UTC" in page


def test_tracking_links_to_the_carrier_when_known():
    assert tracking_url("DHL", "JD 01/4") == (
        "https://www.dhl.com/en/express/tracking.html?AWB=JD%2001%2F4"
    )
    assert tracking_url("Bob's Vans", "X1") is None and tracking_url("DHL", None) is None
    shipped = an_order(status="shipped", shipment={"carrier": "dhl", "tracking_number": "T1"})
    assert 'href="https://www.dhl.com/en/express/tracking.html?AWB=T1"' in render(BUYER, shipped)


def test_irreversible_actions_state_their_consequence_and_need_a_confirmation():
    order = an_order(status="delivered", allowed_actions=["confirm_receipt", "cancel"])
    page = render(BUYER, order)
    assert "This pays the seller" in page
    assert 'name="confirmed" value="yes"' in page
    assert {a for a, act in ORDER_ACTIONS.items() if act.consequence} == {
        "confirm_receipt",
        "cancel",
        "decline",
    }


def test_a_refused_form_comes_back_filled_with_each_error_by_its_field():
    review = ORDER_ACTIONS["review"]
    assert all(f.required for f in review.fields) and all(
        f.required for f in ORDER_ACTIONS["exchange"].fields
    )
    problem = {
        "errors": [
            {"loc": ["body", "text"], "msg": "String should have at least 1 character"},
            {"loc": ["body", "nonsense"], "msg": "Extra inputs are not permitted"},
        ]
    }
    errors = field_errors(review.fields, problem)
    assert errors == {
        "text": "String should have at least 1 character",
        "": "Extra inputs are not permitted",
    }
    failed = {"action": "review", "values": {"rating": "2", "text": HOSTILE}, "errors": errors}
    page = render(BUYER, an_order(status="completed", allowed_actions=["review"]), failed=failed)
    assert "<details open>" in page
    assert '<option value="2" selected>' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert 'aria-invalid="true" aria-describedby="review-text-error"' in page
    assert "String should have at least 1 character" in page


def test_the_sellers_queue_puts_what_needs_attention_first():
    late = an_order(id="late", timeline=[{"kind": "shipment_overdue"}])
    orders = [
        an_order(id="done", status="completed"),
        an_order(id="ship_later", ship_by="2026-12-01T00:00:00Z"),
        an_order(id="ship_soon", ship_by="2026-11-26T00:00:00Z"),
        an_order(id="accept", status="awaiting_seller"),
        late,
        an_order(id="dispute", status="disputed"),
        an_order(id="failed", status="delivery_failed"),
        an_order(id="transit", status="shipped"),
    ]
    groups = [(title, [o["id"] for o in found]) for title, found in seller_groups(orders)]
    assert groups == [
        ("Needs attention", ["dispute", "failed"]),
        ("Overdue", ["late"]),
        ("To accept", ["accept"]),
        ("To ship", ["ship_soon", "ship_later"]),
        ("In progress", ["transit"]),
        ("Done", ["done"]),
    ]
    page = templates.get_template("portal/orders.html").render(
        me=SELLER,
        csrf="c",
        form_key="k",
        role="seller",
        groups=seller_groups(orders),
        names=NAMES,
        late={"late"},
        ship=ORDER_ACTIONS["ship"],
    )
    assert '<tr class="overdue">' in page and "was due" in page
    assert 'data-label="Buyer">Bea Buyer</td>' in page


def test_a_buyer_whose_hold_lapsed_is_given_the_form_for_another_card():
    lapsed = an_order(status="awaiting_seller", payment={"state": "hold_lapsed"})
    page = render(BUYER, lapsed)
    assert 'action="/portal/orders/ord_7f3a/replace_card"' in page
    assert "replace_card" not in render(SELLER, lapsed)
    assert "replace_card" not in render(BUYER, an_order())
