"""The domain's lifecycle functions up to the parcel's handover: accepting, declining and
cancelling, the ship-by deadline and its breach, and shipping: what each one changes on the
order besides its status, and the deadlines it sets."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from orders import domain
from orders.domain import Action, Actor, DomainError, Fulfilment, Status, TransitionRefused
from servicekit.domain.calendar import BusinessCalendar

from orders_test_helpers import (
    ACCEPTED_AT,
    AUTHORIZED_AT,
    CALENDAR,
    LATER,
    NEW_ADDRESS,
    RULES,
    SHIPPED_AT,
    carrier,
    order_in,
    placed,
    ship_it,
)

# --- accepting, declining, cancelling -------------------------------------------------------


# --- accepting, declining, cancelling -------------------------------------------------------


def test_a_decline_before_acceptance_declines_the_order():
    order = domain.decline(
        order_in(Status.AWAITING_SELLER), Actor.SELLER, "sold elsewhere", LATER
    ).order
    assert order.status is Status.DECLINED
    assert order.cancel_reason == "declined"
    assert order.timeline[-1].kind == "declined"
    assert "sold elsewhere" in order.timeline[-1].detail


def test_a_decline_after_acceptance_is_the_seller_backing_out_and_protects_the_buyer():
    order = domain.decline(order_in(Status.ACCEPTED), Actor.SELLER, "broke it", LATER).order
    assert order.status is Status.CANCELLED
    assert order.cancel_reason == "seller_backed_out"
    assert order.timeline[-1].kind == "seller_backed_out"
    assert "broke it" in order.timeline[-1].detail
    assert "alternative or your money back" in order.timeline[-1].detail


@pytest.mark.parametrize("status", [Status.PLACED, Status.SHIPPED, Status.DELIVERED])
def test_a_seller_cannot_decline_before_the_card_is_held_or_once_shipped(status):
    order = order_in(status)
    with pytest.raises(TransitionRefused) as refused:
        domain.decline(order, Actor.SELLER, "no", LATER)
    assert refused.value.allowed == order.allowed_actions(Actor.SELLER, LATER)


@pytest.mark.parametrize("status", [Status.PLACED, Status.AWAITING_SELLER, Status.ACCEPTED])
def test_the_buyer_cancels_any_time_before_shipment(status):
    order = domain.cancel(order_in(status), Actor.BUYER, "found it cheaper", LATER).order
    assert order.status is Status.CANCELLED
    assert order.cancel_reason == "buyer_cancelled"
    assert "found it cheaper" in order.timeline[-1].detail


def test_the_buyer_cannot_cancel_once_it_shipped_and_is_told_what_to_do_instead():
    with pytest.raises(TransitionRefused) as refused:
        domain.cancel(order_in(Status.SHIPPED), Actor.BUYER, "too late", LATER)
    assert refused.value.allowed == ["message", "report_problem"]


def test_an_unanswered_order_expires_and_says_the_authorization_is_released():
    order = domain.expire_acceptance(order_in(Status.AWAITING_SELLER), LATER).order
    assert order.status is Status.CANCELLED
    assert order.cancel_reason == "acceptance_window_missed"
    assert "authorization is released" in order.timeline[-1].detail


def test_an_accepted_order_does_not_expire():
    with pytest.raises(TransitionRefused):
        domain.expire_acceptance(order_in(Status.ACCEPTED), LATER)


def test_a_changed_address_is_kept_and_the_order_stays_where_it_was():
    order = domain.change_address(order_in(Status.ACCEPTED), Actor.BUYER, NEW_ADDRESS, LATER).order
    assert order.status is Status.ACCEPTED
    assert order.shipping_address == NEW_ADDRESS
    assert "Lyon" in order.timeline[-1].detail


# --- the ship-by deadline ---------------------------------------------------------------------


def test_acceptance_sets_ship_by_handling_days_business_days_later():
    order = domain.accept(
        order_in(Status.AWAITING_SELLER), Actor.SELLER, ACCEPTED_AT, CALENDAR
    ).order
    assert order.accepted_at == ACCEPTED_AT
    assert order.ship_by == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # Mon 13:00 + 2
    assert order.timeline[-1].detail.endswith("will ship it by 2026-11-25")


def test_ship_by_skips_the_weekend_and_holidays():
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    order = placed(handling_days=1)
    assert domain.ship_deadline(order, friday, CALENDAR) == datetime(
        2026, 11, 30, 16, 0, tzinfo=UTC
    )
    monday_off = BusinessCalendar([date(2026, 11, 30)])
    assert domain.ship_deadline(order, friday, monday_off) == datetime(
        2026, 12, 1, 16, 0, tzinfo=UTC
    )


def test_a_ticket_for_a_distant_event_has_the_usual_ship_by():
    order = placed(Fulfilment.TRANSFER, handling_days=2)  # the event is on 31 December
    assert domain.ship_deadline(order, ACCEPTED_AT, CALENDAR) == datetime(
        2026, 11, 25, 13, 0, tzinfo=UTC
    )


def test_a_ticket_must_be_transferred_by_the_day_before_its_event():
    order = replace(placed(Fulfilment.TRANSFER, handling_days=5), event_date=date(2026, 11, 26))
    # 5 business days would be Mon 30 Nov; the event is Thu 26: by Wed 25 instead.
    accepted = domain.accept(order_in_awaiting(order), Actor.SELLER, ACCEPTED_AT, CALENDAR).order
    assert accepted.ship_by == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    assert accepted.timeline[-1].detail.endswith("will transfer it by 2026-11-25")


@pytest.mark.parametrize("event_day", [date(2026, 11, 24), date(2026, 11, 23)])
def test_a_ticket_for_an_imminent_event_is_due_at_once_never_before_acceptance(event_day):
    order = replace(placed(Fulfilment.TRANSFER, handling_days=2), event_date=event_day)
    assert domain.ship_deadline(order, ACCEPTED_AT, CALENDAR) == ACCEPTED_AT


def order_in_awaiting(order):
    return domain.record_authorization(order, order.total, AUTHORIZED_AT).order


# --- shipping -----------------------------------------------------------------------------


@pytest.mark.parametrize("fulfilment", [Fulfilment.SELLER_SHIPS, Fulfilment.WAREHOUSE])
@pytest.mark.parametrize(
    ("carrier_name", "tracking", "reference"),
    [(None, "TRK-1", None), ("DHL", None, None), ("DHL", "TRK-1", "TIX-1"), (None, None, "TIX-1")],
)
def test_physical_goods_ship_only_with_a_carrier_and_a_tracking_number(
    fulfilment, carrier_name, tracking, reference
):
    order = order_in(Status.ACCEPTED, fulfilment)
    with pytest.raises(DomainError) as refused:
        domain.ship(
            order,
            Actor.SELLER,
            SHIPPED_AT,
            carrier=carrier_name,
            tracking_number=tracking,
            transfer_reference=reference,
        )
    assert refused.value.code == "tracking-required"


@pytest.mark.parametrize(
    ("carrier_name", "tracking", "reference"),
    [(None, None, None), ("DHL", "TRK-1", None), (None, "TRK-1", "TIX-1"), (None, None, "")],
)
def test_a_transfer_ships_only_with_its_transfer_reference(carrier_name, tracking, reference):
    order = order_in(Status.ACCEPTED, Fulfilment.TRANSFER)
    with pytest.raises(DomainError) as refused:
        domain.ship(
            order,
            Actor.SELLER,
            SHIPPED_AT,
            carrier=carrier_name,
            tracking_number=tracking,
            transfer_reference=reference,
        )
    assert refused.value.code == "transfer-reference-required"


def test_shipping_records_the_carrier_and_tracking_number():
    order = ship_it(order_in(Status.ACCEPTED))
    assert order.status is Status.SHIPPED
    assert (order.shipped_at, order.carrier, order.tracking_number) == (SHIPPED_AT, "DHL", "TRK-1")
    assert order.transfer_reference is None
    assert order.timeline[-1].detail == "Shipped with DHL, tracking TRK-1"


def test_a_transfer_records_its_reference():
    order = ship_it(order_in(Status.ACCEPTED, Fulfilment.TRANSFER))
    assert order.status is Status.SHIPPED
    assert (order.transfer_reference, order.tracking_number) == ("TIX-42", None)
    assert "TIX-42" in order.timeline[-1].detail


def test_a_replacement_ships_with_a_new_tracking_number_and_fresh_attempts():
    exchange = replace(order_in(Status.EXCHANGE_REQUESTED), delivery_attempts=2)
    order = domain.ship(
        exchange,
        Actor.SELLER,
        LATER,
        carrier="UPS",
        tracking_number="TRK-2",
        transfer_reference=None,
    ).order
    assert order.status is Status.SHIPPED
    assert (order.tracking_number, order.shipped_at, order.delivery_attempts) == ("TRK-2", LATER, 0)
    assert order.timeline[-1].detail == "Replacement shipped with UPS, tracking TRK-2"


# --- the ship-by breach -------------------------------------------------------------------


def test_an_overdue_shipment_is_flagged_once():
    accepted = order_in(Status.ACCEPTED)
    flagged = domain.flag_shipment_overdue(accepted, LATER).order
    assert (flagged.status, flagged.shipment_overdue) == (Status.ACCEPTED, True)
    assert flagged.timeline[-1].kind == "shipment_overdue"
    assert "specialist follows up" in flagged.timeline[-1].detail
    with pytest.raises(DomainError) as again:
        domain.flag_shipment_overdue(flagged, LATER + timedelta(hours=1))
    assert again.value.code == "not-overdue"


@pytest.mark.parametrize("status", [Status.AWAITING_SELLER, Status.SHIPPED, Status.CANCELLED])
def test_only_an_accepted_order_can_be_overdue(status):
    with pytest.raises(DomainError) as refused:
        domain.flag_shipment_overdue(order_in(status), LATER)
    assert refused.value.code == "not-overdue"


def test_an_overdue_order_can_still_ship():
    flagged = domain.flag_shipment_overdue(order_in(Status.ACCEPTED), LATER).order
    assert ship_it(flagged, LATER).status is Status.SHIPPED


def test_a_backdated_delivery_does_not_start_the_buyers_windows_before_the_shipment():
    shipped = order_in(Status.SHIPPED)
    early = shipped.shipped_at - timedelta(hours=6)  # a carrier clock behind ours
    delivered = carrier(shipped, Action.DELIVERED, early)
    assert delivered.delivered_at == early
    assert delivered.auto_complete_at == shipped.shipped_at + timedelta(
        days=RULES.confirmation_days
    )
    assert delivered.return_until == shipped.shipped_at + timedelta(days=RULES.return_days)
