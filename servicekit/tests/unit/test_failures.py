"""Which failures are retried rather than dead-lettered."""

from sqlalchemy.exc import DBAPIError

from servicekit.messaging.failures import is_transient


def test_a_postgresql_deadlock_counts_as_transient():
    class DeadlockDetected(Exception):
        sqlstate = "40P01"

    class Syntax(Exception):
        sqlstate = "42601"

    def wrapped(cause):
        try:
            raise RuntimeError("driver error") from cause
        except RuntimeError as driver_error:
            return DBAPIError("UPDATE reminders ...", {}, driver_error)

    assert is_transient(wrapped(DeadlockDetected()))
    assert not is_transient(wrapped(Syntax()))
