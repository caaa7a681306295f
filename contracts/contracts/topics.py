"""Topic names. Each service publishes on `<service>.events` (the gateway on
`principals.events`); `deploy/topics.yaml` lists partitions, retention and consumer groups,
and `devstack/tests/test_topology.py` keeps the two in step with the code."""

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
