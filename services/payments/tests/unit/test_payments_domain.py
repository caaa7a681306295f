"""Payments' pure rules, without a database or Stripe: the double-entry ledger, and whole lives
of a payment where every cent lands (escrow, the seller, the platform's fees, refunds, credits
and chargebacks). The rules fact by fact are in test_payments_domain_*.py."""

import pytest

from payments import ledger
from payments.domain import (
    CardOutcome,
    Decision,
    Operation,
    OperationKind,
    PaymentState,
    capture,
    end_before_capture,
    goodwill_credit,
    place,
    record_authorization,
    record_capture,
    record_refund,
    record_void,
    refund,
    release,
)
from payments.domain.payouts import Payable, PayoutPolicy, plan_run
from payments.ledger import Entry, Line, UnbalancedEntry

from payments_test_helpers import (
    APPROVED,
    BUYER,
    BUYER_CREDIT,
    FEE_BPS,
    HOLD,
    LATER,
    NOW,
    SELLER_PAYABLE,
    active_account,
    done,
    eur,
    new_payment,
)

# --- the ledger -----------------------------------------------------------------------------------


def test_an_entry_whose_lines_do_not_sum_to_zero_is_refused():
    with pytest.raises(UnbalancedEntry, match="does not balance"):
        Entry(
            "e1", "ord_1", "EUR", NOW, "bad", (Line(ledger.ESCROW, 100), Line(ledger.REFUNDS, -99))
        )


def test_an_entry_helper_refuses_unbalanced_moves_too():
    with pytest.raises(UnbalancedEntry):
        ledger.entry("e1", "ord_1", "EUR", NOW, "bad", Line(ledger.ESCROW, 100))


def test_a_move_takes_the_amount_from_the_source_and_gives_it_to_the_destination():
    assert ledger.move(250, ledger.ESCROW, ledger.REFUNDS) == (
        Line(ledger.ESCROW, -250),
        Line(ledger.REFUNDS, 250),
    )


def test_an_entry_drops_lines_that_move_nothing():
    entry = ledger.entry(
        "e1",
        "ord_1",
        "EUR",
        NOW,
        "capture",
        *ledger.move(700, ledger.AUTHORIZATION_HOLD, ledger.ESCROW),
        *ledger.move(0, ledger.CREDIT_RESERVED, ledger.ESCROW),
    )

    assert entry is not None
    assert entry.lines == (Line(ledger.AUTHORIZATION_HOLD, -700), Line(ledger.ESCROW, 700))
    assert (entry.entry_id, entry.order_id, entry.currency, entry.at, entry.reason) == (
        "e1",
        "ord_1",
        "EUR",
        NOW,
        "capture",
    )


def test_an_entry_where_nothing_moves_is_not_written():
    assert ledger.entry("e1", "ord_1", "EUR", NOW, "nothing", *ledger.move(0, "a", "b")) is None
    assert ledger.entry("e1", "ord_1", "EUR", NOW, "nothing") is None


def test_balances_sum_each_account_and_leave_out_accounts_back_at_zero():
    lines = [
        *ledger.move(1_000, ledger.BUYER_CARD, ledger.AUTHORIZATION_HOLD),
        *ledger.move(1_000, ledger.AUTHORIZATION_HOLD, ledger.ESCROW),
        *ledger.move(300, ledger.ESCROW, ledger.REFUNDS),
    ]

    totals = ledger.balances(lines)

    assert totals == {ledger.BUYER_CARD: -1_000, ledger.ESCROW: 700, ledger.REFUNDS: 300}
    assert list(totals) == sorted(totals)


def test_the_balances_of_no_lines_are_empty():
    assert ledger.balances([]) == {}


# --- whole lives of a payment ---------------------------------------------------------------------


class Books:
    """One order's payment driven fact by fact, as the handlers and the worker would, keeping
    every ledger entry written along the way."""

    def __init__(self, total: int, credit_balance: int) -> None:
        self.payment = new_payment(total)
        self.credit_balance = credit_balance
        self.entries: list[Entry] = []
        self.refund_keys = 0

    def apply(self, decision: Decision) -> tuple[Operation, ...]:
        self.payment = decision.payment
        self.entries += decision.entries
        return decision.operations

    def write(self, entry: Entry | None) -> None:
        if entry is not None:
            self.entries.append(entry)

    @property
    def balances(self) -> dict[str, int]:
        return ledger.balances([line for entry in self.entries for line in entry.lines])

    # the facts

    def credit_given(self) -> None:
        if self.credit_balance:
            self.write(
                goodwill_credit(
                    self.payment, 0, 1_000_000, BUYER, eur(self.credit_balance), "sorry", "g", NOW
                )
            )

    def placed(self) -> None:
        (self.authorization,) = self.apply(place(self.payment, self.credit_balance, NOW))

    def authorized(self, outcome: CardOutcome = APPROVED) -> None:
        finished = done(self.authorization, outcome)
        self.apply(record_authorization(self.payment, finished, outcome, NOW, HOLD))

    def ended(self) -> None:
        for void in self.apply(end_before_capture(self.payment, self.authorization, NOW)):
            if void.kind is OperationKind.VOID:
                self.apply(record_void(self.payment, done(void), NOW))

    def shipped(self) -> None:
        (operation,) = self.apply(capture(self.payment, NOW))
        self.apply(record_capture(self.payment, done(operation), NOW, FEE_BPS))

    def completed(self) -> None:
        self.apply(release(self.payment, LATER, FEE_BPS))

    def paid_out(self) -> None:
        """A payout run pays what the seller is owed on this order."""
        owed = self.balances.get(SELLER_PAYABLE, 0)
        account = active_account(self.payment.seller_id)
        payable = Payable(
            self.payment.seller_id, self.payment.currency, self.payment.order_id, owed
        )
        plan = plan_run(
            [payable],
            {account.seller_id: account},
            {},
            frozenset(),
            PayoutPolicy(),
            LATER,
            lambda: "1",
        )
        for entry in plan.entries:
            self.write(entry)

    def refunded(self, amount: int | None) -> None:
        self.refund_keys += 1
        key = f"t{self.refund_keys}"
        (operation,) = self.apply(refund(self.payment, amount, "refund", key, LATER))
        self.apply(record_refund(self.payment, done(operation), LATER))


def placed_authorized_shipped(books: Books) -> None:
    books.credit_given()
    books.placed()
    books.authorized()
    books.shipped()


def refunded_in_part_released_then_refunded_in_full(books: Books) -> None:
    placed_authorized_shipped(books)
    books.refunded(2_000)
    books.completed()
    books.refunded(None)


def released_and_paid_out(books: Books) -> None:
    placed_authorized_shipped(books)
    books.completed()
    books.paid_out()


def released_then_refunded_in_part(books: Books) -> None:
    placed_authorized_shipped(books)
    books.completed()
    books.refunded(3_000)


def declined(books: Books) -> None:
    books.credit_given()
    books.placed()
    books.authorized(CardOutcome(False, reason="declined"))


def cancelled_after_authorization(books: Books) -> None:
    books.credit_given()
    books.placed()
    books.authorized()
    books.ended()


def cancelled_before_authorization(books: Books) -> None:
    books.credit_given()
    books.placed()
    books.ended()


SCENARIOS = [
    # (facts, total, credit balance, final state, final balances)
    pytest.param(
        refunded_in_part_released_then_refunded_in_full,
        10_000,
        0,
        PaymentState.REFUNDED,
        {ledger.BUYER_CARD: -10_000, ledger.REFUNDS: 10_000},
        id="no credit: partial refund, release, refund of the rest",
    ),
    pytest.param(
        refunded_in_part_released_then_refunded_in_full,
        10_000,
        3_000,
        PaymentState.REFUNDED,
        {
            ledger.GOODWILL: -3_000,
            ledger.BUYER_CARD: -7_000,
            ledger.REFUNDS: 7_000,
            BUYER_CREDIT: 3_000,
        },
        id="part credit: partial refund, release, refund of the rest",
    ),
    pytest.param(
        refunded_in_part_released_then_refunded_in_full,
        10_000,
        15_000,
        PaymentState.REFUNDED,
        {ledger.GOODWILL: -15_000, BUYER_CREDIT: 15_000},
        id="all credit: partial refund, release, refund of the rest",
    ),
    pytest.param(
        released_and_paid_out,
        10_000,
        3_000,
        PaymentState.RELEASED,
        {
            ledger.GOODWILL: -3_000,
            ledger.BUYER_CARD: -7_000,
            ledger.PAYOUTS: 9_500,
            ledger.PLATFORM_FEES: 500,
        },
        id="part credit: released and paid out",
    ),
    pytest.param(
        released_then_refunded_in_part,
        10_000,
        3_000,
        PaymentState.PARTIALLY_REFUNDED,
        {
            ledger.GOODWILL: -3_000,
            ledger.BUYER_CARD: -7_000,
            ledger.REFUNDS: 3_000,
            SELLER_PAYABLE: 9_500 - 2_850,
            ledger.PLATFORM_FEES: 500 - 150,
        },
        id="part credit: released, then 30 % refunded out of the seller's share and the fee",
    ),
    pytest.param(
        declined,
        10_000,
        3_000,
        PaymentState.FAILED,
        {ledger.GOODWILL: -3_000, BUYER_CREDIT: 3_000},
        id="part credit: declined",
    ),
    pytest.param(
        cancelled_after_authorization,
        10_000,
        3_000,
        PaymentState.VOIDED,
        {ledger.GOODWILL: -3_000, BUYER_CREDIT: 3_000},
        id="part credit: cancelled after authorization",
    ),
    pytest.param(
        cancelled_before_authorization,
        10_000,
        3_000,
        PaymentState.VOIDED,
        {ledger.GOODWILL: -3_000, BUYER_CREDIT: 3_000},
        id="part credit: cancelled before authorization",
    ),
]


@pytest.mark.parametrize(("facts", "total", "credit_balance", "state", "expected"), SCENARIOS)
def test_every_life_of_a_payment_balances_and_ends_where_a_person_would_expect(
    facts, total, credit_balance, state, expected
):
    books = Books(total, credit_balance)

    facts(books)

    lines = [line for entry in books.entries for line in entry.lines]
    assert sum(line.amount_minor for line in lines) == 0
    assert all(sum(line.amount_minor for line in entry.lines) == 0 for entry in books.entries)
    assert all(entry.order_id == books.payment.order_id for entry in books.entries)
    ids = [entry.entry_id for entry in books.entries]
    assert len(ids) == len(set(ids)), "an entry id is its idempotency key: never reused"
    assert books.payment.state is state
    final = books.balances
    assert final == expected
    for settled in (
        ledger.ESCROW,
        ledger.AUTHORIZATION_HOLD,
        ledger.CREDIT_RESERVED,
        ledger.REFUNDS_PENDING,
    ):
        assert settled not in final
    buyer_paid = -final.get(ledger.BUYER_CARD, 0) + credit_balance
    landed = sum(
        final.get(account, 0)
        for account in (
            SELLER_PAYABLE,
            ledger.PAYOUTS,
            ledger.PLATFORM_FEES,
            ledger.REFUNDS,
            BUYER_CREDIT,
        )
    )
    assert landed == buyer_paid


@pytest.mark.parametrize("credit_balance", [0, 3_000, 10_000])
def test_after_release_escrow_is_empty_and_the_seller_and_the_platform_share_what_was_kept(
    credit_balance,
):
    books = Books(10_000, credit_balance)
    placed_authorized_shipped(books)
    assert books.balances[ledger.ESCROW] == 10_000
    books.refunded(1_000)
    assert books.balances[ledger.ESCROW] == 9_000

    books.completed()

    final = books.balances
    assert ledger.ESCROW not in final
    assert final[SELLER_PAYABLE] == 8_550
    assert final[ledger.PLATFORM_FEES] == 450
    assert final[SELLER_PAYABLE] + final[ledger.PLATFORM_FEES] == 10_000 - 1_000
    assert -final.get(ledger.BUYER_CARD, 0) == 10_000 - credit_balance
    assert sum(final.values()) == 0


def test_an_order_completed_before_its_capture_is_confirmed_ends_released_and_balanced():
    books = Books(10_000, 3_000)
    books.credit_given()
    books.placed()
    books.authorized()
    (operation,) = books.apply(capture(books.payment, NOW))
    books.completed()  # before Stripe confirms the capture
    assert books.payment.release_due

    books.apply(record_capture(books.payment, done(operation), LATER, FEE_BPS))

    assert books.payment.state is PaymentState.RELEASED
    assert books.balances == {
        ledger.GOODWILL: -3_000,
        ledger.BUYER_CARD: -7_000,
        SELLER_PAYABLE: 9_500,
        ledger.PLATFORM_FEES: 500,
    }
