"""The model the property "no order waits for ever" walks
(tests/unit/test_orders_no_order_waits_for_ever.py): which statuses wait, derived from the
state machine, and `Marketplace`, orders' pure domain kept the way the handlers keep it, with
the steps (commands, payments' answers and support's events, carriers' reports) it can take;
payments beside it is orders_payments_model_test_helpers.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.orders import OrderProblemReported, OrderReturnedToSender
from orders import domain
from orders.domain import (
    TRANSITIONS,
    Action,
    Actor,
    DomainError,
    Fulfilment,
    Order,
    Outcome,
    Status,
    TransitionRefused,
)

from orders_payments_model_test_helpers import Payments, unsettled
from orders_test_helpers import (
    ADDRESS,
    CALENDAR,
    NOW,
    RULES,
    listing,
    ticket_listing,
)

# --- which statuses wait, derived from the state machine ---------------------------------------


def _ways_on(status: Status) -> dict[Action, frozenset[Actor]]:
    """The actions that move an order out of `status`, and who takes them."""
    return {
        action: transition.actors
        for (source, action), transition in TRANSITIONS.items()
        if source is status and transition.to not in (None, status)
    }


# Over: the table has no way on.
ENDED = frozenset(status for status in Status if not _ways_on(status))
# At rest: nobody owes anything. Once completed, only the buyer's return (within the return
# window: "the buyer's option, not a deadline") or support's decision moves it; once
# returned, only payments' full refund, which answers the OrderReturned its entry published.
AT_REST = frozenset({Status.COMPLETED, Status.RETURNED})
# Support's: "none here: the ticket's SLA (support escalates)"; the event that moved the order
# in opens support's ticket, so the order must have entered with it.
TICKET_OPENED_BY = {
    Status.RETURNED_TO_SENDER: OrderReturnedToSender,
    Status.DISPUTED: OrderProblemReported,
}
WAITING = frozenset(Status) - ENDED - AT_REST - frozenset(TICKET_OPENED_BY)


LISTINGS = {
    "goods": listing(id="lst_goods", quantity_available=10_000, handling_days=2),
    "warehouse": listing(
        id="lst_wh", quantity_available=10_000, fulfilment=Fulfilment.WAREHOUSE, handling_days=1
    ),
    "ticket_soon": ticket_listing(
        (NOW + timedelta(days=4)).date(), id="lst_t1", quantity_available=10_000
    ),
    "ticket_later": ticket_listing(
        (NOW + timedelta(days=40)).date(), id="lst_t2", quantity_available=10_000, handling_days=5
    ),
}
MINUTE = timedelta(minutes=1)
CLOCK_MOVES = [
    MINUTE,
    30 * MINUTE,
    59 * MINUTE,
    61 * MINUTE,
    timedelta(hours=5),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=3),
    timedelta(days=4),
    timedelta(days=7),
    timedelta(days=14),
    timedelta(days=21),
]
FIRINGS_PER_TICK = 10  # more on one order at one moment: its deadline keeps falling due


# Every status some walk's order entered, over all the walks (the property's test asserts
# that the walks reach the statuses whose deadlines it is about).
REACHED: set[Status] = set()


class Marketplace:
    """Orders in memory, each change kept as `handlers.context.keep` keeps it, and payments
    beside them answering orders' events (orders_payments_model_test_helpers)."""

    def __init__(self) -> None:
        self.now = NOW
        self.orders: dict[str, Order] = {}
        self.entered_with: dict[str, tuple[object, ...]] = {}  # the events of the last move
        self.parcels = 0
        self.payments = Payments()

    def keep(self, before: Order, outcome: Outcome) -> None:
        outcome = domain.scheduled(before, outcome, self.now, RULES, CALENDAR)
        if outcome.order.status is not before.status:
            self.entered_with[before.id] = outcome.events
            REACHED.add(outcome.order.status)
        self.orders[before.id] = outcome.order
        self.payments.heard(outcome.order, outcome.events)

    def payments_answer(self, order_id: str) -> None:
        """Orders consumes payments' next answer about the order (`events.on_payment_fact`)."""
        answer = self.payments.next_answer(order_id)
        if answer is not None:
            self.event(order_id, answer)

    def place(self, kind: str) -> None:
        the_listing = LISTINGS[kind]
        try:
            placed = domain.place_order(
                order_id=f"ord_{len(self.orders)}",
                listing=the_listing,
                buyer_id="usr_buyer",
                quantity=1,
                shipping_address=None if the_listing.fulfilment is Fulfilment.TRANSFER else ADDRESS,
                payment_method="pm_card_visa",
                now=self.now,
                calendar=CALENDAR,
                rules=RULES,
            )
        except DomainError:
            return  # a ticket whose event has passed
        self.orders[placed.order.id] = placed.order
        self.entered_with[placed.order.id] = placed.events
        REACHED.add(placed.order.status)
        self.payments.heard(placed.order, placed.events)

    def command(self, order_id: str, decide) -> None:
        """A party's command (`commands._act`): refused, it changes nothing."""
        order = self.orders[order_id]
        try:
            outcome = decide(order, self.now)
        except DomainError:
            return
        self.keep(order, outcome)

    def event(self, order_id: str, decide) -> None:
        """Another service's event (`events._on_order`): one that no longer fits is ignored."""
        order = self.orders[order_id]
        try:
            outcome = decide(order, self.now)
        except TransitionRefused:
            return
        if outcome.order is order and not outcome.events:
            return
        self.keep(order, outcome)

    def ship(self, order_id: str) -> None:
        order = self.orders[order_id]
        self.parcels += 1
        if order.fulfilment is Fulfilment.TRANSFER:
            shipment = {"carrier": None, "tracking_number": None, "transfer_reference": "TIX-1"}
            actor = Actor.SELLER
        else:  # a 3PL ships warehouse orders under its own carrier
            actor = Actor.CARRIER if order.fulfilment is Fulfilment.WAREHOUSE else Actor.SELLER
            shipment = {
                "carrier": domain.shipment_carrier(actor, "DHL", "DHL"),
                "tracking_number": f"TRK-{self.parcels}",
                "transfer_reference": None,
            }
        try:
            shipped = domain.ship(
                order, actor, self.now, **shipment, confirmation_days=RULES.confirmation_days
            )
            domain.check_tracking_number_free(
                shipped.order,
                shipment["carrier"],
                shipment["tracking_number"],
                self.orders.values(),
            )
        except DomainError:
            return
        self.keep(order, shipped)

    def carrier_report(self, order_id: str, status: str, back: timedelta) -> None:
        """A scan of the order's current parcel (`commands.carrier_event`), dated `back` ago."""
        tracked = self.orders[order_id]
        if tracked.carrier is None or tracked.tracking_number is None:
            return  # no parcel: nothing a carrier could report
        action, occurred_at = domain.CARRIER_ACTIONS[status], self.now - back
        try:
            domain.check_report_time(occurred_at, self.now)
        except DomainError:
            return
        key = domain.carrier_key(tracked.carrier)
        candidates = sorted(
            (
                order
                for order in self.orders.values()
                if order.carrier is not None
                and domain.carrier_key(order.carrier) == key
                and order.tracking_number == tracked.tracking_number
            ),
            key=lambda order: order.shipped_at or NOW,
            reverse=True,
        )
        found = domain.parcel_order(candidates, occurred_at)
        if found is None or domain.already_reported(found, action, occurred_at):
            return  # 404 (dated before the shipment), or a repeat
        try:
            updated = domain.carrier_update(found, action, occurred_at, RULES)
        except DomainError:
            return
        self.keep(found, updated)

    def tick(self) -> None:
        """The timer job at `now` (`handlers.deadlines._fire`), run until nothing is due. A
        due order the domain refuses to act on would be skipped by every tick: it fails here."""
        firings: dict[str, int] = {}
        while due := self._due():
            for order in due:
                firings[order.id] = firings.get(order.id, 0) + 1
                assert firings[order.id] <= FIRINGS_PER_TICK, (
                    f"{order.id} ({order.status}) falls due again and again at {self.now}: "
                    f"act_by {order.act_by}"
                )
                try:
                    outcome = domain.act_on_deadline(order, self.now, RULES, CALENDAR)
                except DomainError as error:
                    pytest.fail(
                        f"{order.id} is {order.status.value}, due since {order.act_by}, and its "
                        f"deadline is refused ({error.code}): the job skips it on every tick"
                    )
                self.keep(order, outcome)

    def advance(self, by: timedelta, punctual: bool) -> None:
        target = self.now + by
        while punctual and (due := [o.act_by for o in self.orders.values() if o.act_by]):
            moment = min(due)
            if moment > target:
                break
            self.now = max(self.now, moment)
            self.tick()
        self.now = target
        self.tick()

    def _due(self) -> list[Order]:
        due = [o for o in self.orders.values() if o.act_by is not None and o.act_by <= self.now]
        return sorted(due, key=lambda order: order.act_by)

    def stuck(self) -> list[str]:
        """The orders that would wait for ever, or whose money would, and why."""
        problems = []
        for order in self.orders.values():
            if (money := unsettled(order, self.payments)) is not None:
                problems.append(f"{order.id}: {money}")
            if order.status in ENDED or order.status in AT_REST:
                continue
            opened_by = TICKET_OPENED_BY.get(order.status)
            if opened_by is not None:
                if not any(isinstance(e, opened_by) for e in self.entered_with[order.id]):
                    problems.append(f"{order.id}: {order.status.value} without support's ticket")
                continue
            if order.act_by is None:
                problems.append(f"{order.id}: {order.status.value} with no deadline")
            elif order.act_by <= self.now:
                problems.append(f"{order.id}: {order.status.value} due {order.act_by} < {self.now}")
        return problems
