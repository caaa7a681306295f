"""`marketplace replay-projection seller_standards.order_facts` works in production only if
the topics it reads still hold every event of the window it rebuilds: each topic it replays
from keeps its events at least the policy's window (and the surge baseline before it) plus
a margin; its own topic (exemptions, flags, decisions) keeps them for good."""

from datetime import timedelta

from seller_standards.app import policy_of
from seller_standards.handlers import replay_router
from seller_standards.settings import StandardsSettings
from servicekit.operations import topology

MARGIN = timedelta(days=7)


def test_every_topic_the_replay_reads_keeps_its_events_for_the_whole_window():
    policy = policy_of(StandardsSettings())
    needed = policy.window + policy.surge_baseline + MARGIN
    retention = {
        spec.name: int(spec.config["retention.ms"])
        for spec in topology.load()
        if spec.dead_letter_of is None
    }
    topics = replay_router(None).topics  # type: ignore[arg-type]
    assert {"orders.events", "support.events", "seller_standards.events"} <= set(topics)
    for topic in topics:
        kept = retention[topic]
        assert kept == -1 or timedelta(milliseconds=kept) >= needed, topic
    assert retention["seller_standards.events"] == -1  # decisions are the record
