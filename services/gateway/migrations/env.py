import gateway.portal.sessions  # noqa: F401  (its table is on the same metadata)
from gateway.db import metadata
from servicekit.messaging.migrations import run_env

run_env(metadata)
