"""What credit a resolution may give: at most the operators' share of the order's total and
payments' own limit, with every earlier credit counted, before or after the capture. Pure: no
database."""

from dataclasses import replace
from decimal import Decimal

import pytest

from support.domain.order_money import (
    credit_limit_minor,
)

from support_money_test_helpers import (
    PAID,
    authorized,
    captured,
    decide,
    eur,
    knowing,
    placed,
    refusal,
)


def test_credit_up_to_the_orders_total_with_earlier_credits_counted():
    money = decide(knowing(*PAID), "credit", eur(10_000))

    assert money.credits_decided_minor == 10_000
    refused = refusal(money, "credit", eur(2_501))
    assert refused.extra["creditable"] == {"amount_minor": 2_500, "currency": "EUR"}
    assert decide(money, "credit", eur(2_500)).credits_decided_minor == 12_500


def test_credit_is_possible_before_the_payment_is_captured():
    assert decide(knowing(placed()), "credit", eur(500)).credits_decided_minor == 500


def test_the_operators_ratio_raises_or_lowers_the_credit_limit():
    assert decide(knowing(*PAID), "credit", eur(25_000), Decimal("2")).credits_decided_minor
    refused = refusal(knowing(*PAID), "credit", eur(1_251), Decimal("0.1"))
    assert refused.extra["creditable"]["amount_minor"] == 1_250


def test_the_credit_limit_rounds_down_to_a_whole_minor_unit():
    assert credit_limit_minor(999, Decimal("0.5")) == 499
    assert credit_limit_minor(12_500, Decimal("1")) == 12_500


@pytest.mark.parametrize("amount_minor", [0, -1])
def test_a_credit_must_be_positive(amount_minor):
    assert "positive" in str(refusal(knowing(*PAID), "credit", eur(amount_minor)))


def test_payments_own_credit_limit_for_the_order_is_never_exceeded():
    money = replace(knowing(*PAID), payments_credit_limit_minor=5_000)

    refused = refusal(money, "credit", eur(5_001), Decimal("2"))

    assert refused.extra["creditable"]["amount_minor"] == 5_000


def test_payments_credit_limit_comes_with_the_authorization():
    limited = authorized().model_copy(update={"creditable": eur(6_000)})

    refused = refusal(knowing(placed(), limited, captured()), "credit", eur(6_001))

    assert refused.extra["creditable"]["amount_minor"] == 6_000
