import pytest

from notifications.app import MIGRATIONS
from notifications.db import NotificationsUnit
from notifications.handlers import NotificationsContext
from notifications.templates import Catalogue
from servicekit.domain.clock import ManualClock
from servicekit.messaging.db import make_engine
from servicekit.messaging.uow import Database

from notifications_test_helpers import NOW, RecordingMailer


@pytest.fixture
async def ctx(migrated_database):
    engine = make_engine(await migrated_database(MIGRATIONS))
    clock = ManualClock(NOW)
    yield NotificationsContext(
        db=Database(engine, source="notifications", clock=clock, unit=NotificationsUnit),
        clock=clock,
        catalogue=Catalogue(),
        mailer=RecordingMailer(),
    )
    await engine.dispose()
