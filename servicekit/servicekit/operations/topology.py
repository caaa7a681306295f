"""Reads `deploy/topics.yaml`: which topics exist, who produces and consumes them, and the
dead-letter topics that follow from that."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
# The repository's file; a deployment points MARKETPLACE_TOPICS_FILE at its copy.
TOPICS_FILE = Path(
    os.environ.get("MARKETPLACE_TOPICS_FILE") or REPO_ROOT / "deploy" / "topics.yaml"
)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    producer: str | None
    consumers: tuple[str, ...]
    dead_letter_of: str | None = None
    replication_factor: int = 3
    # Kafka topic configs (`retention.ms`, `min.insync.replicas`), as strings the way Kafka
    # and Strimzi take them.
    config: dict[str, str] = field(default_factory=dict)


def load(path: Path = TOPICS_FILE) -> list[TopicSpec]:
    document = yaml.safe_load(path.read_text())
    defaults = document["defaults"]
    replicas = defaults["replication_factor"]

    def config(retention_ms: int) -> dict[str, str]:
        return {
            "retention.ms": str(retention_ms),
            "min.insync.replicas": str(defaults["min_insync_replicas"]),
        }

    specs: list[TopicSpec] = []
    for topic in document["topics"]:
        consumers = tuple(topic.get("consumers", ()))
        specs.append(
            TopicSpec(
                topic["name"],
                topic.get("partitions", defaults["partitions"]),
                topic.get("producer"),
                consumers,
                replication_factor=replicas,
                config=config(topic.get("retention_ms", defaults["retention_ms"])),
            )
        )
        specs += [
            TopicSpec(
                f"{topic['name']}.{group}.dlq",
                defaults["dlq_partitions"],
                group,
                (),
                dead_letter_of=topic["name"],
                replication_factor=replicas,
                config=config(defaults["dlq_retention_ms"]),
            )
            for group in consumers
        ]
    return specs


def consumer_groups(path: Path = TOPICS_FILE) -> dict[str, list[str]]:
    """Each consumer group and the topics it reads."""
    groups: dict[str, list[str]] = {}
    for spec in load(path):
        for group in spec.consumers:
            groups.setdefault(group, []).append(spec.name)
    return groups


def inbox_keep(group: str, path: Path = TOPICS_FILE) -> dict[str, timedelta | None]:
    """How long `group`'s inbox must remember an event of each topic it reads: while the topic
    may still deliver it (its retention) and while a dead letter of it may be replayed (the
    group's dead-letter topic's retention), whichever is longer; None: for ever (retention
    -1). The rows are pruned after that (`servicekit.messaging.inbox_pruning`)."""
    specs = {spec.name: spec for spec in load(path)}

    def retention(name: str) -> timedelta | None:
        spec = specs.get(name)
        kept = int(spec.config["retention.ms"]) if spec is not None else -1
        return None if kept < 0 else timedelta(milliseconds=kept)

    keep: dict[str, timedelta | None] = {}
    for spec in specs.values():
        if group in spec.consumers:
            spans = [retention(spec.name), retention(f"{spec.name}.{group}.dlq")]
            keep[spec.name] = None if None in spans else max(s for s in spans if s is not None)
    return keep
