from orders.db import metadata
from servicekit.messaging.migrations import run_env

run_env(metadata)
