from datetime import UTC, datetime, timedelta

import pytest

from servicekit.domain.clock import ManualClock, SystemClock

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_the_system_clock_is_utc():
    assert SystemClock().now().utcoffset() == timedelta(0)


def test_a_manual_clock_moves_only_forward():
    clock = ManualClock(START)
    assert clock.advance(90) == START + timedelta(seconds=90)
    assert clock.set(START) == START + timedelta(seconds=90)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_a_manual_clock_refuses_naive_times():
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 1, 1))
