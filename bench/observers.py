"""What the lifecycle bench (`lifecycle.py`) watches while it drives the platform: every event
published on the platform's topics with the broker's timestamp, the e-mails the SMTP catcher
kept, the services' published-events counters, and each process's CPU time and peak memory.

All times are seconds since the epoch on this machine's clock, the one the producers stamp
Kafka records with and the one the SMTP catcher's files are written at.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

EVENT_TOPICS = ("orders.events", "payments.events", "support.events", "seller_standards.events")


@dataclass(frozen=True)
class Seen:
    """One event as it was published: its type, key, ids, the broker timestamp and data."""

    type: str
    key: str
    event_id: str
    causation_id: str | None
    at: float
    data: dict[str, Any]


Wanted = Callable[[Seen], bool]


class Tail:
    """Every event published on the platform's topics from `start()` on, indexed by key and
    type, with waiters: the bench's clients act on what they see here instead of polling the
    API (a seller accepts once the payment is authorized, an agent resolves the ticket that
    opened). It fetches with a short wait (50 ms, the broker's default is 500) so that it sees
    an event soon after it is published."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
        )
        self.by_key: dict[tuple[str, str], list[Seen]] = defaultdict(list)
        self.by_id: dict[str, Seen] = {}
        self._waiters: dict[tuple[str, str], list[tuple[Wanted, asyncio.Future[Seen]]]] = (
            defaultdict(list)
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        await self.consumer.topics()  # load the topics' partitions
        partitions = [
            TopicPartition(topic, p)
            for topic in EVENT_TOPICS
            for p in sorted(self.consumer.partitions_for_topic(topic) or ())
        ]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        for partition in partitions:  # fix the starting offsets before anything is driven
            await self.consumer.position(partition)
        self._task = asyncio.create_task(self._read(), name="tail")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()

    async def _read(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batch.values():
                for record in records:
                    self._add(_decode(record))

    def _add(self, seen: Seen) -> None:
        self.by_key[(seen.key, seen.type)].append(seen)
        self.by_id[seen.event_id] = seen
        waiting = self._waiters.get((seen.key, seen.type), [])
        for wanted, future in list(waiting):
            if not future.done() and wanted(seen):
                future.set_result(seen)
                waiting.remove((wanted, future))

    def first(self, key: str, type_name: str, wanted: Wanted = lambda _: True) -> Seen | None:
        return next((seen for seen in self.by_key.get((key, type_name), ()) if wanted(seen)), None)

    def history(self, key: str) -> list[Seen]:
        """Every event seen on `key`, in the order they were published."""
        found = [s for (k, _), seen in self.by_key.items() if k == key for s in seen]
        return sorted(found, key=lambda seen: seen.at)

    def of_type(self, type_name: str) -> list[Seen]:
        return [s for (_, t), seen in self.by_key.items() if t == type_name for s in seen]

    async def wait_for(
        self, key: str, type_name: str, timeout: float, wanted: Wanted = lambda _: True
    ) -> Seen:
        """The first event of `type_name` on `key` that is `wanted`, once it is published."""
        found = self.first(key, type_name, wanted)
        if found is not None:
            return found
        future: asyncio.Future[Seen] = asyncio.get_running_loop().create_future()
        self._waiters[(key, type_name)].append((wanted, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"no {type_name} for {key} within {timeout:.0f} s") from None


def _decode(record: ConsumerRecord) -> Seen:
    headers = {name: value.decode() for name, value in record.headers or ()}
    body = orjson.loads(record.value or b"{}")
    return Seen(
        type=headers.get("ce_type") or body.get("type", ""),
        key=(record.key or b"").decode(),
        event_id=headers.get("ce_id") or str(body.get("id", "")),
        causation_id=body.get("causation_id"),
        at=record.timestamp / 1000,
        data=body.get("data") or {},
    )


def mail_count(maildir: Path) -> int:
    """How many e-mails the SMTP catcher has kept so far."""
    return sum(1 for _ in (maildir / "new").iterdir())


def mail_times(maildir: Path) -> dict[str, float]:
    """When each e-mail reached the SMTP catcher (its file's modification time), by the
    notification id the notifications service puts in `X-Notification-Id`."""
    parser = BytesHeaderParser()
    found = {}
    for path in (maildir / "new").iterdir():
        with path.open("rb") as mail:
            notification_id = parser.parse(mail).get("X-Notification-Id")
        if notification_id:
            found[notification_id] = path.stat().st_mtime
    return found


COUNTERS = {  # what the bench reads from each service's /metrics, summed over labels
    "published": "marketplace_outbox_published_total{",
    "handled": 'marketplace_events_consumed_total{group="{service}",outcome="handled"}',
    "batches": "marketplace_batch_seconds_count{",
    "batch_seconds": "marketplace_batch_seconds_sum{",
}


async def scrape(service_urls: dict[str, str]) -> dict[str, dict[str, float]]:
    """Each service's counters: events its relay published, events its consumer handled,
    and the batches it took with the seconds they took (from taking to committing)."""
    found: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(timeout=30) as http:
        for service, url in service_urls.items():
            lines = (await http.get(f"{url}/metrics")).text.splitlines()
            found[service] = {
                name: sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in lines
                    if line.startswith(prefix.replace("{service}", service))
                )
                for name, prefix in COUNTERS.items()
            }
    return found


SELF = "bench (this process)"
POSTGRES = "postgresql (the bench's databases)"


def cpu_seconds(pids: dict[str, int], databases: set[str]) -> dict[str, float]:
    """CPU seconds (user and system) used so far by each named process, by this process, and
    by the PostgreSQL backends serving `databases` (a backend that ended is not counted)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {name: _proc_cpu(pid, tick) for name, pid in pids.items()}
    own = resource.getrusage(resource.RUSAGE_SELF)
    used[SELF] = own.ru_utime + own.ru_stime
    used[POSTGRES] = sum(_proc_cpu(pid, tick) for pid in _postgres_backends(databases))
    return used


def peak_memory_mib(pids: dict[str, int]) -> dict[str, float]:
    """Each process's peak resident memory (VmHWM) so far."""
    found = {}
    for name, pid in pids.items():
        status = Path(f"/proc/{pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        found[name] = kib / 1024
    return found


def _proc_cpu(pid: int, tick: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # it ended meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / tick


def _postgres_backends(databases: set[str]) -> list[int]:
    """PostgreSQL backends show `postgres: <cluster>: <user> <database> <client> <state>`."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if title.startswith("postgres:") and databases & set(title.split()):
            found.append(int(entry.name))
    return found
