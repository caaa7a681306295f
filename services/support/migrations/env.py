from servicekit.messaging.migrations import run_env
from support.db import metadata

run_env(metadata)
