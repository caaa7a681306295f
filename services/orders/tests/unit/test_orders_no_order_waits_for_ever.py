"""No order waits for ever (API.md "Orders", README "Deadlines", #19), as a property: Hypothesis
walks random sequences of buyers' and sellers' commands, payments' and support's events,
carriers' reports and clock moves over several orders, on the pure domain kept the way the
handlers keep it, and checks after every step that each order has ended, rests, is support's,
or has a deadline (`act_by`) still ahead of the clock.

The model (`Marketplace`) does what the handlers do, without a database: a command decides on
the order and `keep`s the outcome (`domain.scheduled`: the deadline of the status entered), a
refusal changes nothing; an event that no longer fits is ignored (`TransitionRefused`); a
carrier's report goes to the parcel's order (`parcel_order`, a repeat counts once); the timer
job fires every order whose `act_by` passed (`act_on_deadline`) until none is due. The job
runs on the service's clock: a deadline already due when a step ends fires at that moment (a
carrier's delivery reported late can arrive after its confirmation window). A clock move
fires what fell due either as a punctual job would (each deadline at its own moment) or as a
job that was behind (all at the end)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

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
    PaymentState,
    Status,
    TransitionRefused,
)

from orders_test_helpers import (
    ADDRESS,
    CALENDAR,
    NEW_ADDRESS,
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


def test_the_statuses_split_as_the_readme_says():
    assert {Status.CANCELLED, Status.DECLINED, Status.REFUNDED} == ENDED
    assert set(_ways_on(Status.COMPLETED)) == {Action.RETURN, Action.SUPPORT_RETURN}
    assert _ways_on(Status.COMPLETED)[Action.SUPPORT_RETURN] == {Actor.AGENT}
    assert _ways_on(Status.RETURNED) == {Action.PAYMENT_REFUNDED: frozenset({Actor.SYSTEM})}
    for status in TICKET_OPENED_BY:  # support's resolutions apply there
        assert {Action.RESHIP, Action.SUPPORT_CANCEL} <= set(_ways_on(status))
    # Every waiting status has a way on that the system takes when its deadline passes.
    for status in WAITING:
        assert any(Actor.SYSTEM in actors for actors in _ways_on(status).values()), status


# --- the model: the domain kept as the handlers keep it ------------------------------------------

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


class Marketplace:
    """Orders in memory, each change kept as `handlers.context.keep` keeps it."""

    def __init__(self) -> None:
        self.now = NOW
        self.orders: dict[str, Order] = {}
        self.entered_with: dict[str, tuple[object, ...]] = {}  # the events of the last move
        self.parcels = 0

    def keep(self, before: Order, outcome: Outcome) -> None:
        outcome = domain.scheduled(before, outcome, self.now, RULES, CALENDAR)
        if outcome.order.status is not before.status:
            self.entered_with[before.id] = outcome.events
        self.orders[before.id] = outcome.order

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
        """The orders that would wait for ever, and why."""
        problems = []
        for order in self.orders.values():
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


# --- the walk ------------------------------------------------------------------------------------

# Who does what: (the action it is in the table, or None if it only records something; how the
# handlers take it in: "command", "event", "ship", "carrier", "redeliver"; what it decides).
A = Action
STEPS = {
    # payments' events, as `payment_facts` folds them in
    "payment authorized": (
        A.PAYMENT_AUTHORIZED,
        "event",
        lambda order, now: domain.record_authorization(order, order.total, now),
    ),
    "payment failed": (
        A.PAYMENT_FAILED,
        "event",
        lambda order, now: domain.record_authorization_failure(order, "card_declined", now),
    ),
    "hold lapsed": (None, "event", lambda order, now: domain.record_hold_lapsed(order, now)),
    "authorization renewed": (
        None,
        "event",
        lambda order, now: domain.record_authorization_renewed(order, order.total, now),
    ),
    "payment captured": (
        None,
        "event",
        lambda order, now: domain.record_payment(
            order, PaymentState.CAPTURED, now, captured=order.total
        ),
    ),
    "payment released": (
        None,
        "event",
        lambda order, now: domain.record_payment(
            order, PaymentState.RELEASED, now, released=order.total
        ),
    ),
    "hold voided by support": (
        A.PAYMENT_VOIDED,
        "event",
        lambda order, now: domain.record_void(order, "Support ticket tkt_1", now)[0],
    ),
    "refunded in full": (
        A.PAYMENT_REFUNDED,
        "event",
        lambda order, now: domain.record_refund(order, order.total, True, now),
    ),
    "refunded in part": (
        None,
        "event",
        lambda order, now: domain.record_refund(order, order.total, False, now),
    ),
    # the seller
    "seller accepts": (
        A.ACCEPT,
        "command",
        lambda order, now: domain.accept(order, Actor.SELLER, now, CALENDAR),
    ),
    "seller declines": (
        A.DECLINE,
        "command",
        lambda order, now: domain.decline(order, Actor.SELLER, "sold elsewhere", now),
    ),
    "seller ships": (A.SHIP, "ship", None),
    "seller confirms the return": (
        A.CONFIRM_RETURN,
        "command",
        lambda order, now: domain.confirm_return(order, Actor.SELLER, now),
    ),
    # the buyer
    "buyer cancels": (
        A.CANCEL,
        "command",
        lambda order, now: domain.cancel(order, Actor.BUYER, "changed my mind", now),
    ),
    "buyer changes the address": (
        A.CHANGE_ADDRESS,
        "command",
        lambda order, now: domain.change_address(order, Actor.BUYER, NEW_ADDRESS, now),
    ),
    "buyer confirms receipt": (
        A.CONFIRM_RECEIPT,
        "command",
        lambda order, now: domain.confirm_receipt(order, Actor.BUYER, now),
    ),
    "buyer reports a problem": (
        A.REPORT_PROBLEM,
        "command",
        lambda order, now: domain.report_problem(
            order, Actor.BUYER, "not_received", "Nothing came", now
        ),
    ),
    "buyer returns it": (
        A.RETURN,
        "command",
        lambda order, now: domain.request_return(
            order, Actor.BUYER, "not for me", now, CALENDAR, RULES
        ),
    ),
    "buyer asks for an exchange": (
        A.EXCHANGE,
        "command",
        lambda order, now: domain.request_exchange(
            order, Actor.BUYER, "wrong size", now, note="size 42"
        ),
    ),
    "buyer asks for another delivery": (A.REDELIVER, "redeliver", None),
    "buyer reviews": (
        A.REVIEW,
        "command",
        lambda order, now: domain.review(order, Actor.BUYER, 5, now, review_id="r", text="Fine"),
    ),
    # the carrier's scans of the parcel
    **{
        f"carrier: {status}": (domain.CARRIER_ACTIONS[status], "carrier", status)
        for status in domain.CARRIER_ACTIONS
    },
    # support's resolutions (`events._resolution_outcome`)
    "support reships": (
        A.RESHIP,
        "event",
        lambda order, now: domain.reship(order, "tkt_1", now, CALENDAR),
    ),
    "support starts a return": (
        A.SUPPORT_RETURN,
        "event",
        lambda order, now: domain.start_return(order, "refund", now, CALENDAR, RULES),
    ),
    "support cancels": (
        A.SUPPORT_CANCEL,
        "event",
        lambda order, now: domain.cancel_by_support(order, now),
    ),
    **{
        f"support: {resolution}": (
            A.SETTLE_DISPUTE,
            "event",
            lambda order, now, partly=(resolution == "partial_refund"): (
                domain.settle_dispute(order, now, partly_refunded=partly)
                if order.status is Status.DISPUTED
                else Outcome(order)
            ),
        )
        for resolution in ("no_action", "partial_refund")
    },
}
STEP_NAMES = sorted(STEPS)
LISTINGS_KINDS = sorted(LISTINGS)
MAX_ORDERS = 5
# How long ago a carrier's scan happened when it reaches us.
scanned_ago = st.sampled_from([timedelta(0), MINUTE, timedelta(hours=3), timedelta(days=4)])
# The buyer's date for another attempt, days from today (0 and beyond the window: refused).
redelivery_in = st.integers(min_value=0, max_value=RULES.redelivery_window_days + 3)


def fits(order: Order, name: str) -> bool:
    """Whether the step can change the order now: the table has its action in the order's
    status, or the payment fact it records changes what the order shows."""
    action = STEPS[name][0]
    if action is not None:
        return (order.status, action) in TRANSITIONS
    if name == "hold lapsed":
        return order.payment_state is PaymentState.AUTHORIZED and order.shipped_at is None
    if name == "authorization renewed":
        return order.payment_state is PaymentState.HOLD_LAPSED
    return False  # captured, released, refunded in part: only recorded


def ends(order: Order, name: str) -> bool:
    action = STEPS[name][0]
    transition = TRANSITIONS.get((order.status, action)) if action is not None else None
    return transition is not None and transition.to in ENDED


class NoOrderWaitsForEver(RuleBasedStateMachine):
    """Orders placed, moved on by everyone who may, and the clock; after every step (and the
    timer's tick at that moment) every order is over, at rest, support's, or has a deadline
    ahead."""

    def __init__(self) -> None:
        super().__init__()
        self.market = Marketplace()

    def _take(self, index: int, name: str, back: timedelta, days: int) -> None:
        market = self.market
        order_id = f"ord_{index % len(market.orders)}"
        _, how, what = STEPS[name]
        if how == "command":
            market.command(order_id, what)
        elif how == "event":
            market.event(order_id, what)
        elif how == "ship":
            market.ship(order_id)
        elif how == "carrier":
            market.carrier_report(order_id, what, back)
        else:
            window = RULES.redelivery_window_days
            market.command(
                order_id,
                lambda order, now: domain.redeliver(
                    order, Actor.BUYER, now.date() + timedelta(days=days), now, window
                ),
            )
        market.tick()  # the timer job at this moment

    # One rule that draws what happens next: Hypothesis switches whole rules off in some
    # walks (for variety), and a walk without orders, or without the clock, shows nothing.
    @rule(
        chance=st.randoms(use_true_random=False),
        kind=st.sampled_from(LISTINGS_KINDS),
        back=scanned_ago,
        days=redelivery_in,
        by=st.one_of(
            st.sampled_from(CLOCK_MOVES),
            st.integers(min_value=1, max_value=4 * 7 * 24 * 60).map(lambda m: m * MINUTE),
        ),
        punctual=st.booleans(),
    )
    def something_happens(self, chance, kind, back, days, by, punctual):
        market = self.market
        live = [o for o in market.orders.values() if o.status not in ENDED]
        roll = chance.random()
        if not live or (roll < 0.1 and len(market.orders) < MAX_ORDERS):
            self.a_buyer_places_an_order(kind)
            if chance.random() < 0.7:  # payments usually answers within seconds
                self._take(len(market.orders) - 1, "payment authorized", back, days)
        elif roll < 0.2:
            self.time_passes(by, punctual)
        elif roll < 0.3:
            # to the next deadline, a minute before or after it
            self.time_passes(self._to_next_deadline(chance), punctual)
        elif roll < 0.45:
            self.anyone_does_anything(chance, back, days)
        else:
            self.someone_does_what_the_table_has_now(chance, live, back, days)

    def a_buyer_places_an_order(self, kind):
        if len(self.market.orders) < MAX_ORDERS:
            self.market.place(kind)
            self.market.tick()

    def _to_next_deadline(self, chance) -> timedelta:
        deadlines = [o.act_by for o in self.market.orders.values() if o.act_by is not None]
        if not deadlines:
            return MINUTE
        to_it = min(deadlines) - self.market.now + chance.choice([-MINUTE, timedelta(0), MINUTE])
        return max(to_it, MINUTE)

    def time_passes(self, by, punctual):
        """The clock moves; the timer fires what fell due (on time, or behind)."""
        self.market.advance(by, punctual)

    def anyone_does_anything(self, chance, back, days):
        """Whatever the order's status: most are refused (skipped) or ignored."""
        index = chance.randrange(len(self.market.orders))
        self._take(index, chance.choice(STEP_NAMES), back, days)

    def someone_does_what_the_table_has_now(self, chance, live, back, days):
        """On an order not over, a step that can change it now."""
        order = chance.choice(live)
        # Ending an order is easy (cancel, decline, fail): steps that move it on weigh more,
        # so that walks reach the later statuses.
        fitting = [
            name
            for name in STEP_NAMES
            if fits(order, name)
            for _ in range(1 if ends(order, name) else 6)
        ]
        if fitting:
            index = int(order.id.removeprefix("ord_"))
            self._take(index, chance.choice(fitting), back, days)

    @invariant()
    def every_order_is_over_or_has_a_deadline_ahead(self):
        stuck = self.market.stuck()
        assert not stuck, stuck


NoOrderWaitsForEver.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    database=None,
)
test_no_order_waits_for_ever = NoOrderWaitsForEver.TestCase
