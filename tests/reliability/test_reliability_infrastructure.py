"""Faults in what the services stand on, while orders flow: the broker frozen past the
request timeout, PostgreSQL refusing connections, consumers joining and leaving their group,
poison messages, and a SIGTERM in the middle of a long handler. Plus the negative control:
a consumer that acknowledges before it commits (at-most-once) loses an event, and the audit
says so."""

import asyncio
import json
import signal
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from contracts import Money
from contracts.support import TicketResolved
from servicekit.operations import ops
from servicekit.testing import produce, publish

from reliability_audit import problems
from reliability_journeys import accept_and_ship, deliver, finish, place, run

PAUSE_SECONDS = 8  # past the relays' request timeout (5 s) in the reliability stack


def test_a_broker_frozen_past_the_request_timeout_loses_nothing(
    fault_stack, fault_broker, crowd, supervisor
):
    broker = fault_broker[0].process
    first, later = crowd.journeys(3), crowd.journeys(2)
    place(first)
    broker.send_signal(signal.SIGSTOP)
    try:
        place(later)  # accepted into the outboxes while nothing can be published
        time.sleep(PAUSE_SECONDS)
    finally:
        broker.send_signal(signal.SIGCONT)

    journeys = first + later
    accept_and_ship(journeys)
    deliver(crowd, journeys)
    finish(crowd, journeys)

    assert supervisor.deaths == []
    assert problems(fault_stack, crowd, journeys) == []


def test_postgresql_refusing_connections_for_ten_seconds_loses_nothing(
    fault_stack, postgres_server, crowd, supervisor
):
    journeys = crowd.journeys(4, disputed_every=2)
    place(journeys)
    databases = [make_url(url).database for url in fault_stack.config.database_urls.values()]
    asyncio.run(_refuse_connections(postgres_server, databases, seconds=10))
    accept_and_ship(journeys)
    deliver(crowd, journeys)
    finish(crowd, journeys)

    assert supervisor.deaths == []
    assert problems(fault_stack, crowd, journeys) == []


async def _refuse_connections(server: str, databases: list[str], *, seconds: float) -> None:
    """Every database of the stack refuses new connections and drops the ones it has."""
    dsn = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    try:
        for name in databases:
            await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
        await asyncio.sleep(seconds)
    finally:
        for name in databases:
            await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        await admin.close()


def test_consumers_joining_and_leaving_under_load_lose_and_repeat_nothing(
    fault_stack, crowd, supervisor
):
    rounds = 2
    churned = threading.Event()

    def churn() -> None:  # a second replica of the busiest consumers comes and goes
        try:
            for number in range(1, rounds + 1):
                replicas = [fault_stack.replica(name, number) for name in ("orders", "payments")]
                for replica in replicas:
                    replica.launch()
                for replica in replicas:
                    replica.wait_ready(timeout=90)
                time.sleep(1)
                for replica in replicas:
                    replica.stop()
        finally:
            churned.set()

    churning = threading.Thread(target=churn)
    churning.start()
    journeys = []
    while not churned.is_set():  # orders keep coming, a wave at a time, until it is over
        wave = crowd.journeys(4, disputed_every=2)
        run(crowd, wave)
        journeys += wave
    churning.join()

    assert len(journeys) >= 4
    assert problems(fault_stack, crowd, journeys) == []


def test_poison_messages_are_dead_lettered_with_their_reason_while_orders_flow(
    fault_stack, crowd, supervisor
):
    journeys = crowd.journeys(4, disputed_every=2)
    place(journeys)
    poison_key = f"ord_poison_{uuid.uuid4().hex[:12]}"
    asyncio.run(_poison(fault_stack.bootstrap, poison_key))
    accept_and_ship(journeys)
    deliver(crowd, journeys)
    finish(crowd, journeys)

    letters = asyncio.run(_letters_for(fault_stack.bootstrap, poison_key, expect=9))
    reasons = Counter((letter.group, letter.reason) for letter in letters)
    for group in ("payments", "support", "seller_standards", "notifications"):
        assert reasons[(group, "invalid_message")] == 2, reasons  # each of orders.events' groups
    assert reasons[("payments", "handler_failed")] == 1, reasons
    assert all(letter.error for letter in letters)  # each says why
    assert supervisor.deaths == []
    assert problems(fault_stack, crowd, journeys) == []


async def _poison(bootstrap: str, key: str) -> None:
    headers = {"ce_id": str(uuid.uuid4()), "ce_type": "marketplace.order.placed.v1"}
    not_json = (key, b"{not json", headers)
    envelope = {"id": str(uuid.uuid4()), "type": "marketplace.order.placed.v1", "data": {}}
    invalid = (key, json.dumps(envelope).encode(), headers | {"ce_id": envelope["id"]})
    await produce(bootstrap, "orders.events", [not_json, invalid])
    # valid by its schema, but a credit of nothing for an order payments never saw: the
    # handler fails on it every time
    unknown = TicketResolved(
        ticket_id=f"tkt_{uuid.uuid4().hex[:8]}",
        order_id=key,
        buyer_id="usr_nobody",
        seller_id="usr_nobody",
        action="credit",
        amount=Money(amount_minor=0, currency="EUR"),
        note="poison",
        resolved_by="usr_agent",
        resolved_at=datetime.now(UTC),
    )
    await publish(bootstrap, unknown, source="support", time=datetime.now(UTC))


async def _letters_for(bootstrap: str, key: str, *, expect: int) -> list[ops.DeadLetter]:
    deadline = time.monotonic() + 60
    while True:
        found = [letter for letter in await ops.dead_letters(bootstrap) if letter.key == key]
        if len(found) >= expect or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


def test_a_service_stopped_during_a_long_handler_shuts_down_cleanly_and_loses_nothing(
    fault_stack, crowd, supervisor
):
    supervisor.arm(
        "payments",
        MARKETPLACE_FAILPOINTS="consumer.handling=sleep:4@marketplace.order.shipped.v1",
    )
    payments = fault_stack.child("payments")
    logged = payments.log_file.stat().st_size
    journeys = crowd.journeys(3)
    place(journeys)
    accept_and_ship(journeys)
    _wait_for_line(payments.log_file, "failpoint reached", after=logged)
    payments.process.send_signal(signal.SIGTERM)  # in the middle of the handler
    payments.process.wait(30)
    # a clean shutdown: the lifespan ran to its end (uvicorn exits by the signal it got)
    _wait_for_line(payments.log_file, '"event": "service stopped"', after=logged, timeout=1)

    deliver(crowd, journeys)
    finish(crowd, journeys)

    assert supervisor.deaths == ["payments"]
    assert problems(fault_stack, crowd, journeys) == []


def _wait_for_line(log_file: Path, text: str, *, after: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(log_file, "rb") as log:
            log.seek(after)
            if text.encode() in log.read():
                return
        time.sleep(0.1)
    raise AssertionError(f"{log_file.name} never logged {text!r}")


def test_negative_control_an_at_most_once_consumer_loses_an_event_and_the_audit_says_so(
    fault_stack, crowd, supervisor
):
    # Seller standards acknowledges each shipment's batch without committing it: the events
    # are gone for it, while the orders themselves complete.
    supervisor.arm(
        "seller_standards",
        MARKETPLACE_FAILPOINTS="consumer.before_commit=drop@marketplace.order.shipped.v1",
    )
    journeys = crowd.journeys(2)
    run(crowd, journeys)

    found = problems(fault_stack, crowd, journeys)
    assert found, "the audit did not notice the lost events"
    assert all("seller's standards lack its shipment" in problem for problem in found), found
    assert len(found) == len(journeys)
