"""Topic names. Each service publishes on `<service>.events` (the gateway on
`principals.events`); `deploy/topics.yaml` lists partitions, retention and consumer groups,
and `devstack/tests/unit/test_topology.py` keeps the two in step with the code."""

ORDERS_EVENTS = "orders.events"
PAYMENTS_EVENTS = "payments.events"
SUPPORT_EVENTS = "support.events"
SELLER_STANDARDS_EVENTS = "seller_standards.events"
PRINCIPALS_EVENTS = "principals.events"

ALL_EVENT_TOPICS = (
    ORDERS_EVENTS,
    PAYMENTS_EVENTS,
    SUPPORT_EVENTS,
    SELLER_STANDARDS_EVENTS,
    PRINCIPALS_EVENTS,
)


def dead_letter_topic(topic: str, group: str) -> str:
    """Where a consumer group parks the messages of `topic` it could not handle."""
    return f"{topic}.{group}.dlq"


# Who may publish on each topic: the `source` of every event on it. A consumer dead-letters an
# event whose envelope names another source (the broker's ACLs are the first guard; this is
# the second, and the only one on the open development broker).
TOPIC_OWNERS: dict[str, str] = {
    ORDERS_EVENTS: "orders",
    PAYMENTS_EVENTS: "payments",
    SUPPORT_EVENTS: "support",
    SELLER_STANDARDS_EVENTS: "seller_standards",
    PRINCIPALS_EVENTS: "gateway",
}


def source_fault(topic: str, source: str) -> str | None:
    """Why an event from `source` does not belong on `topic`, or None when it does."""
    owner = TOPIC_OWNERS.get(topic)
    if owner is None or owner == source:
        return None
    return f"source {source!r} may not publish on {topic} (its owner is {owner!r})"
