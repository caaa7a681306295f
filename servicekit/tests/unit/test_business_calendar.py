"""Business days: weekends and configured holidays do not count."""

from datetime import UTC, date, datetime, time

from servicekit.domain.calendar import BusinessCalendar

FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_friday_plus_one_business_day_is_monday_at_the_same_time():
    assert BusinessCalendar().add_business_days(FRIDAY, 1) == datetime(
        2026, 11, 30, 10, 0, tzinfo=UTC
    )


def test_a_weekend_start_counts_from_monday():
    saturday = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    assert BusinessCalendar().add_business_days(saturday, 1) == datetime(
        2026, 11, 30, 9, 30, tzinfo=UTC
    )


def test_five_business_days_span_a_weekend():
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert BusinessCalendar().add_business_days(monday, 5) == datetime(
        2026, 11, 30, 8, 0, tzinfo=UTC
    )


def test_holidays_are_skipped():
    christmas = BusinessCalendar([date(2026, 12, 24), date(2026, 12, 25)])
    wednesday = datetime(2026, 12, 23, 12, 0, tzinfo=UTC)
    # Thu 24 and Fri 25 are holidays, then the weekend: the next business day is Mon 28.
    assert christmas.add_business_days(wednesday, 1) == datetime(2026, 12, 28, 12, 0, tzinfo=UTC)
    assert christmas.add_business_days(wednesday, 2) == datetime(2026, 12, 29, 12, 0, tzinfo=UTC)


def test_which_days_are_business_days():
    calendar = BusinessCalendar([date(2026, 12, 25)])
    assert calendar.is_business_day(date(2026, 12, 24))
    assert not calendar.is_business_day(date(2026, 12, 25))  # a holiday (a Friday)
    assert not calendar.is_business_day(date(2026, 12, 26))  # Saturday
    assert not calendar.is_business_day(date(2026, 12, 27))  # Sunday


def test_zero_business_days_is_the_start_itself():
    assert BusinessCalendar().add_business_days(FRIDAY, 0) == FRIDAY


def test_business_hours_within_one_day_simply_add_up():
    assert BusinessCalendar().add_business_hours(FRIDAY, 4) == datetime(
        2026, 11, 27, 14, 0, tzinfo=UTC
    )


def test_business_hours_that_run_past_closing_continue_on_the_next_business_day():
    friday_late = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    assert BusinessCalendar().add_business_hours(friday_late, 2) == datetime(
        2026, 11, 30, 10, 0, tzinfo=UTC
    )


def test_a_clock_started_at_night_starts_counting_at_opening():
    night = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
    assert BusinessCalendar().add_business_hours(night, 1) == datetime(
        2026, 11, 25, 10, 0, tzinfo=UTC
    )


def test_business_hours_skip_holidays_and_span_several_days():
    calendar = BusinessCalendar([date(2026, 11, 30)], opens=time(8), closes=time(16))
    # Friday 08:00 + 16 hours: Friday's 8, Monday is a holiday, Tuesday's 8 -> Tuesday 16:00
    friday_morning = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert calendar.add_business_hours(friday_morning, 16) == datetime(
        2026, 12, 1, 16, 0, tzinfo=UTC
    )
