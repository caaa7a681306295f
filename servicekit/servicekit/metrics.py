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
