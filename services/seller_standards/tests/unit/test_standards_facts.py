"""What each event changes in an order's facts, and what a standing decision publishes,
decided by the domain (no database): an order shipped is measured once, a message thread by
the buyer's first message and the seller's next reply, a ticket only when it reports a
defect; a decision that moves the standing is published, one that confirms it is not."""

from datetime import timedelta

from contracts import Money
from contracts.orders import OrderCancelled, OrderMessagePosted, OrderShipped
from contracts.seller_standards import SellerStandingChanged
from contracts.support import TicketOpened
from seller_standards.domain.facts import first_word, folded, tells_about_facts
from seller_standards.domain.standing import Change

from standards_test_helpers import NOW, SELLER, fact, shipping_history


def facts_after(events):
    facts = first_word(events[0], NOW)
    for event in events:
        facts = folded(facts, event)
    return facts


def ticket(reason, order_id="ord_1"):
    return TicketOpened(
        ticket_id="tkt_1",
        order_id=order_id,
        seller_id=SELLER,
        reason=reason,
        priority="high",
        title="?",
        opened_by="system",
        first_response_due=NOW,
        resolution_due=NOW,
        opened_at=NOW - timedelta(hours=1),
    )


def message(role, at):
    return OrderMessagePosted(
        **fact("ord_1", at),
        message_id=f"msg_{role}_{at:%H}",
        sender_id=f"usr_{role}",
        sender_role=role,
        body="hi",
    )


def test_an_order_is_measured_when_it_first_left_the_seller_not_for_a_replacement():
    history = shipping_history("ord_1", late=False)
    first = facts_after(history)
    replacement = history[-1].model_copy(
        update={"occurred_at": NOW + timedelta(days=9), "replacement": True}
    )

    assert folded(first, replacement) == first
    assert first.shipped_at == history[-1].occurred_at and first.has_tracking


def test_a_parcel_without_tracking_is_measured_as_untracked():
    untracked = OrderShipped(
        **fact("ord_1"), total=Money(amount_minor=5000, currency="EUR"), carrier="post"
    )

    assert not folded(first_word(untracked, NOW), untracked).has_tracking


def test_the_response_clock_runs_from_the_first_buyer_message_to_the_next_reply():
    thread = [
        message("buyer", NOW),
        message("buyer", NOW + timedelta(hours=1)),
        message("seller", NOW + timedelta(hours=2)),
        message("seller", NOW + timedelta(hours=3)),
    ]

    facts = facts_after(thread)

    assert facts.first_buyer_message_at == NOW
    assert facts.seller_replied_at == NOW + timedelta(hours=2)


def test_only_a_defect_ticket_on_an_order_tells_about_its_facts():
    assert tells_about_facts(ticket("not_received"))
    assert not tells_about_facts(ticket("customer_request"))
    assert not tells_about_facts(ticket("chargeback", order_id=None))


def test_a_defect_counts_once_and_the_first_word_of_an_order_can_be_a_ticket():
    opened = ticket("not_as_described")
    facts = first_word(opened, NOW)

    twice = folded(folded(facts, opened), opened)

    assert twice.defects == ("ticket:not_as_described",)
    assert facts.placed_at == opened.opened_at


def test_a_standing_that_moved_is_published_one_confirmed_is_only_history():
    moved = Change("at_risk", "good", "late")
    confirmed = Change("good", "good", "checked")

    [event] = moved.events(SELLER, NOW)

    assert isinstance(event, SellerStandingChanged)
    assert (event.standing, event.previous, event.changed_at) == ("at_risk", "good", NOW)
    assert confirmed.events(SELLER, NOW) == ()


def cancellation(reason: str, by: str) -> OrderCancelled:
    return OrderCancelled(
        order_id="ord_1",
        buyer_id="usr_buyer",
        seller_id=SELLER,
        reason=reason,
        cancelled_by=by,  # type: ignore[arg-type]
        cancelled_at=NOW,
    )


def test_a_deadline_the_seller_missed_counts_as_the_sellers_cancellation():
    for reason in ("acceptance_window_missed", "shipment_window_missed"):
        missed = cancellation(reason, "system")
        assert tells_about_facts(missed)
        assert folded(first_word(missed, NOW), missed).seller_cancelled, reason


def test_the_buyers_or_the_systems_own_cancellations_do_not_count():
    for reason, by in (
        ("changed my mind", "buyer"),
        ("acceptance_window_missed", "buyer"),  # a buyer's words are no deadline
        ("payment_not_completed", "system"),
        ("released_by_support", "system"),
    ):
        assert not tells_about_facts(cancellation(reason, by)), (reason, by)
