"""The catalogue without I/O: who hears about each event, what they must get whatever their
preferences, which reminders are due, and that every message renders in text and HTML from a
real event's data (a missing or misspelt field fails here, not in someone's inbox)."""

import typing
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from contracts import Money, event_type_registry
from notifications import domain
from notifications.domain import CATALOGUE, OrderParties, Preferences
from notifications.templates import Catalogue

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ORDER = OrderParties(
    "ord_1",
    "usr_buyer",
    "usr_seller",
    {
        "total": {"amount_minor": 12500, "currency": "EUR"},
        "accept_by": (NOW + timedelta(days=2)).isoformat(),
        "ship_by": (NOW + timedelta(days=4)).isoformat(),
        "title": "order ord_1",
    },
)


def sample(annotation):
    """A plausible value of a contract field's type."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return typing.get_args(annotation)[0]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return sample(next(a for a in typing.get_args(annotation) if a is not type(None)))
    if isinstance(annotation, type) and issubclass(annotation, Money):
        return {"amount_minor": 4200, "currency": "EUR"}
    if annotation is int:
        return 2
    if annotation is bool:
        return False
    if "datetime" in str(annotation).lower():
        return NOW.isoformat()
    return "sample <text> & more"


def event_data(event_type):
    model: type[BaseModel] = event_type_registry()[event_type]
    data = {name: sample(field.annotation) for name, field in model.model_fields.items()}
    return data | {
        "order_id": "ord_1",
        "sender_role": "buyer",
        "standing": "at_risk",
        "previous": "good",
    }


def all_intents():
    for event_type in sorted(CATALOGUE):
        for intent in domain.intents_for(event_type, event_data(event_type), ORDER):
            yield event_type, intent


@pytest.mark.parametrize(("event_type", "intent"), list(all_intents()), ids=lambda v: str(v)[:60])
def test_every_message_renders_in_text_and_html_from_its_events_data(event_type, intent):
    rendered = Catalogue().render(
        intent.message,
        "en",
        {
            "name": "Bea",
            "data": event_data(event_type),
            "order": ORDER.facts | {"order_id": "ord_1"},
            "link": "http://portal/orders/ord_1",
        },
    )
    assert rendered.title and "{" not in rendered.title
    assert rendered.text.startswith("Hello Bea,")
    assert "<text>" not in rendered.html  # what people wrote is escaped in HTML
    assert 'href="http://portal/orders/ord_1"' in rendered.html


HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>\r\nBcc: all@example.com "'


@pytest.mark.parametrize(("event_type", "intent"), list(all_intents()), ids=lambda v: str(v)[:60])
def test_what_people_wrote_is_text_in_every_message(event_type, intent):
    """Autoescape is on for the HTML part whatever the template's file name; the title (also
    the e-mail's Subject and the inbox's title) is one line of plain text."""
    data = {
        key: HOSTILE if value == "sample <text> & more" and key != "order_id" else value
        for key, value in event_data(event_type).items()
    }
    rendered = Catalogue().render(
        intent.message,
        "en",
        {
            "name": HOSTILE,
            "data": data,
            "order": ORDER.facts | {"order_id": "ord_1", "title": HOSTILE},
            "link": "http://portal/orders/ord_1",
        },
    )
    assert "<script" not in rendered.html and "<img" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "\n" not in rendered.title and "\r" not in rendered.title
    assert "<script>" in rendered.text  # plain text stays as written: the reader escapes it


@pytest.mark.parametrize("standing", ["good", "at_risk", "under_review", "suspended", "revoked"])
def test_every_standing_a_seller_can_reach_has_a_message_they_must_get(standing):
    intent = domain.standing_intent(
        {"seller_id": "usr_seller", "standing": standing, "previous": "x"}
    )
    assert intent is not None and intent.must
    rendered = Catalogue().render(
        intent.message,
        "fr",
        {"name": "Sam", "data": {"reason": "late", "previous": "good"}, "order": {}, "link": None},
    )
    assert rendered.text.startswith("Hello Sam")  # no French yet: English, not an error


def test_each_side_hears_what_concerns_them():
    told = {(i.recipient_id, i.message) for _, i in all_intents()}
    assert ("usr_seller", "new_order.seller") in told
    assert ("usr_buyer", "order_confirmed.buyer") in told
    assert ("usr_buyer", "shipment_late.buyer") in told and (
        "usr_seller",
        "shipment_late.seller",
    ) in told
    assert not any(r == "usr_buyer" and m.endswith(".seller") for r, m in told)


def test_a_cancellation_by_the_seller_is_not_told_back_to_them():
    data = event_data("marketplace.order.cancelled.v1") | {"cancelled_by": "seller"}
    told = domain.intents_for("marketplace.order.cancelled.v1", data, ORDER)
    assert [i.recipient_id for i in told] == ["usr_buyer"]


def test_what_a_person_must_get_goes_out_whatever_they_chose():
    quiet = Preferences(email=False, in_app=False)
    assert quiet.channels(must=True) == ["in_app", "email"]
    assert quiet.channels(must=False) == []
    assert Preferences(email=False).channels(must=False) == ["in_app"]
    musts = {i.message for _, i in all_intents() if i.must}
    assert {"payment_failed.buyer", "refunded.buyer", "order_declined.buyer"} <= musts
    assert "order_shipped.buyer" not in musts


def test_reminders_come_before_the_deadline_and_acting_cancels_them():
    authorized = domain.reminders_for(
        "marketplace.payment.authorized.v1",
        {},
        ORDER,
        accept_lead=timedelta(hours=12),
        ship_lead=timedelta(hours=24),
    )
    assert [(r.kind, r.recipient_id, r.due_at) for r in authorized] == [
        (domain.ACCEPT_REMINDER, "usr_seller", NOW + timedelta(days=2) - timedelta(hours=12))
    ]
    accepted = domain.reminders_for(
        "marketplace.order.accepted.v1",
        {"ship_by": ORDER.facts["ship_by"]},
        ORDER,
        accept_lead=timedelta(hours=12),
        ship_lead=timedelta(hours=24),
    )
    assert accepted[0].due_at == NOW + timedelta(days=3)
    assert domain.ACCEPT_REMINDER in domain.CANCELS["marketplace.order.accepted.v1"]
    assert domain.SHIP_REMINDER in domain.CANCELS["marketplace.order.shipped.v1"]


def test_a_failing_channel_backs_off_up_to_an_hour():
    assert [domain.retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
    ]
    assert domain.retry_delay(20) == timedelta(hours=1)


@pytest.mark.parametrize(
    ("total", "shown"),
    [
        ({"amount_minor": 5000, "currency": "JPY"}, "5,000 JPY"),
        ({"amount_minor": 12500, "currency": "KWD"}, "12.500 KWD"),
        ({"amount_minor": 123450, "currency": "EUR"}, "1,234.50 EUR"),
    ],
)
def test_an_amount_reads_in_its_currencys_own_decimals(total, shown):
    """A ¥5,000 order is "5,000 JPY" in its e-mails, not "50.00 JPY" (contracts' format_money)."""
    rendered = Catalogue().render(
        "order_confirmed.buyer",
        "en",
        {
            "name": "Bea",
            "data": {},
            "order": ORDER.facts | {"total": total, "order_id": "ord_1"},
            "link": "http://portal/orders/ord_1",
        },
    )
    assert shown in rendered.text and shown in rendered.html


def test_an_accepted_order_notes_its_ship_by_date_and_swaps_the_sellers_reminder():
    ship_by = (NOW + timedelta(days=5)).isoformat()
    data = event_data("marketplace.order.accepted.v1") | {"ship_by": ship_by}
    known = OrderParties("ord_1", "usr_buyer", "usr_seller", {"title": "order ord_1"})

    reaction = domain.react(
        "marketplace.order.accepted.v1",
        data,
        known,
        accept_lead=timedelta(hours=12),
        ship_lead=timedelta(hours=24),
    )

    assert reaction.noted == {"ship_by": ship_by}
    assert reaction.order.facts == {"title": "order ord_1", "ship_by": ship_by}
    assert [i.message for i in reaction.intents] == ["order_accepted.buyer"]
    assert [r.kind for r in reaction.reminders] == [domain.SHIP_REMINDER]
    assert reaction.cancelled == (domain.ACCEPT_REMINDER,)


def test_an_event_that_adds_no_fact_leaves_the_order_as_it_was():
    data = event_data("marketplace.order.shipped.v1")

    reaction = domain.react(
        "marketplace.order.shipped.v1",
        data,
        ORDER,
        accept_lead=timedelta(hours=12),
        ship_lead=timedelta(hours=24),
    )

    assert (reaction.noted, reaction.order, reaction.reminders) == ({}, ORDER, [])
    assert reaction.cancelled == (domain.SHIP_REMINDER,)


def test_a_contact_kept_says_what_was_changed_in_it():
    clean = domain.contact("Bea", "bea@example.com", "en")
    forged = domain.contact("Bea\r\nBcc: x", "bea@example.com\r\n", "en")

    assert not clean.suspicious
    assert forged.name_changed and forged.address_fault is not None and forged.suspicious


@pytest.mark.parametrize("event_type", sorted(domain.PAYOUT_MESSAGES))
def test_a_seller_must_hear_of_their_payouts_in_a_message_that_renders(event_type):
    data = event_data(event_type) | {"order_ids": ["ord_1", "ord_2"], "seller_id": "usr_seller"}
    intent = domain.payout_intent(event_type, data)
    assert (intent.recipient_id, intent.order_id, intent.must) == ("usr_seller", None, True)
    rendered = Catalogue().render(
        intent.message, "en", {"name": "Sam", "data": data, "order": {}, "link": None}
    )
    assert rendered.text.startswith("Hello Sam") and "42.00 EUR" in rendered.title


def test_a_seller_must_hear_of_a_surge_in_their_orders_in_a_message_that_renders():
    data = event_data("marketplace.seller.order_surge.v1") | {"seller_id": "usr_seller"}
    intent = domain.surge_intent(data)
    assert (intent.recipient_id, intent.order_id, intent.must) == ("usr_seller", None, True)
    rendered = Catalogue().render(
        intent.message, "en", {"name": "Sam", "data": data, "order": {}, "link": None}
    )
    assert rendered.text.startswith("Hello Sam") and "surging" in rendered.title
