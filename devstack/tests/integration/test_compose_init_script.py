"""docker-compose.yml's PostgreSQL init script (deploy/postgres/init-databases.sh), run against the
real PostgreSQL: each service gets a database only its own role can open."""

import asyncio
import os
import uuid
from asyncio.subprocess import PIPE

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from devstack.deployment import REPO_ROOT


async def test_the_init_script_gives_each_service_a_database_only_its_role_can_open(
    postgres_server,
):
    if postgres_server is None:
        pytest.skip("no PostgreSQL answers")
    server = make_url(postgres_server)
    host, port = server.host or "127.0.0.1", server.port or 5432
    suffix = uuid.uuid4().hex[:6]
    names = [f"svc_a_{suffix}", f"svc_b_{suffix}"]
    env = os.environ | {
        "MARKETPLACE_DATABASES": " ".join(names),
        "PGHOST": host,
        "PGPORT": str(port),
        "PGPASSWORD": server.password or "",
        "POSTGRES_USER": server.username or "postgres",
    }
    env |= {f"{name.upper()}_DB_PASSWORD": f"secret-{name}" for name in names}
    script = REPO_ROOT / "deploy" / "postgres" / "init-databases.sh"
    try:
        process = await asyncio.create_subprocess_exec(
            "bash", str(script), env=env, stdout=PIPE, stderr=PIPE
        )
        _, errors = await process.communicate()
        assert process.returncode == 0, errors.decode()
        a, b = names
        own = await asyncpg.connect(
            host=host, port=port, user=a, password=f"secret-{a}", database=a
        )
        owner = await own.fetchval(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", a
        )
        await own.close()
        assert owner == a
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await asyncpg.connect(host=host, port=port, user=a, password=f"secret-{a}", database=b)
    finally:
        admin = await asyncpg.connect(
            server.set(drivername="postgresql").render_as_string(hide_password=False)
        )
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
        await admin.close()
