"""Resale events (#20): what the organiser did is never held against the seller, what the
seller did is."""

from contracts.orders import OrderCancelled, OrderProblemReported
from seller_standards.domain.facts import first_word, folded, tells_about_facts

from standards_test_helpers import NOW, SELLER, fact


def reported(reason):
    return OrderProblemReported(
        **fact("ord_1", fulfilment="transfer"), reason=reason, details="At the door"
    )


def cancelled(reason):
    return OrderCancelled(
        order_id="ord_1",
        buyer_id="usr_buyer",
        seller_id=SELLER,
        reason=reason,
        cancelled_by="system",
        cancelled_at=NOW,
    )


def test_a_buyer_reporting_the_event_cancelled_is_no_defect_of_the_sellers():
    report = reported("event_cancelled")
    assert folded(first_word(report, NOW), report).defects == ()


def test_a_buyer_refused_entry_is_the_sellers_defect():
    report = reported("entry_denied")
    assert folded(first_word(report, NOW), report).defects == ("problem:entry_denied",)


def test_an_event_cancelled_by_the_operator_does_not_count_a_ticket_never_transferred_does():
    assert not tells_about_facts(cancelled("event_cancelled"))
    assert tells_about_facts(cancelled("transfer_not_made"))
    never = cancelled("transfer_not_made")
    assert folded(first_word(never, NOW), never).seller_cancelled
