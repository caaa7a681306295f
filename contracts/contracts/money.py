"""Money as integer minor units with an ISO 4217 currency; never floats."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# ISO 4217's active currencies and the number of digits of their minor unit (most have two).
_ZERO_DIGITS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DIGITS = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DIGITS = "CLF UYW"
_MINOR_DIGITS_OTHER_THAN_TWO = {
    code: digits
    for codes, digits in ((_ZERO_DIGITS, 0), (_THREE_DIGITS, 3), (_FOUR_DIGITS, 4))
    for code in codes.split()
}
ISO_4217_CURRENCIES: frozenset[str] = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
    MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
    PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG
    XOF XPF YER ZAR ZMW ZWG""".split()  # noqa: SIM905
)

# No amount anywhere in the platform comes near this (a thousand billion euros in cents), and
# sums of many such amounts still fit PostgreSQL's bigint.
MAX_AMOUNT_MINOR = 10**15


def minor_unit_digits(currency: str) -> int:
    """How many digits the currency's minor unit has: 2 for EUR, 0 for JPY, 3 for KWD."""
    return _MINOR_DIGITS_OTHER_THAN_TWO.get(currency, 2)


def format_money(amount_minor: int, currency: str) -> str:
    """The one way the platform shows an amount to people: digits grouped by thousands, the
    currency's own number of decimals, the code after it ("1,234.50 EUR", "5,000 JPY",
    "-1.500 KWD")."""
    digits = minor_unit_digits(currency)
    units, minor = divmod(abs(amount_minor), 10**digits)
    sign = "-" if amount_minor < 0 else ""
    decimals = f".{minor:0{digits}d}" if digits else ""
    return f"{sign}{units:,}{decimals} {currency}"


_TYPED_AMOUNT = re.compile(r"(?P<units>[0-9]{1,15})(?:\.(?P<decimals>[0-9]{1,4}))?")


def parse_money(text: str, currency: str) -> int | None:
    """What a person typed ("1,234.50", "5000", "12.5") as minor units of `currency`, the
    inverse of `format_money`; None when it is not a positive amount in the currency's own
    decimals (a "12.345" euro amount, a sign, letters)."""
    digits = minor_unit_digits(currency)
    typed = _TYPED_AMOUNT.fullmatch(text.strip().replace(",", "").replace(" ", ""))
    if typed is None or len(typed["decimals"] or "") > digits:
        return None
    minor = int(typed["units"]) * 10**digits + int(
        (typed["decimals"] or "").ljust(digits, "0") or 0
    )
    return minor if 0 < minor < MAX_AMOUNT_MINOR else None


def _known_currency(code: str) -> str:
    if code not in ISO_4217_CURRENCIES:
        raise ValueError(f"{code} is not an ISO 4217 currency")
    return code


def _sane_amount(amount_minor: int) -> int:
    if abs(amount_minor) >= MAX_AMOUNT_MINOR:
        raise ValueError(f"amounts are limited to less than {MAX_AMOUNT_MINOR} minor units")
    return amount_minor


Currency = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code"),
    AfterValidator(_known_currency),
]
AmountMinor = Annotated[int, AfterValidator(_sane_amount)]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount_minor: AmountMinor = Field(description="Amount in the currency's minor unit (cents)")
    currency: Currency

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount_minor=self.amount_minor + other.amount_minor, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount_minor=self.amount_minor - other.amount_minor, currency=self.currency)

    def __mul__(self, factor: int) -> Money:
        return Money(amount_minor=self.amount_minor * factor, currency=self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def display(self) -> str:
        """This amount as people read it (see `format_money`)."""
        return format_money(self.amount_minor, self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount_minor=0, currency=currency)
