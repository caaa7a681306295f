from sqlalchemy import func, select

from servicekit.messaging.db import insert_ignoring_duplicates, insert_or_ignore

from kit_helpers import handled_orders


async def test_insert_or_ignore_inserts_a_new_key_once_and_answers_whether_it_did(db):
    async with db.unit_of_work() as uow:
        assert await insert_or_ignore(uow.session, handled_orders, event_id="e1", order_id="o1")
        assert not await insert_or_ignore(uow.session, handled_orders, event_id="e1", order_id="o2")
        await uow.commit()

    async with db.unit_of_work() as uow:
        rows = (await uow.session.execute(select(handled_orders))).all()
    assert [(row.event_id, row.order_id) for row in rows] == [("e1", "o1")]


async def test_insert_ignoring_duplicates_takes_a_session_or_what_it_is_bound_to(db):
    async with db.unit_of_work() as uow:
        for bind, event_id in ((uow.session, "e1"), (uow.session.bind, "e2")):
            statement = insert_ignoring_duplicates(bind, handled_orders)
            await uow.session.execute(statement.values(event_id=event_id, order_id="o1"))
            await uow.session.execute(statement.values(event_id=event_id, order_id="o2"))
        count = await uow.session.scalar(select(func.count()).select_from(handled_orders))
    assert count == 2
