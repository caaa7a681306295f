import pytest

from notifications.app import MIGRATIONS
from notifications.handlers import NotificationsContext
from notifications.templates import Catalogue
from servicekit.clock import ManualClock
from servicekit.db import make_engine
from servicekit.migrations import upgrade
from servicekit.uow import Database

from notifications_test_helpers import NOW, RecordingMailer


@pytest.fixture
async def ctx(database_url):
    engine = make_engine(database_url)
    await upgrade(engine, MIGRATIONS)
    clock = ManualClock(NOW)
    yield NotificationsContext(
        db=Database(engine, source="notifications", clock=clock),
        clock=clock,
        catalogue=Catalogue(),
        mailer=RecordingMailer(),
    )
    await engine.dispose()
