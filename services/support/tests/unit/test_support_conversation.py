"""Support's pure rules for the conversation on a ticket: who may write on it and whose move it
is afterwards, how a resolution is checked, and who sees a ticket. No database."""

from datetime import timedelta

import pytest

from support.domain.closing import close_if_quiet
from support.domain.errors import InvalidResolution, NotAllowed, Refused
from support.domain.tickets import (
    Resolution,
    Status,
    escalate,
    post_message,
    resolve,
)

from support_test_helpers import (
    AGENT,
    BUYER,
    OTHER_BUYER,
    SELLER,
    TUESDAY_10AM,
    at,
    eur,
    resolved,
    seller_ticket,
    ticket,
)

# --- Messages ------------------------------------------------------------------------------


@pytest.mark.parametrize(("author", "role"), [(BUYER, "buyer"), (SELLER, "seller")])
def test_the_buyer_and_seller_of_the_order_may_write(author, role):
    t = ticket()

    after = post_message(t, author, role, internal=False, now=at(24, 11))

    assert after.status is Status.OPEN
    assert after.first_responded_at is None  # only an agent's answer counts


def test_a_buyer_who_is_not_on_the_order_may_not_write():
    with pytest.raises(NotAllowed):
        post_message(ticket(), OTHER_BUYER, "buyer", internal=False, now=at(24, 11))


@pytest.mark.parametrize(("author", "role"), [("usr_ops", "operator"), ("car_dhl", "carrier")])
def test_operators_and_carriers_may_not_write(author, role):
    with pytest.raises(NotAllowed):
        post_message(ticket(), author, role, internal=False, now=at(24, 11))


@pytest.mark.parametrize(("author", "role"), [(BUYER, "buyer"), (SELLER, "seller")])
def test_only_agents_may_write_internal_notes(author, role):
    with pytest.raises(NotAllowed):
        post_message(ticket(), author, role, internal=True, now=at(24, 11))


@pytest.mark.parametrize("reason", ["shipment_overdue", "message_unanswered", "seller_review"])
def test_an_agent_reply_on_a_seller_directed_ticket_waits_for_the_seller(reason):
    t = ticket(reason)

    answered = post_message(t, AGENT, "agent", internal=False, now=at(24, 11))

    assert answered.status is Status.PENDING_SELLER
    assert answered.first_responded_at == at(24, 11)


@pytest.mark.parametrize(
    "reason", ["not_received", "damaged", "delivery_failed", "chargeback", "customer_request"]
)
def test_an_agent_reply_on_any_other_ticket_waits_for_the_buyer(reason):
    t = ticket(reason)

    answered = post_message(t, AGENT, "agent", internal=False, now=at(24, 11))

    assert answered.status is Status.PENDING_BUYER
    assert answered.first_responded_at == at(24, 11)


@pytest.mark.parametrize(("reason", "to"), [("damaged", "seller"), ("shipment_overdue", "buyer")])
def test_an_agent_reply_to_one_party_waits_for_that_party_and_says_so(reason, to):
    answered = post_message(ticket(reason), AGENT, "agent", internal=False, now=at(24, 11), to=to)

    assert answered.status is (Status.PENDING_SELLER if to == "seller" else Status.PENDING_BUYER)
    [replied] = answered.events
    assert (replied.to, replied.waiting_for) == (to, to)


@pytest.mark.parametrize(
    ("author", "role", "internal"), [(BUYER, "buyer", False), (AGENT, "agent", True)]
)
def test_only_an_agents_public_reply_is_addressed_to_one_party(author, role, internal):
    with pytest.raises(NotAllowed):
        post_message(ticket(), author, role, internal=internal, now=at(24, 11), to="seller")


def test_a_ticket_about_a_seller_has_no_buyer_to_reply_to():
    with pytest.raises(Refused):
        post_message(seller_ticket(), AGENT, "agent", internal=False, now=at(24, 11), to="buyer")


def test_a_later_agent_reply_keeps_the_time_of_the_first_response():
    t = post_message(ticket(), AGENT, "agent", internal=False, now=at(24, 11))

    later = post_message(t, AGENT, "agent", internal=False, now=at(25, 15))

    assert later.first_responded_at == at(24, 11)


def test_an_internal_note_changes_neither_the_status_nor_the_first_response():
    t = ticket()

    noted = post_message(t, AGENT, "agent", internal=True, now=at(24, 11))

    assert noted.status is Status.OPEN
    assert noted.first_responded_at is None


@pytest.mark.parametrize(("author", "role"), [(BUYER, "buyer"), (SELLER, "seller")])
def test_a_reply_from_the_buyer_or_seller_puts_the_ticket_back_in_the_queue(author, role):
    waiting = post_message(ticket(), AGENT, "agent", internal=False, now=at(24, 11))
    assert waiting.status is Status.PENDING_BUYER

    replied = post_message(waiting, author, role, internal=False, now=at(24, 12))

    assert replied.status is Status.OPEN
    assert replied.first_responded_at == at(24, 11)


def test_a_buyer_reply_leaves_an_escalated_ticket_escalated():
    escalated = escalate(ticket(), ["first_response_overdue"], TUESDAY_10AM)

    replied = post_message(escalated, BUYER, "buyer", internal=False, now=at(24, 15))

    assert replied.status is Status.ESCALATED


@pytest.mark.parametrize("internal", [False, True])
def test_a_resolved_ticket_refuses_agents_messages(internal):
    with pytest.raises(Refused):
        post_message(resolved(ticket()), AGENT, "agent", internal=internal, now=at(25, 10))


@pytest.mark.parametrize(("author", "role"), [(BUYER, "buyer"), (SELLER, "seller")])
def test_a_partys_message_reopens_a_resolved_ticket(author, role):
    reopened = post_message(resolved(ticket()), author, role, internal=False, now=at(25, 10))

    assert reopened.status is Status.OPEN
    assert reopened.events == ()


@pytest.mark.parametrize(
    ("author", "role", "internal"),
    [(BUYER, "buyer", False), (SELLER, "seller", False), (AGENT, "agent", True)],
)
def test_a_closed_ticket_refuses_messages(author, role, internal):
    closed = close_if_quiet(resolved(ticket()), at(25, 10) + timedelta(days=3), timedelta(days=3))
    assert closed is not None and closed.status is Status.CLOSED

    with pytest.raises(Refused):
        post_message(closed, author, role, internal=internal, now=at(29, 10))


def test_a_resolved_ticket_closes_only_after_the_quiet_period():
    done = resolved(ticket())
    resolved_at = done.resolution.resolved_at

    assert (
        close_if_quiet(done, resolved_at + timedelta(days=3, seconds=-1), timedelta(days=3)) is None
    )
    assert close_if_quiet(ticket(), resolved_at + timedelta(days=30), timedelta(days=3)) is None
    assert close_if_quiet(done, resolved_at + timedelta(days=3), timedelta(days=3)) is not None


def test_the_seller_may_write_on_a_ticket_about_them_but_no_buyer_may():
    t = seller_ticket()

    assert post_message(t, SELLER, "seller", internal=False, now=at(24, 11)).is_open
    with pytest.raises(NotAllowed):
        post_message(t, BUYER, "buyer", internal=False, now=at(24, 11))


# --- Resolution ----------------------------------------------------------------------------


def test_an_agent_resolves_a_ticket_and_the_resolution_is_recorded():
    now = at(24, 12)

    done = resolve(
        ticket(),
        action="partial_refund",
        amount=eur(1500),
        note="Refunding the shipping",
        agent_id=AGENT,
        role="agent",
        now=now,
    )

    assert done.status is Status.RESOLVED
    assert not done.is_open
    assert done.resolution == Resolution(
        action="partial_refund",
        note="Refunding the shipping",
        resolved_by=AGENT,
        resolved_at=now,
        amount=eur(1500),
    )


def test_resolving_an_unanswered_ticket_counts_as_its_first_response():
    done = resolved(ticket())

    assert done.first_responded_at == TUESDAY_10AM + timedelta(hours=2)


def test_resolving_keeps_an_earlier_first_response():
    answered = post_message(ticket(), AGENT, "agent", internal=False, now=at(24, 11))

    assert resolved(answered).first_responded_at == at(24, 11)


@pytest.mark.parametrize("role", ["buyer", "seller", "operator"])
def test_only_agents_resolve_tickets(role):
    with pytest.raises(NotAllowed):
        resolve(
            ticket(),
            action="no_action",
            amount=None,
            note="",
            agent_id=BUYER,
            role=role,
            now=at(24, 12),
        )


def test_a_resolved_ticket_cannot_be_resolved_again():
    with pytest.raises(Refused):
        resolved(resolved(ticket()), action="no_action")


def test_an_escalated_ticket_can_still_be_resolved():
    escalated = escalate(ticket(), ["first_response_overdue"], TUESDAY_10AM)

    assert resolved(escalated).status is Status.RESOLVED


@pytest.mark.parametrize("action", ["partial_refund", "credit"])
def test_a_partial_refund_or_credit_needs_an_amount(action):
    with pytest.raises(InvalidResolution, match="needs an amount"):
        resolved(ticket(), action=action, amount=None)


def test_a_refund_without_an_amount_is_a_full_refund_and_is_fine():
    done = resolved(ticket(), action="refund", amount=None)

    assert done.resolution is not None
    assert done.resolution.action == "refund"
    assert done.resolution.amount is None


@pytest.mark.parametrize("action", ["refund", "partial_refund", "credit"])
def test_money_moves_only_on_a_ticket_about_an_order(action):
    with pytest.raises(InvalidResolution, match="order"):
        resolved(seller_ticket(), action=action, amount=eur(500))


def test_a_refund_on_a_seller_ticket_is_refused_even_without_an_amount():
    with pytest.raises(InvalidResolution):
        resolved(seller_ticket(), action="refund", amount=None)


@pytest.mark.parametrize("action", ["rebook", "reship", "return", "no_action"])
def test_an_action_that_moves_no_money_takes_no_amount(action):
    with pytest.raises(InvalidResolution, match="moves no money"):
        resolved(ticket(), action=action, amount=eur(500), note="Offered the 19:30 show")


@pytest.mark.parametrize("note", ["", "   \n"])
def test_a_rebooking_must_name_the_alternative_in_the_note(note):
    with pytest.raises(InvalidResolution, match="alternative"):
        resolved(ticket(), action="rebook", note=note)


def test_a_rebooking_with_the_alternative_named_is_fine():
    done = resolved(ticket(), action="rebook", note="Moved to the Saturday 19:30 show")

    assert done.resolution is not None
    assert done.resolution.action == "rebook"


@pytest.mark.parametrize("action", ["reship", "return", "no_action"])
def test_actions_that_move_no_money_resolve_a_ticket_about_a_seller(action):
    assert resolved(seller_ticket(), action=action, note="").status is Status.RESOLVED


# --- Visibility ----------------------------------------------------------------------------


def test_the_buyer_and_seller_are_parties_to_the_ticket_and_others_are_not():
    t = ticket()

    assert t.party(BUYER)
    assert t.party(SELLER)
    assert not t.party(OTHER_BUYER)
    assert not t.party(AGENT)


@pytest.mark.parametrize(
    ("principal", "role", "visible"),
    [
        (BUYER, "buyer", True),
        (SELLER, "seller", True),
        (AGENT, "agent", True),
        ("usr_ops", "operator", True),
        (OTHER_BUYER, "buyer", False),
        ("usr_other_seller", "seller", False),
        ("car_dhl", "carrier", False),
    ],
)
def test_who_sees_a_ticket(principal, role, visible):
    assert ticket().visible_to(principal, role) is visible


def test_a_ticket_about_a_seller_is_seen_by_the_seller_and_staff_only():
    t = seller_ticket()

    assert t.visible_to(SELLER, "seller")
    assert t.visible_to(AGENT, "agent")
    assert t.visible_to("usr_ops", "operator")
    assert not t.visible_to(BUYER, "buyer")
    assert not t.party(BUYER)
