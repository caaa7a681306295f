"""`/v1/ops/...`, for operators only: the platform's clock (moved on every service when it is
manual), whether the platform has settled, each consumer group's lag, and the dead letters
(listed, replayed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.dependencies import Caller, GatewayDep, require_operator
from servicekit.domain.clock import ManualClock
from servicekit.hosting.http import Problem
from servicekit.operations import ops, topology

router = APIRouter()


class ClockAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(gt=0, le=400 * 86400)


@router.get("/v1/ops/clock")
async def read_clock(caller: Caller, gateway: GatewayDep) -> dict[str, Any]:
    require_operator(caller, "read the platform clock")
    return {
        "now": gateway.clock.now().isoformat(),
        "manual": isinstance(gateway.clock, ManualClock),
    }


@router.post("/v1/ops/clock/advance")
async def advance_clock(move: ClockAdvance, caller: Caller, gateway: GatewayDep) -> dict[str, Any]:
    require_operator(caller, "move the clock")
    if not isinstance(gateway.clock, ManualClock):
        raise Problem(
            409,
            "Clock is not manual",
            "Start the stack with MARKETPLACE_CLOCK=manual to move time",
            slug="clock-not-manual",
        )
    now = gateway.clock.advance(move.seconds).isoformat()
    return {"now": now, "fired": await gateway.upstreams.set_clocks(now)}


@router.get("/v1/ops/settled")
async def settled(caller: Caller, gateway: GatewayDep) -> dict[str, Any]:
    """Whether the platform has finished what it started: no outbox row unpublished, no event
    unhandled, no background worker (cards, e-mails, payouts) with work due, in any service.
    Settled, nothing more happens until a request arrives or time passes: before a deploy,
    and in tests that assert something did not happen."""
    require_operator(caller, "see whether the platform has settled")
    services = await gateway.upstreams.pending()
    if gateway.own_pending is not None:
        services["gateway"] = await gateway.own_pending()
    return {
        "settled": not any(any(work.values()) for work in services.values()),
        "services": services,
    }


@router.get("/v1/ops/consumers")
async def consumers(caller: Caller, gateway: GatewayDep) -> dict[str, Any]:
    """Each consumer group's lag per topic and partition (from `deploy/topics.yaml`)."""
    require_operator(caller, "watch the consumers")
    bootstrap = gateway.settings.kafka_bootstrap_servers
    groups = []
    for group, topics in sorted(topology.consumer_groups().items()):
        rows = await ops.lag(bootstrap, group, topics)
        groups.append(
            {
                "group": group,
                "lag": sum(r.lag for r in rows),
                "partitions": [
                    {
                        "topic": r.topic,
                        "partition": r.partition,
                        "committed": r.committed,
                        "end": r.end,
                        "lag": r.lag,
                    }
                    for r in rows
                ],
            }
        )
    return {"groups": groups}


@router.get("/v1/ops/dead-letters")
async def dead_letters(caller: Caller, gateway: GatewayDep) -> dict[str, Any]:
    require_operator(caller, "read dead letters")
    letters = await ops.dead_letters(gateway.settings.kafka_bootstrap_servers)
    return {"items": [letter.summary() for letter in letters]}


@router.post("/v1/ops/dead-letters/{letter_id}/replay", status_code=202)
async def replay_dead_letter(letter_id: str, caller: Caller, gateway: GatewayDep) -> dict[str, Any]:
    """Publish the dead letter again on its origin topic; consumers deduplicate by event
    id, so replaying something handled meanwhile changes nothing."""
    require_operator(caller, "replay dead letters")
    bootstrap = gateway.settings.kafka_bootstrap_servers
    letter = next((d for d in await ops.dead_letters(bootstrap) if d.id == letter_id), None)
    if letter is None:
        raise Problem(404, "Not found", f"No dead letter {letter_id}", slug="not-found")
    try:
        await ops.replay(bootstrap, letter)
    except ops.ReplayRefused as error:
        # On a secured broker the gateway's user writes only principals.events.
        raise Problem(
            403,
            "Not allowed on the broker",
            f"The gateway's broker user may not write {letter.origin_topic}; replay it with"
            " `marketplace dlq replay` as the operators' broker user",
            slug="broker-forbidden",
        ) from error
    return {"replayed": letter.id, "onto": letter.origin_topic}
