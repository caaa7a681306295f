"""The kit's tables come from one helper every service's migrations call, and new migrations
from one template the kit lends each service's folder."""

from pathlib import Path

import pytest

from servicekit.messaging.migrations import autogenerate, unmigrated_changes

ENV = """from sqlalchemy import MetaData

from servicekit.messaging.migrations import run_env

run_env(MetaData())
"""

FIRST_MIGRATION = """from servicekit.messaging.migrations import create_kit_tables, drop_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables()


def downgrade() -> None:
    drop_kit_tables()
"""


@pytest.fixture
def kit_only_migrations(tmp_path: Path) -> Path:
    """A service with no tables of its own: its first migration makes the kit's."""
    folder = tmp_path / "migrations"
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(ENV)
    (folder / "versions" / "0001_kit.py").write_text(FIRST_MIGRATION)
    return folder


async def test_create_kit_tables_makes_exactly_the_outbox_and_inbox_the_kit_declares(
    kit_only_migrations,
):
    assert await unmigrated_changes(kit_only_migrations) is None


async def test_a_new_migration_is_written_from_the_kit_template_which_is_not_left_behind(
    kit_only_migrations,
):
    await autogenerate(kit_only_migrations, "nothing changed")

    [written] = (kit_only_migrations / "versions").glob("*_nothing_changed.py")
    assert written.read_text().startswith('"""nothing changed\n')
    assert "down_revision = '0001'" in written.read_text()
    assert not (kit_only_migrations / "script.py.mako").exists()
