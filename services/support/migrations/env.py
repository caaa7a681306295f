import support.listings_db  # noqa: F401  (declares event_listings on the same metadata, #20)
from servicekit.messaging.migrations import run_env
from support.db import metadata

run_env(metadata)
