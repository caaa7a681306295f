"""The platform's one date format, in the reader's zone, and amounts typed by people."""

from datetime import UTC, date, datetime

from contracts.dates import format_day, format_moment, is_zone, zone_named
from contracts.money import format_money, parse_money


def test_a_moment_reads_in_the_readers_zone_with_its_name():
    moment = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert format_moment(moment) == "Sat 28 Nov 2026, 12:00 UTC"
    assert format_moment("2026-11-28T12:00:00Z", zone_named("Europe/Amsterdam")) == (
        "Sat 28 Nov 2026, 13:00 CET"
    )
    # the evening in New York is the day before
    assert format_moment(moment.replace(hour=3), zone_named("America/New_York")) == (
        "Fri 27 Nov 2026, 22:00 EST"
    )
    assert format_moment("not a date") == "not a date"


def test_a_calendar_day_has_the_same_format():
    assert format_day(date(2026, 12, 1)) == "Tue 01 Dec 2026"
    assert format_day("2026-12-01") == "Tue 01 Dec 2026"


def test_only_real_zones_are_taken():
    assert is_zone("Europe/Amsterdam") and is_zone("UTC")
    for bad in ("Mars/Olympus", "../../etc/passwd", "/etc/localtime", "", "x" * 100):
        assert not is_zone(bad)
        assert zone_named(bad) is UTC


def test_a_typed_amount_reads_in_the_currencys_decimals():
    assert parse_money("145.00", "EUR") == 14500
    assert parse_money("1,234.5", "EUR") == 123450
    assert parse_money("5000", "JPY") == 5000
    assert parse_money("1.500", "KWD") == 1500
    for bad in ("12.345", "-1", "0", "", "1e3", "abc", "50.", "²"):
        assert parse_money(bad, "EUR") is None, bad
    assert parse_money("50.5", "JPY") is None  # yen have no decimals
    assert parse_money(format_money(123456, "EUR").split()[0], "EUR") == 123456
