"""Prometheus metrics the kit records for every service (served on /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "marketplace_events_consumed_total",
    "Events taken from Kafka by outcome: handled, duplicate, ignored (a type this service "
    "does not handle), dead_lettered",
    ["group", "outcome"],
)
BATCH_RETRIES = Counter(
    "marketplace_batch_retries_total",
    "Batches retried because the database or another dependency failed",
    ["group"],
)
OUTBOX_PUBLISHED = Counter(
    "marketplace_outbox_published_total", "Messages the relay published", ["topic"]
)
OUTBOX_BACKLOG = Gauge(
    "marketplace_outbox_backlog", "Outbox rows not yet published (at the last relay pass)"
)
RELAY_FAILURES = Counter(
    "marketplace_relay_failures_total", "Relay passes that failed and will be retried"
)
TIMERS_FIRED = Counter(
    "marketplace_timers_fired_total", "Deadlines that came due and fired", ["timer"]
)
HTTP_REQUESTS = Histogram(
    "marketplace_http_request_seconds", "HTTP request duration", ["method", "route", "status"]
)
HANDLER_SECONDS = Histogram(
    "marketplace_handler_seconds",
    "Time a handler took for one run of consecutive events of one type within a batch",
    ["group", "event_type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BATCH_SECONDS = Histogram(
    "marketplace_batch_seconds",
    "Time from taking a batch from Kafka to its committed transaction (retries included)",
    ["group"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CONSUMER_LAG = Gauge(
    "marketplace_consumer_lag",
    "Events on a partition the service's consumer group has not committed yet (read from "
    "the broker when /metrics is scraped)",
    ["group", "topic", "partition"],
)
