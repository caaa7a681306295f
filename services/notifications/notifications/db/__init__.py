"""Notifications' tables and repositories: the only package that speaks SQL.

`tables` (the schema), one module per repository (`directory_repository`: principals, orders,
preferences; `inbox_repository`: notifications, the inbox and the e-mail queue;
`reminder_repository`; `parked_repository`) and `unit` (the unit of work that builds them)."""

from notifications.db.directory_repository import Directory
from notifications.db.inbox_repository import Inbox
from notifications.db.parked_repository import Parked
from notifications.db.reminder_repository import Reminders
from notifications.db.tables import (
    deliveries,
    metadata,
    notifications,
    orders,
    parked,
    preferences,
    principals,
    reminders,
)
from notifications.db.unit import NotificationsUnit

__all__ = [
    "Directory",
    "Inbox",
    "NotificationsUnit",
    "Parked",
    "Reminders",
    "deliveries",
    "metadata",
    "notifications",
    "orders",
    "parked",
    "preferences",
    "principals",
    "reminders",
]
