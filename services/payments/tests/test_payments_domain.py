"""Payments' pure rules: what a card authorization result does to a payment."""

from datetime import timedelta

import pytest

from contracts import Money
from payments import domain
from payments.domain import AuthorizationOutcome, Payment, PaymentState

from payments_test_helpers import NOW

HOLD = timedelta(days=7)
LATER = NOW + timedelta(seconds=3)


def payment(**overrides):
    values = {
        "order_id": "ord_1",
        "buyer_id": "usr_buyer",
        "seller_id": "usr_seller",
        "amount": Money(amount_minor=8400, currency="EUR"),
        "payment_method": "pm_card_visa",
        "state": PaymentState.AUTHORIZING,
        "created_at": NOW,
        "correlation_id": "corr-1",
    }
    values.update(overrides)
    return Payment(**values)


def test_an_approved_authorization_holds_the_card_until_authorized_at_plus_the_hold():
    result = domain.record_outcome(
        payment(), AuthorizationOutcome(approved=True, payment_intent_id="pi_1"), LATER, HOLD
    )
    assert result.state is PaymentState.AUTHORIZED
    assert result.payment_intent_id == "pi_1"
    assert result.authorized_at == LATER
    assert result.expires_at == LATER + HOLD
    assert result.failure_reason is None


def test_a_declined_authorization_fails_with_the_reason_and_decline_code():
    outcome = AuthorizationOutcome(
        approved=False,
        payment_intent_id="pi_2",
        reason="Your card was declined.",
        decline_code="card_declined",
    )
    result = domain.record_outcome(payment(), outcome, LATER, HOLD)
    assert result.state is PaymentState.FAILED
    assert (result.failure_reason, result.decline_code) == (
        "Your card was declined.",
        "card_declined",
    )
    assert result.payment_intent_id == "pi_2"
    assert (result.authorized_at, result.expires_at) == (None, None)


def test_a_decline_without_a_reason_still_says_declined():
    result = domain.record_outcome(
        payment(), AuthorizationOutcome(approved=False, payment_intent_id=None), LATER, HOLD
    )
    assert result.failure_reason == "declined"


@pytest.mark.parametrize("state", [PaymentState.AUTHORIZED, PaymentState.FAILED])
def test_an_outcome_is_never_recorded_twice(state):
    with pytest.raises(ValueError, match=state.value):
        domain.record_outcome(
            payment(state=state),
            AuthorizationOutcome(approved=True, payment_intent_id="pi_3"),
            LATER,
            HOLD,
        )


def test_starting_an_authorization_is_remembered_once():
    started = domain.start_authorization(payment(), NOW)
    assert started.authorize_started_at == NOW
    assert domain.start_authorization(started, LATER).authorize_started_at == NOW


def test_the_stripe_idempotency_key_is_derived_from_the_order():
    assert payment(order_id="ord_42").idempotency_key == "order:ord_42:authorize"


def test_a_payment_is_visible_to_its_parties_and_staff_only():
    p = payment()
    assert p.visible_to("usr_buyer", "buyer")
    assert p.visible_to("usr_seller", "seller")
    assert p.visible_to("usr_anyone", "agent")
    assert p.visible_to("usr_anyone", "operator")
    assert not p.visible_to("usr_other", "buyer")
