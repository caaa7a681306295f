"""A buyer whose rebooking orders could not place (#20: the other ticket sold out, its seller
away, the event no longer scheduled) is not left in silence: they must hear, plainly and
warmly, that the ticket was gone and a specialist is finding another or refunding them."""

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
FAILED = {
    "order_id": "ord_1",
    "buyer_id": "usr_buyer",
    "seller_id": "usr_seller",
    "listing_id": "lst_1",
    "fulfilment": "transfer",
    "occurred_at": "2026-11-24T10:00:00+00:00",
    "ticket_id": "tkt_1",
    "new_listing_id": "lst_2",
    "reason": "This listing is not available to order",
    "event": EVENT,
}


def rendered(data):
    (intent,) = domain.intents_for("marketplace.order.rebook_failed.v1", data, ORDER)
    context = {"name": "Bea", "data": data, "order": ORDER.facts, "link": "http://p/o"}
    return intent, Catalogue().render(intent.message, "en", context)


def test_the_buyer_must_hear_the_ticket_was_gone_and_what_happens_now():
    intent, message = rendered(FAILED)

    assert (intent.message, intent.must, intent.recipient_id) == (
        "order_rebook_failed.buyer",
        True,
        "usr_buyer",
    )
    assert message.title == "The other ticket we found for Nils Frahm live was gone"
    assert "finding you another ticket or, if none suits, refunding you" in message.text
    assert "not been charged" in message.text


def test_without_an_event_and_with_markup_in_its_name_it_still_reads_as_text():
    _, plain = rendered(FAILED | {"event": None})
    assert plain.title == "The other ticket we found for your event was gone"
    _, message = rendered(FAILED | {"event": EVENT | {"name": "<script>x</script>"}})
    assert "<script>" not in message.html
