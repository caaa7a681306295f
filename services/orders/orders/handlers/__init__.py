"""Orders' use cases: `commands` (what people do), `listings` (what sellers offer), `events`
(what other services tell us) and `deadlines` (what the clock decides). Each reads what it
needs in a unit of work, lets the domain decide, and keeps the outcome: the state and the
events it causes, written to the outbox together."""

from orders.handlers.commands import (
    accept,
    cancel,
    carrier_event,
    carrier_requests,
    change_address,
    confirm_receipt,
    confirm_return,
    decline,
    messages,
    place_order,
    post_message,
    redeliver,
    report_problem,
    request_exchange,
    request_return,
    review,
    ship,
)
from orders.handlers.context import OrdersContext, Who, keep, new_id
from orders.handlers.deadlines import (
    act_on_deadlines,
    complete_unconfirmed,
    expire_acceptances,
    flag_overdue_shipments,
    timer_jobs,
)
from orders.handlers.events import (
    event_router,
    on_payment_fact,
    on_standing_changed,
    on_ticket_escalated,
    on_ticket_opened,
    on_ticket_resolved,
)
from orders.handlers.listings import create_listing, set_vacation, update_listing
from orders.handlers.resale_events import (
    cancel_event,
    create_event,
    event_with_listings,
    postpone_event,
)

__all__ = [
    "OrdersContext",
    "Who",
    "accept",
    "act_on_deadlines",
    "cancel",
    "cancel_event",
    "carrier_event",
    "carrier_requests",
    "change_address",
    "complete_unconfirmed",
    "confirm_receipt",
    "confirm_return",
    "create_event",
    "create_listing",
    "decline",
    "event_router",
    "event_with_listings",
    "expire_acceptances",
    "flag_overdue_shipments",
    "keep",
    "messages",
    "new_id",
    "on_payment_fact",
    "on_standing_changed",
    "on_ticket_escalated",
    "on_ticket_opened",
    "on_ticket_resolved",
    "place_order",
    "post_message",
    "postpone_event",
    "redeliver",
    "report_problem",
    "request_exchange",
    "request_return",
    "review",
    "set_vacation",
    "ship",
    "timer_jobs",
    "update_listing",
]
