"""What each ticket change causes, decided by the domain (no database): opening publishes
`ticket_opened`, a repeat and each missed SLA target `ticket_escalated`, a resolution on an
order `ticket_resolved` (to the order's buyer when the ticket opened before the order was
seen); an agent's public reply `ticket_replied` (an internal note or a party's own message
nothing). And which events open a ticket by themselves."""

from datetime import UTC, date, datetime, timedelta

from contracts import Money
from contracts.orders import (
    OrderDelivered,
    OrderDeliveryFailed,
    OrderExchangeOverdue,
    OrderProblemReported,
    OrderReturned,
    OrderSellerBackedOut,
    OrderShipmentOverdue,
)
from contracts.seller_standards import SellerStandingChanged
from contracts.support import TicketEscalated, TicketOpened, TicketReplied, TicketResolved
from servicekit.domain.calendar import BusinessCalendar
from support.domain.tickets import (
    EXCERPT_LENGTH,
    SYSTEM,
    Ticket,
    breaches,
    escalate,
    open_ticket,
    post_message,
    repeat,
    resolve,
)
from support.domain.triggers import message_unanswered, ticket_asked_by

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, during business hours
ORDER = {"order_id": "ord_1", "buyer_id": "usr_buyer", "seller_id": "usr_seller"}


def order_fact(**extra):
    return {
        "order_id": "ord_1",
        "buyer_id": "usr_buyer",
        "seller_id": "usr_seller",
        "listing_id": "lst_1",
        "fulfilment": "seller_ships",
        "occurred_at": NOW,
    } | extra


def opened(order=ORDER, reason="not_received") -> Ticket:
    return open_ticket(
        "tkt_1",
        order=order,
        seller_id="usr_seller",
        reason=reason,
        opened_by=SYSTEM,
        now=NOW,
        calendar=BusinessCalendar(),
    )


def agent_resolves(ticket: Ticket, **extra) -> Ticket:
    return resolve(
        ticket,
        action="credit",
        amount=Money(amount_minor=500, currency="EUR"),
        note="Sorry",
        agent_id="usr_agent",
        role="agent",
        now=NOW,
        **extra,
    )


def test_opening_a_ticket_publishes_it_with_its_clocks():
    ticket = opened()

    [event] = ticket.events
    assert isinstance(event, TicketOpened)
    assert (event.ticket_id, event.order_id, event.reason) == ("tkt_1", "ord_1", "not_received")
    assert event.first_response_due == ticket.first_response_due


def test_a_repeat_publishes_an_escalation_at_the_raised_priority():
    again = repeat(opened(), {"attempt": 2}, NOW)

    [event] = again.events
    assert isinstance(event, TicketEscalated)
    assert (event.why, event.priority, event.escalated_at) == ("repeated", "urgent", NOW)


def test_each_missed_target_publishes_one_escalation():
    ticket = opened()
    late = NOW + timedelta(days=3)

    escalated = escalate(ticket, breaches(ticket, late), late)

    assert [event.why for event in escalated.events] == [
        "first_response_overdue",
        "resolution_overdue",
    ]


def test_an_agents_public_reply_is_published_for_the_parties_to_be_told():
    [event] = post_message(
        opened(), "usr_agent", "agent", internal=False, now=NOW, body="Where did it go?\n"
    ).events

    assert isinstance(event, TicketReplied)
    assert (event.ticket_id, event.order_id, event.buyer_id, event.seller_id) == (
        "tkt_1",
        "ord_1",
        "usr_buyer",
        "usr_seller",
    )
    assert (event.author_id, event.author_role, event.excerpt) == (
        "usr_agent",
        "agent",
        "Where did it go?",
    )
    assert (event.waiting_for, event.replied_at) == ("buyer", NOW)


def test_a_reply_on_a_ticket_about_a_seller_waits_for_the_seller_and_names_no_buyer():
    about_seller = opened(order=None, reason="seller_review")

    [event] = post_message(about_seller, "usr_agent", "agent", False, NOW, body="Hi").events

    assert (event.order_id, event.buyer_id, event.waiting_for) == (None, None, "seller")


def test_a_long_reply_goes_out_as_an_excerpt():
    body = "word " * 400

    [event] = post_message(opened(), "usr_agent", "agent", False, NOW, body=body).events

    assert len(event.excerpt) <= EXCERPT_LENGTH and event.excerpt.endswith("word\u2026")


def test_an_internal_note_or_a_partys_own_message_publishes_nothing():
    before = opened()  # carries its own ticket_opened
    noted = post_message(before, "usr_agent", "agent", internal=True, now=NOW, body="check")
    asked = post_message(before, "usr_buyer", "buyer", internal=False, now=NOW, body="any news?")
    answered = post_message(before, "usr_seller", "seller", internal=False, now=NOW, body="sent")

    assert noted.events == asked.events == answered.events == ()


def test_a_resolution_on_an_order_is_published_for_payments():
    [event] = agent_resolves(opened()).events

    assert isinstance(event, TicketResolved)
    assert (event.buyer_id, event.action, event.amount.amount_minor) == ("usr_buyer", "credit", 500)


def test_a_ticket_opened_before_its_order_was_seen_resolves_to_the_orders_buyer():
    early = opened(order={"order_id": "ord_1", "buyer_id": None})

    [event] = agent_resolves(early, buyer_of_order="usr_buyer").events

    assert event.buyer_id == "usr_buyer"


def test_a_resolution_about_a_seller_publishes_nothing():
    ticket = opened(order=None, reason="seller_review")

    done = resolve(
        ticket,
        action="no_action",
        amount=None,
        note="Fine",
        agent_id="usr_agent",
        role="agent",
        now=NOW,
    )

    assert done.events == ()


# --- which events open a ticket -----------------------------------------------------------


def test_a_delivery_failing_once_opens_nothing_twice_opens_a_ticket():
    assert ticket_asked_by(OrderDeliveryFailed(**order_fact(), attempts=1), NOW) is None
    asked = ticket_asked_by(OrderDeliveryFailed(**order_fact(), attempts=2), NOW)
    assert asked is not None and asked.reason == "delivery_failed"


def test_a_problem_reported_opens_a_ticket_for_its_reason():
    other = OrderProblemReported(**order_fact(), reason="other", details="?")
    damaged = OrderProblemReported(**order_fact(), reason="damaged", details="cracked")

    assert ticket_asked_by(other, NOW).reason == "problem_other"
    assert ticket_asked_by(damaged, NOW).reason == "damaged"


def test_a_refund_a_deadline_decided_is_recorded_on_a_ticket():
    total = Money(amount_minor=12500, currency="EUR")
    confirmed = OrderReturned(**order_fact(), total=total)
    unconfirmed = OrderReturned(
        **order_fact(), total=total, decided_by="system", reason="return_not_confirmed"
    )
    unshipped = OrderReturned(
        **order_fact(), total=total, decided_by="system", reason="replacement_not_shipped"
    )
    overdue = OrderExchangeOverdue(**order_fact(), ship_by=NOW, refund_at=NOW + timedelta(days=3))

    assert ticket_asked_by(confirmed, NOW) is None
    asked = ticket_asked_by(unconfirmed, NOW)
    assert (asked.reason, asked.title) == (
        "problem_other",
        "The seller did not confirm the return in time; the buyer was refunded",
    )
    # An exchange: the overdue replacement's ticket, and its refund counted on the same one.
    assert ticket_asked_by(overdue, NOW).reason == "shipment_overdue"
    assert ticket_asked_by(unshipped, NOW).reason == "shipment_overdue"


def test_an_overdue_shipment_carries_the_event_as_the_tickets_context():
    asked = ticket_asked_by(
        OrderShipmentOverdue(**order_fact(), ship_by=NOW, accepted_at=NOW - timedelta(days=3)), NOW
    )

    assert (asked.order_id, asked.seller_id, asked.reason) == (
        "ord_1",
        "usr_seller",
        "shipment_overdue",
    )
    assert asked.context["order_id"] == "ord_1"


def test_a_seller_backing_out_of_an_event_must_be_answered_a_day_before_it():
    event_day = date(2026, 11, 28)
    backed_out = OrderSellerBackedOut(
        **order_fact(fulfilment="transfer"), reason="lost", event_date=str(event_day)
    )

    asked = ticket_asked_by(backed_out, NOW)

    assert asked.respond_before == datetime(2026, 11, 27, tzinfo=UTC)


def test_only_a_seller_put_under_review_gets_a_ticket():
    def changed(standing):
        return SellerStandingChanged(
            seller_id="usr_seller",
            standing=standing,
            previous="at_risk",
            reason="late",
            changed_at=NOW,
        )

    assert ticket_asked_by(changed("suspended"), NOW) is None
    asked = ticket_asked_by(changed("under_review"), NOW)
    assert (asked.order_id, asked.reason) == (None, "seller_review")


def test_an_event_that_asks_for_nothing_opens_nothing():
    delivered = OrderDelivered(
        **order_fact(),
        auto_complete_at=NOW + timedelta(days=3),
        return_until=NOW + timedelta(days=14),
    )
    assert ticket_asked_by(delivered, NOW) is None


def test_an_unanswered_message_names_the_message_and_since_when_it_waits():
    asked = message_unanswered("ord_1", "usr_seller", "msg_1", NOW)
    assert asked.reason == "message_unanswered"
    assert asked.context == {"message_id": "msg_1", "since": NOW.isoformat()}
