"""No order waits for ever (API.md "Orders", README "Deadlines", #19), as a property: Hypothesis
walks random sequences of buyers' and sellers' commands, payments' and support's events,
carriers' reports and clock moves over several orders, on the pure domain kept the way the
handlers keep it, and checks after every step that each order has ended, rests, is support's,
or has a deadline (`act_by`) still ahead of the clock.

The model (`Marketplace`, in orders_model_test_helpers.py) does what the handlers do, without a
database: a command decides on the order and `keep`s the outcome (`domain.scheduled`: the
deadline of the status entered), a refusal changes nothing; an event that no longer fits is
ignored (`TransitionRefused`); a carrier's report goes to the parcel's order (`parcel_order`, a
repeat counts once); the timer job fires every order whose `act_by` passed (`act_on_deadline`)
until none is due. The job runs on the service's clock: a deadline already due when a step ends
fires at that moment (a carrier's delivery reported late can arrive after its confirmation
window). A clock move fires what fell due either as a punctual job would (each deadline at its
own moment) or as a job that was behind (all at the end).

Payments walks beside orders (orders_payments_model_test_helpers.py): it answers orders' events
as payments does (a void on a cancellation, a capture on the shipment, a release on the
completion, a refund on a return or a cancellation after the capture), its card and timer
(authorized or refused, a hold lapsed and a new card) and support's refunds, and its answers
reach orders when the walk delivers them. Once payments has answered, every order that ended
holds no money as far as orders can tell (its payment state), after every step and at the end
of the walk, when payments answers everything it still owes. The walks reach every status
(asserted), `delivery_failed` and `exchange_requested` included."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from orders import domain
from orders.domain import (
    TRANSITIONS,
    Action,
    Actor,
    Order,
    Outcome,
    PaymentState,
    Status,
)

from orders_model_test_helpers import (
    CLOCK_MOVES,
    ENDED,
    LISTINGS,
    MINUTE,
    REACHED,
    TICKET_OPENED_BY,
    WAITING,
    Marketplace,
    _ways_on,
)
from orders_payments_model_test_helpers import Payments
from orders_test_helpers import (
    CALENDAR,
    NEW_ADDRESS,
    RULES,
)

# --- the walk ------------------------------------------------------------------------------------

# Who does what: (the action it is in the table, or None if it only records something; how the
# handlers take it in: "command", "event", "ship", "carrier", "redeliver"; what it decides).
A = Action
STEPS = {
    # payments' answers, as `payment_facts` folds them in: the card's (at once), the hold's
    # renewal (payments' timer), support's refunds; the rest answer orders' own events
    # (orders_payments_model_test_helpers) and reach orders when payments answers
    "payment authorized": (A.PAYMENT_AUTHORIZED, "card", True),
    "payment failed": (A.PAYMENT_FAILED, "card", False),
    "hold lapsed": (None, "payments", "hold_lapses"),
    "authorization renewed": (None, "payments", "new_card"),
    "payments answers": (None, "answers", None),
    "support refunds": (None, "payments", "support_refunds"),
    "support refunds in part": (None, "payments", "support_refunds_in_part"),
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


# Steps towards the statuses few walks would reach otherwise (the seller on time, a
# delivery and what follows it) weigh more, so that the walks go through them too (the test
# asserts they do).
LATE_STEPS = {
    "seller accepts": 18,
    "seller ships": 18,
    "carrier: delivered": 18,
    "carrier: delivery_failed": 12,
    "carrier: returned_to_sender": 12,
    # Reached by few walks, and the walks differ with what else the test process has imported
    # (a full `make test` collection made them miss it at 18; the varying order is not found
    # yet): it weighs more than the other late steps.
    "buyer asks for an exchange": 40,
}


def fits(order: Order, name: str, payments: Payments) -> bool:
    """Whether the step can change the order now: the table has its action in the order's
    status, or the payment fact it records changes what the order shows."""
    action = STEPS[name][0]
    if action is not None:
        return (order.status, action) in TRANSITIONS
    if name == "hold lapsed":
        return payments.ledger(order.id).held and order.shipped_at is None
    if name == "authorization renewed":
        return order.payment_state is PaymentState.HOLD_LAPSED
    if name == "payments answers":
        return payments.pending(order.id)
    if name == "support refunds":  # where a refund (or a void) moves the order
        return any(
            (order.status, way) in TRANSITIONS
            for way in (Action.PAYMENT_REFUNDED, Action.PAYMENT_VOIDED)
        )
    if name == "support refunds in part":
        return order.status is Status.DISPUTED
    return False  # a chargeback won: only recorded


def ends(order: Order, name: str) -> bool:
    if name in ("support refunds", "hold lapsed"):  # an end, or a stop on the way
        return True
    action = STEPS[name][0]
    transition = TRANSITIONS.get((order.status, action)) if action is not None else None
    return transition is not None and transition.to in ENDED


def test_the_statuses_split_as_the_readme_says():
    assert {Status.CANCELLED, Status.DECLINED, Status.REFUNDED} == ENDED
    assert set(_ways_on(Status.COMPLETED)) == {
        Action.RETURN,
        Action.SUPPORT_RETURN,
        Action.CHARGEBACK_LOST,  # the buyer's bank took it all back
    }
    assert _ways_on(Status.COMPLETED)[Action.SUPPORT_RETURN] == {Actor.AGENT}
    assert _ways_on(Status.RETURNED) == {
        Action.PAYMENT_REFUNDED: frozenset({Actor.SYSTEM}),
        Action.CHARGEBACK_LOST: frozenset({Actor.SYSTEM}),
    }
    for status in TICKET_OPENED_BY:  # support's resolutions apply there
        assert {Action.RESHIP, Action.SUPPORT_CANCEL} <= set(_ways_on(status))
    # Every waiting status has a way on that the system takes when its deadline passes.
    for status in WAITING:
        assert any(Actor.SYSTEM in actors for actors in _ways_on(status).values()), status


# --- the model: the domain kept as the handlers keep it ------------------------------------------


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
        elif how == "card":  # payments answers the card at once
            market.payments.card(order_id, what)
            while market.payments.pending(order_id):
                market.payments_answer(order_id)
        elif how == "payments":
            getattr(market.payments, what)(order_id)
        elif how == "answers":
            market.payments_answer(order_id)
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
            if fits(order, name, self.market.payments)
            for _ in range(1 if ends(order, name) else LATE_STEPS.get(name, 6))
        ]
        if fitting:
            index = int(order.id.removeprefix("ord_"))
            if order.shipped_at is not None:  # a scan of this parcel, not from before it left
                back = min(back, self.market.now - order.shipped_at)
            self._take(index, chance.choice(fitting), back, days)

    @invariant()
    def every_order_is_over_or_has_a_deadline_ahead(self):
        stuck = self.market.stuck()
        assert not stuck, stuck

    def teardown(self):
        """At the end of the walk payments answers what it still owes (and orders what that
        causes): then every order's money is settled too."""
        market = self.market
        while waiting := [o for o in market.orders if market.payments.pending(o)]:
            for order_id in waiting:
                market.payments_answer(order_id)
            market.tick()
        stuck = market.stuck()
        assert not stuck, stuck


WALKS = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    database=None,
)


def test_no_order_waits_for_ever_and_every_ended_orders_money_is_settled():
    REACHED.clear()
    run_state_machine_as_test(NoOrderWaitsForEver, settings=WALKS)
    # The walks reach every status, so every deadline and outcome above was walked through.
    assert set(Status) == REACHED, sorted(set(Status) - REACHED)
