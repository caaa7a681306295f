"""A resolved ticket left quiet closes by itself and says so (`support.ticket_closed`), so that
the order's view shows it closed rather than resolved for ever. No database."""

from datetime import timedelta

from contracts.support import TicketClosed
from support.domain.closing import close_if_quiet
from support.domain.tickets import Status

from support_test_helpers import ORDER, SELLER, resolved, seller_ticket, ticket

QUIET = timedelta(days=3)


def test_a_ticket_that_closes_tells_orders_which_ticket_and_when():
    done = resolved(ticket("damaged"))
    resolved_at = done.resolution.resolved_at

    closed = close_if_quiet(done, resolved_at + QUIET, QUIET)

    assert closed is not None and closed.status is Status.CLOSED
    (event,) = closed.events
    assert isinstance(event, TicketClosed)
    assert (event.ticket_id, event.order_id, event.buyer_id, event.seller_id) == (
        done.id,
        ORDER["order_id"],
        ORDER["buyer_id"],
        SELLER,
    )
    assert (event.reason, event.resolved_at, event.closed_at) == (
        "damaged",
        resolved_at,
        resolved_at + QUIET,
    )
    assert event.subject() == ORDER["order_id"]


def test_a_ticket_about_a_seller_closes_keyed_by_the_seller():
    done = resolved(seller_ticket(), action="no_action", note="Reviewed")
    closed = close_if_quiet(done, done.resolution.resolved_at + QUIET, QUIET)

    assert closed is not None
    (event,) = closed.events
    assert (event.order_id, event.subject()) == (None, SELLER)
