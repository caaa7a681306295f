"""Rebooking's money (#20), pure: the hold a backing-out seller leaves waits for support; the
replacement order takes it over (no new charge), the platform covers a dearer price and the
backing-out seller is charged for it at the capture; every entry balances."""

from dataclasses import replace

from payments import ledger
from payments.domain import PaymentState, capture, record_capture
from payments.domain.rebooking import (
    RebookCharge,
    fund_rebooking,
    keep_for_rebook,
    waits_for_rebook,
)

from payments_test_helpers import (
    BUYER_CREDIT,
    FEE_BPS,
    LATER,
    NOW,
    SELLER_PAYABLE,
    authorized,
    done,
    moved,
    new_payment,
    only_operation,
)

NEW_SELLER = "usr_new_seller"


def rebooked(first_total=5_000, new_total=6_000, credit=0, charge=None):
    charge = charge or RebookCharge()
    first = keep_for_rebook(authorized(first_total, credit=credit)).payment
    new = new_payment(new_total, seller_id=NEW_SELLER)
    return first, fund_rebooking(first, new, NOW, charge, 10_000)


def test_a_backing_out_sellers_hold_waits_for_support_and_only_an_authorized_one():
    assert waits_for_rebook(keep_for_rebook(authorized()).payment)
    assert not waits_for_rebook(keep_for_rebook(authorized(state=PaymentState.VOIDED)).payment)
    assert not waits_for_rebook(keep_for_rebook(authorized(ended=True)).payment)


def test_the_new_order_takes_over_the_first_hold_and_the_platform_covers_the_rest():
    first, (moved_first, funded) = rebooked()

    new = funded.payment
    assert (new.state, new.payment_intent_id, new.replaces) == (
        PaymentState.AUTHORIZED,
        "pi_1",
        first.order_id,
    )
    assert (new.card_minor, new.cover_minor, new.cover_charge_minor) == (5_000, 1_000, 1_000)
    assert funded.operations == ()  # nothing asked of Stripe: no second charge
    (authorized_event,) = funded.events
    assert authorized_event.amount.amount_minor == 5_000
    assert moved_first.payment.state is PaymentState.REBOOKED
    assert moved_first.payment.payment_intent_id is None and moved_first.payment.ended
    (first_entry,) = moved_first.entries
    (new_entry,) = funded.entries
    assert moved(first_entry) == {ledger.AUTHORIZATION_HOLD: -5_000, ledger.BUYER_CARD: 5_000}
    assert moved(new_entry) == {ledger.AUTHORIZATION_HOLD: 5_000, ledger.BUYER_CARD: -5_000}


def test_a_cheaper_listing_captures_less_and_the_first_orders_credit_moves_with_it():
    _, (_, funded) = rebooked(first_total=5_000, new_total=3_500, credit=1_000)

    new = funded.payment
    assert (new.credit_applied_minor, new.card_minor, new.cover_minor) == (1_000, 2_500, 0)
    assert only_operation(capture(new, LATER)).amount_minor == 2_500  # Stripe frees the rest
    assert moved(funded.entries[0])[BUYER_CREDIT] == -1_000


def test_at_the_capture_escrow_holds_the_new_price_and_the_backing_out_seller_pays_the_cover():
    first, (_, funded) = rebooked()
    new = funded.payment
    operation = done(only_operation(capture(new, LATER)), at=LATER)
    assert operation.amount_minor == 5_000  # what the buyer first authorized, no more

    decision = record_capture(new, operation, LATER, FEE_BPS)

    by_order: dict[str, list[ledger.Line]] = {}
    for entry in decision.entries:
        by_order.setdefault(entry.order_id, []).extend(entry.lines)
    assert ledger.balances(by_order[new.order_id]) == {
        ledger.AUTHORIZATION_HOLD: -5_000,
        ledger.ESCROW: 6_000,
        ledger.PLATFORM_REBOOKING_COVER: -1_000,
    }
    assert ledger.balances(by_order[first.order_id]) == {
        SELLER_PAYABLE: -1_000,
        ledger.PLATFORM_REBOOKING_COVER: 1_000,
    }


def test_the_sellers_charge_is_capped_and_can_be_turned_off():
    _, (_, capped) = rebooked(new_total=9_000, charge=RebookCharge(cap_bps=5_000))
    assert (capped.payment.cover_minor, capped.payment.cover_charge_minor) == (4_000, 2_500)
    _, (_, off) = rebooked(charge=RebookCharge(charge_seller=False))
    new = off.payment
    operation = done(only_operation(capture(new, LATER)), at=LATER)
    entries = record_capture(new, operation, LATER, FEE_BPS).entries
    assert {entry.order_id for entry in entries} == {new.order_id}
    assert replace(new, cover_charged_to=None) == new
