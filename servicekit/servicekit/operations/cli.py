"""`marketplace`: the operator's command line on the broker.

    marketplace topics                       topics, partitions and end offsets
    marketplace create-topics [--replication-factor N]   every topic deploy/topics.yaml declares
    marketplace tail TOPIC [--order ID] [--type T] [--follow] [--from-end]
    marketplace lag GROUP TOPIC [TOPIC ...]  how far a consumer group is behind
    marketplace dlq list | show ID | replay ID
    marketplace replay-projection [NAME]     rebuild a service's view from its events (no NAME:
                                             list the projections installed here)

The broker is `KAFKA_BOOTSTRAP_SERVERS` (or `--bootstrap`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from servicekit.operations import ops, projections


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _topics(args: argparse.Namespace) -> int:
    for name, ends in (await ops.end_offsets(args.bootstrap)).items():
        _print(f"{name:<45} partitions={len(ends):<3} end_offsets={ends} total={sum(ends)}")
    return 0


async def _create_topics(args: argparse.Namespace) -> int:
    created = await ops.create_declared_topics(
        args.bootstrap, replication_factor=args.replication_factor, path=args.file
    )
    for name in created:
        _print(f"created {name}")
    _print(f"{len(created)} topic(s) created; the others existed")
    return 0


async def _tail(args: argparse.Namespace) -> int:
    async for record in ops.read(
        args.bootstrap, args.topic, from_beginning=not args.from_end, follow=args.follow
    ):
        shown = ops.describe(record)
        if args.order and shown["key"] != args.order:
            continue
        if args.type and args.type not in (shown.get("type") or ""):
            continue
        _print(
            f"{shown.get('time') or '-':<32} {shown.get('type') or '?':<48} "
            f"key={shown['key']} correlation={shown.get('correlation_id')} "
            f"{json.dumps(shown.get('data'), sort_keys=True)}"
        )
    return 0


async def _lag(args: argparse.Namespace) -> int:
    rows = await ops.lag(args.bootstrap, args.group, args.topics)
    for row in rows:
        _print(
            f"{row.topic:<30} partition={row.partition:<3} committed={row.committed} "
            f"end={row.end} lag={row.lag}"
        )
    _print(f"total lag {sum(r.lag for r in rows)}")
    return 0


async def _dlq(args: argparse.Namespace) -> int:
    letters = await ops.dead_letters(args.bootstrap)
    if args.action == "list":
        for letter in letters:
            view = letter.summary()
            _print(f"{view['id']:<60} {view['reason']:<16} {view['type']} {view['error']}")
        _print(f"{len(letters)} dead letter(s)")
        return 0
    chosen = next((letter for letter in letters if letter.id == args.id), None)
    if chosen is None:
        _print(f"no dead letter {args.id}")
        return 1
    if args.action == "show":
        _print(
            json.dumps(chosen.summary() | {"body": chosen.value.decode(errors="replace")}, indent=2)
        )
        return 0
    await ops.replay(args.bootstrap, chosen)
    _print(f"replayed {chosen.id} onto {chosen.origin_topic}")
    return 0


async def _replay_projection(args: argparse.Namespace) -> int:
    available = projections.registered()
    if not args.name:
        for name, build in sorted(available.items()):
            _print(f"{name:<40} {(build.__doc__ or '').strip().splitlines()[0]}")
        return 0
    if args.name not in available:
        _print(f"no projection {args.name} here; installed: {', '.join(sorted(available))}")
        return 1
    projection = available[args.name]()
    try:
        result = await projections.rebuild(projection)
    except projections.HistoryIncomplete as error:
        _print(f"refused: {error}")
        return 1
    finally:
        await projection.db.engine.dispose()
    _print(
        f"rebuilt {result.name} from {result.events} event(s): rows before {result.rows_before}, "
        f"after {result.rows_after}"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="marketplace", description="The operator's command line on the broker"
    )
    root.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("topics", help="topics, partitions and end offsets")
    create = commands.add_parser(
        "create-topics", help="create the topics deploy/topics.yaml declares (idempotent)"
    )
    create.add_argument(
        "--replication-factor",
        type=int,
        help="override the file's replication factor (1 on a single-broker cluster)",
    )
    create.add_argument("--file", type=Path, help="a topics file other than deploy/topics.yaml")
    tail = commands.add_parser("tail", help="decoded events on a topic")
    tail.add_argument("topic")
    tail.add_argument("--order", help="only this order's (or seller's) events: the key")
    tail.add_argument("--type", help="only event types containing this")
    tail.add_argument("--follow", action="store_true", help="keep printing new events")
    tail.add_argument("--from-end", action="store_true", help="only events from now on")
    lag = commands.add_parser("lag", help="a consumer group's lag per partition")
    lag.add_argument("group")
    lag.add_argument("topics", nargs="+")
    dlq = commands.add_parser("dlq", help="dead letters")
    dlq_actions = dlq.add_subparsers(dest="action", required=True)
    dlq_actions.add_parser("list")
    for action in ("show", "replay"):
        dlq_actions.add_parser(action).add_argument("id")
    replay = commands.add_parser(
        "replay-projection", help="rebuild a view from the events it was made of"
    )
    replay.add_argument("name", nargs="?", help="the projection; none lists them")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run = {
        "topics": _topics,
        "create-topics": _create_topics,
        "tail": _tail,
        "lag": _lag,
        "dlq": _dlq,
        "replay-projection": _replay_projection,
    }[args.command]
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
