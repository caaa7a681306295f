"""A seller whose money waits for their payout account (#18) hears it first, then reminders
that say so and since when, each a must (it is their money)."""

from datetime import UTC, datetime

from contracts import Money
from contracts.payments import PayoutAccountNeeded
from notifications import domain
from notifications.templates import Catalogue

TOLD = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def needed(reminder: int) -> dict:
    return PayoutAccountNeeded(
        seller_id="usr_seller",
        available=Money(amount_minor=9500, currency="EUR"),
        noticed_at=datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
        reminder=reminder,
        waiting_since=TOLD if reminder else None,
    ).model_dump(mode="json")


def rendered(data: dict):
    intent = domain.payout_intent(PayoutAccountNeeded.type, data)
    assert (intent.recipient_id, intent.must) == ("usr_seller", True)
    context = {"name": "Sam", "data": data, "order": {}, "link": "http://portal/portal/payouts"}
    return Catalogue().render(intent.message, "en", context)


def test_a_reminder_says_it_is_one_and_since_when_the_money_waits():
    reminder = rendered(needed(2))
    assert reminder.title == "Reminder: 95.00 EUR is waiting for you"
    assert "we first told you on Mon 02 Nov 2026, 09:00 UTC" in reminder.text


def test_the_first_notice_is_not_a_reminder():
    first = rendered(needed(0))
    assert first.title == "95.00 EUR is waiting for you"
    assert "first told you" not in first.text
