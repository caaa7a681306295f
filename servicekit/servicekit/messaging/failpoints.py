"""Failpoints: named places in the consumer and the relay where the reliability suite
(`tests/reliability/`) makes a real service process fail at exactly the moment it means to
test, such as between the database commit and the offset commit.

They are armed with `MARKETPLACE_FAILPOINTS`, which production never sets; unarmed, reaching
a failpoint costs one dictionary lookup. The format is `name=action[@event type]`, several
separated by `;`:

    consumer.before_commit=kill@marketplace.order.shipped.v1;relay.after_publish=kill

Actions:
- `kill`: the process sends itself SIGKILL, so nothing after that point runs (a power cut).
- `sleep:<seconds>`: a slow step, for example a long handler that SIGTERM interrupts.
- `drop`: only at `consumer.before_commit`. The batch is acknowledged without its
  transaction being committed: at-most-once delivery, which the suite's negative control
  uses to show that its checks catch a lost event.

With `@<event type>`, the failpoint fires only for a batch holding an event of that type.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, cast

import structlog

log = structlog.get_logger(__name__)

Action = Literal["kill", "sleep", "drop"]
NAMES = (
    "consumer.handling",  # before a run of events is handed to its handler
    "consumer.before_commit",  # the batch is handled, its transaction not yet committed
    "consumer.after_commit",  # the transaction is committed, the offsets not yet
    "relay.after_publish",  # outbox rows are acknowledged by Kafka, not yet deleted
    "payouts.after_transfer",  # payments: Stripe made a payout's transfer, not yet recorded
)


@dataclass(frozen=True)
class Failpoint:
    action: Action
    seconds: float = 0.0
    only_with: str | None = None


_armed: dict[str, Failpoint] = {}


def parse(spec: str) -> dict[str, Failpoint]:
    found: dict[str, Failpoint] = {}
    for part in filter(None, (piece.strip() for piece in spec.split(";"))):
        name, _, rest = part.partition("=")
        action, _, only_with = rest.partition("@")
        verb, _, argument = action.partition(":")
        if name not in NAMES:
            raise ValueError(f"unknown failpoint {name!r}; known: {', '.join(NAMES)}")
        if verb not in ("kill", "sleep", "drop"):
            raise ValueError(f"unknown failpoint action {verb!r} in {part!r}")
        if verb == "drop" and name != "consumer.before_commit":
            raise ValueError("`drop` only applies at consumer.before_commit")
        found[name] = Failpoint(cast(Action, verb), float(argument or 0), only_with or None)
    return found


def arm(spec: str) -> None:
    _armed.clear()
    _armed.update(parse(spec))
    if _armed:
        log.warning("failpoints armed: this process will fail on purpose", failpoints=spec)


async def reached(name: str, event_types: Iterable[str] = ()) -> Action | None:
    """Run the failpoint `name` if it is armed (for these event types); answer its action."""
    point = _armed.get(name)
    if point is None or (point.only_with and point.only_with not in event_types):
        return None
    log.warning("failpoint reached", failpoint=name, action=point.action)
    if point.action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif point.action == "sleep":
        await asyncio.sleep(point.seconds)
    return point.action
