"""Money enters within bounds: ISO 4217 currencies only, amounts below 10**15 minor units, and
each currency's own number of minor-unit digits."""

import pytest
from pydantic import ValidationError

from contracts.money import MAX_AMOUNT_MINOR, Money, format_money, minor_unit_digits


@pytest.mark.parametrize("code", ["ZZZ", "XXX1", "eur", "EU", "BTC"])
def test_a_currency_outside_iso_4217_is_refused(code: str):
    with pytest.raises(ValidationError):
        Money(amount_minor=100, currency=code)


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "KWD", "CHF"])
def test_iso_4217_currencies_are_accepted(code: str):
    assert Money(amount_minor=100, currency=code).currency == code


@pytest.mark.parametrize("amount", [10**15, -(10**15), 2**63 - 1, 10**30])
def test_absurd_amounts_are_refused(amount: int):
    with pytest.raises(ValidationError, match="limited"):
        Money(amount_minor=amount, currency="EUR")


def test_the_largest_sane_amount_is_accepted_and_sums_past_it_are_refused():
    largest = Money(amount_minor=MAX_AMOUNT_MINOR - 1, currency="EUR")
    assert MAX_AMOUNT_MINOR == 10**15
    assert Money(amount_minor=-(MAX_AMOUNT_MINOR - 1), currency="EUR")
    with pytest.raises(ValidationError):
        largest + Money(amount_minor=1, currency="EUR")


def test_an_amount_that_is_not_a_whole_number_is_refused():
    with pytest.raises(ValidationError):
        Money.model_validate({"amount_minor": "12.5", "currency": "EUR"})


@pytest.mark.parametrize(
    ("currency", "digits"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3)]
)
def test_each_currency_has_its_minor_unit_digits(currency: str, digits: int):
    assert minor_unit_digits(currency) == digits


@pytest.mark.parametrize(
    ("amount_minor", "currency", "shown"),
    [
        (12_500, "EUR", "125.00 EUR"),
        (123_456_789, "EUR", "1,234,567.89 EUR"),
        (5_000, "JPY", "5,000 JPY"),
        (-150, "EUR", "-1.50 EUR"),
        (-5, "USD", "-0.05 USD"),
        (1_500, "KWD", "1.500 KWD"),
        (-1_234_567, "BHD", "-1,234.567 BHD"),
        (0, "EUR", "0.00 EUR"),
    ],
)
def test_money_is_shown_with_its_currencys_decimals(amount_minor, currency, shown):
    assert format_money(amount_minor, currency) == shown
    assert Money(amount_minor=amount_minor, currency=currency).display() == shown
