"""State and events in one transaction: databases and migrations, the unit of work, the
outbox relay, the batch consumer, workers, the broker connection and the kit's metrics."""
