import json

from sqlalchemy import func, insert, select

from servicekit.messaging.db import outbox
from servicekit.messaging.uow import HandledEvent

from kit_helpers import handled_orders, placed


async def _outbox_rows(engine):
    async with engine.connect() as connection:
        return (await connection.execute(select(outbox).order_by(outbox.c.id))).all()


async def test_a_committed_unit_of_work_leaves_state_and_events_together(db, engine):
    async with db.unit_of_work(correlation_id="corr-1") as uow:
        await uow.session.execute(insert(handled_orders).values(event_id="e1", order_id="o1"))
        event_id = uow.emit(placed("o1"))
        await uow.commit()

    rows = await _outbox_rows(engine)
    assert len(rows) == 1
    row = rows[0]
    assert (row.topic, row.message_key, row.event_type) == (
        "orders.events",
        "o1",
        "marketplace.order.placed.v1",
    )
    headers = dict(row.headers)
    assert headers["ce_id"] == str(event_id)
    assert headers["ce_type"] == "marketplace.order.placed.v1"
    body = json.loads(row.payload)
    assert body["id"] == str(event_id)
    assert body["correlation_id"] == "corr-1"
    assert body["data"]["order_id"] == "o1"
    assert body["time"] == "2026-11-23T12:00:00+00:00"


async def test_a_unit_of_work_that_is_not_committed_leaves_nothing(db, engine):
    async with db.unit_of_work() as uow:
        await uow.session.execute(insert(handled_orders).values(event_id="e1", order_id="o1"))
        uow.emit(placed("o1"))

    assert await _outbox_rows(engine) == []
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(handled_orders)) == 0


async def test_the_inbox_answers_only_events_not_seen_before(db):
    first = [HandledEvent("e1", "t", "topic"), HandledEvent("e2", "t", "topic")]
    async with db.unit_of_work() as uow:
        assert await uow.claim(first) == {"e1", "e2"}
        await uow.commit()
    async with db.unit_of_work() as uow:
        again = [HandledEvent("e2", "t", "topic"), HandledEvent("e3", "t", "topic")]
        assert await uow.claim(again) == {"e3"}
        await uow.commit()


async def test_the_relay_is_woken_after_a_commit_that_wrote_events(engine, clock):
    from servicekit.messaging.uow import Database

    woken = []
    db = Database(engine, source="kit-test", clock=clock, on_outbox_written=lambda: woken.append(1))
    async with db.unit_of_work() as uow:
        await uow.commit()
    assert woken == []
    async with db.unit_of_work() as uow:
        uow.emit(placed("o1"))
        await uow.commit()
    assert woken == [1]


class _Repo:
    built = 0

    def __init__(self, session):
        _Repo.built += 1
        self.session = session


async def test_a_units_repository_is_built_once_per_unit_over_its_session(engine, clock):
    from servicekit.messaging.uow import Database, UnitOfWork, repository

    class Unit(UnitOfWork):
        repo = repository(_Repo)

    db = Database(engine, source="kit-test", clock=clock, unit=Unit)
    _Repo.built = 0
    async with db.unit_of_work() as first:
        assert isinstance(first, Unit)
        assert first.repo is first.repo
        assert first.repo.session is first.session
    async with db.unit_of_work() as second:
        assert second.repo is not first.repo
        assert second.repo.session is second.session
    assert _Repo.built == 2
