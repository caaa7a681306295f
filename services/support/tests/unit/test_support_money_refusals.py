"""Money that did not reach its end (#18), as support takes it up: a refund Stripe refused
opens an urgent ticket for an agent, naming the ticket that decided it and Stripe's reason;
a chargeback from a stolen card opens its ticket marked `fault: fraud`, which seller
standards does not count against the seller."""

from datetime import UTC, datetime

from contracts import Money
from contracts.payments import PaymentDisputeOpened, PaymentRefundFailed, PayoutAccountOverdue
from servicekit.domain.calendar import BusinessCalendar
from support.domain.tickets import SYSTEM, open_ticket
from support.domain.triggers import ticket_asked_by

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ORDER = {"order_id": "ord_1", "buyer_id": "usr_buyer", "seller_id": "usr_seller"}
PARTIES = {"order_id": "ord_1", "buyer_id": "usr_buyer", "seller_id": "usr_seller"}


def opened_by(event):
    asked = ticket_asked_by(event, NOW)
    assert asked is not None
    ticket = open_ticket(
        "tkt_new",
        order=ORDER,
        seller_id=asked.seller_id,
        reason=asked.reason,
        opened_by=SYSTEM,
        now=NOW,
        calendar=BusinessCalendar(),
        context=asked.context,
    )
    [told] = ticket.events
    return ticket, told


def test_a_refund_stripe_refused_opens_an_urgent_ticket_with_the_reason():
    refused = PaymentRefundFailed(
        **PARTIES,
        amount=Money(amount_minor=5000, currency="EUR"),
        reason="Support ticket tkt_decided: damaged",
        failure="Charge ch_1 has already been refunded.",
        ticket_id="tkt_decided",
        failed_at=NOW,
    )

    ticket, told = opened_by(refused)

    assert (ticket.reason, ticket.priority) == ("refund_failed", "urgent")
    assert "refused" in ticket.title
    assert ticket.context["ticket_id"] == "tkt_decided"
    assert ticket.context["failure"] == "Charge ch_1 has already been refunded."
    assert (told.reason, told.priority) == ("refund_failed", "urgent")


def dispute(reason: str, fault=None) -> PaymentDisputeOpened:
    return PaymentDisputeOpened(
        **PARTIES,
        dispute_id="dp_1",
        amount=Money(amount_minor=5000, currency="EUR"),
        reason=reason,
        opened_at=NOW,
        fault=fault,
    )


def test_a_stolen_cards_chargeback_opens_its_ticket_marked_fraud():
    ticket, told = opened_by(dispute("fraudulent", "fraud"))
    assert (ticket.reason, told.fault) == ("chargeback", "fraud")


def test_any_other_chargeback_names_no_fault():
    _, told = opened_by(dispute("product_not_received"))
    assert told.fault is None


def test_money_waiting_long_for_a_payout_account_opens_a_ticket_about_the_seller():
    waiting = PayoutAccountOverdue(
        seller_id="usr_seller",
        available=Money(amount_minor=9500, currency="EUR"),
        waiting_since=NOW,
        noticed_at=NOW,
    )

    asked = ticket_asked_by(waiting, NOW)

    assert asked is not None
    assert (asked.order_id, asked.seller_id, asked.reason) == (None, "usr_seller", "seller_review")
    assert asked.title == "Payouts waiting since 2026-11-24: no active payout account"
