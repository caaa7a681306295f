"""Every service's migrations make exactly the tables its code declares: a table or column
added to a model without its migration would only show on a fresh deployment."""

import importlib
from pathlib import Path

import pytest

from servicekit.messaging.migrations import unmigrated_changes

SERVICES = ["orders", "payments", "support", "seller_standards", "notifications", "gateway"]


@pytest.mark.parametrize("service", SERVICES)
async def test_the_migrations_make_what_the_models_declare(service):
    migrations: Path = importlib.import_module(f"{service}.app").MIGRATIONS
    assert await unmigrated_changes(migrations) is None
