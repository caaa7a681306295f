import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from contracts import Envelope, Money, RawEnvelope, encode_envelope
from contracts.orders import OrderPlaced

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _placed(**overrides):
    fields = dict(
        order_id="ord_1",
        buyer_id="usr_b",
        seller_id="usr_s",
        listing_id="lst_1",
        quantity=2,
        unit_price=Money(amount_minor=1000, currency="EUR"),
        total=Money(amount_minor=2000, currency="EUR"),
        fulfilment="seller_ships",
        payment_method="pm_card_visa",
        placed_at=NOW,
    )
    return OrderPlaced(**fields | overrides)


def test_an_encoded_envelope_decodes_to_the_same_event():
    event_id = uuid.uuid4()
    body = encode_envelope(
        _placed(),
        event_id=event_id,
        source="orders",
        time=NOW,
        correlation_id="corr-1",
        causation_id=None,
    )
    decoded = Envelope[OrderPlaced].model_validate(body)
    assert decoded.id == event_id
    assert decoded.type == "marketplace.order.placed.v1"
    assert decoded.subject == "ord_1"
    assert decoded.data == _placed()


def test_consumers_ignore_fields_they_do_not_know():
    body = encode_envelope(
        _placed(),
        event_id=uuid.uuid4(),
        source="orders",
        time=NOW,
        correlation_id="c",
        causation_id=None,
    )
    body["data"]["gift_wrap"] = True
    body["partitionkey"] = "x"
    raw = RawEnvelope.model_validate(body)
    assert OrderPlaced.model_validate(raw.data) == _placed()


def test_money_is_integer_minor_units_with_an_iso_currency():
    with pytest.raises(ValidationError):
        Money(amount_minor=19.99, currency="EUR")
    with pytest.raises(ValidationError):
        Money(amount_minor=1999, currency="euro")
    with pytest.raises(ValueError, match="cannot combine"):
        Money(amount_minor=1, currency="EUR") + Money(amount_minor=1, currency="USD")


def test_an_envelope_without_a_timezone_is_refused():
    body = encode_envelope(
        _placed(),
        event_id=uuid.uuid4(),
        source="orders",
        time=NOW,
        correlation_id="c",
        causation_id=None,
    )
    body["time"] = "2026-11-23T12:00:00"
    with pytest.raises(ValidationError):
        RawEnvelope.model_validate(body)


def test_the_fast_encoding_is_the_same_envelope():
    from contracts import envelope_json

    event_id = uuid.uuid4()
    fields = dict(
        event_id=event_id, source="orders", time=NOW, correlation_id="c", causation_id="x"
    )
    assert json.loads(envelope_json(_placed(), **fields)) == encode_envelope(_placed(), **fields)
