"""Notifications' unit of work and the repositories it builds."""

from __future__ import annotations

from notifications.db.directory_repository import Directory
from notifications.db.inbox_repository import Inbox
from notifications.db.parked_repository import Parked
from notifications.db.reminder_repository import Reminders
from servicekit.messaging.uow import UnitOfWork, repository


class NotificationsUnit(UnitOfWork):
    """Notifications' unit of work: its repositories, each built once per unit over the unit's
    session (`uow.directory`)."""

    directory = repository(Directory)
    inbox = repository(Inbox)
    reminders = repository(Reminders)
    parked = repository(Parked)
