"""Shared values and builders for the notifications tests (fixtures are in conftest.py)."""

from datetime import UTC, datetime
from typing import Any

from contracts import Event
from notifications.handlers import NotificationsContext, event_router
from notifications.mail import Mailer
from servicekit.testing import received

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class RecordingMailer(Mailer):
    """Builds each message exactly as the real one does, and keeps it instead of sending;
    `refuse` makes given addresses fail the way a server or the network would."""

    def __init__(self) -> None:
        super().__init__("127.0.0.1", 0, "Marketplace <no-reply@marketplace.localhost>")
        self.sent: list[Any] = []
        self.refuse: dict[str, Exception] = {}

    async def send(self, **parts: Any) -> None:
        message = self.message(**parts)
        if error := self.refuse.get(parts["to"][0]):
            raise error
        self.sent.append(message)


async def deliver(ctx: NotificationsContext, event: Event, source: str = "orders") -> None:
    """Hand `event` to its handler as the consumer does: in one unit of work."""
    route = event_router(ctx).route(event.type)
    async with ctx.db.unit_of_work() as uow:
        await route.handle([received(event, source=source, time=ctx.clock.now())], uow)
        await uow.commit()
