"""A buyer rebooked after their seller backed out (#20) hears that their order goes on: another
ticket for the event, paid from what they gave, nothing more to pay; the event is text."""

from notifications import domain
from notifications.domain import OrderParties
from notifications.templates import Catalogue

ORDER = OrderParties("ord_1", "usr_buyer", "usr_seller", {"title": "Row 4"})
EVENT = {
    "event_id": "evt_1",
    "name": "Nils Frahm live",
    "venue": "Konzerthaus Berlin",
    "kind": "ticket",
    "starts_at": "2026-11-28T19:00:00+00:00",
    "ends_at": "2026-11-28T22:00:00+00:00",
    "utc_offset_minutes": 60,
}
REBOOKED = {
    "order_id": "ord_1",
    "buyer_id": "usr_buyer",
    "seller_id": "usr_seller",
    "listing_id": "lst_1",
    "fulfilment": "transfer",
    "occurred_at": "2026-11-24T10:00:00+00:00",
    "ticket_id": "tkt_1",
    "replaced_by": "ord_2",
    "new_listing_id": "lst_2",
    "new_seller_id": "usr_other",
    "new_total": {"amount_minor": 6000, "currency": "EUR"},
    "event": EVENT,
}


def rendered(data):
    (intent,) = domain.intents_for("marketplace.order.rebooked.v1", data, ORDER)
    context = {"name": "Bea", "data": data, "order": ORDER.facts, "link": "http://p/o"}
    return intent, Catalogue().render(intent.message, "en", context)


def test_the_buyer_must_hear_their_order_goes_on_at_no_extra_cost():
    intent, message = rendered(REBOOKED)

    assert (intent.message, intent.must) == ("order_rebooked.buyer", True)
    assert message.title == "We found you another ticket for Nils Frahm live"
    assert "you pay nothing more" in message.text and "60.00 EUR" in message.text


def test_the_event_name_is_text():
    _, message = rendered(REBOOKED | {"event": EVENT | {"name": "<script>x</script>"}})
    assert "<script>" not in message.html
