import httpx
import pytest
from fastapi import FastAPI

from devstack.processes import free_port
from gateway import api
from gateway.api import Gateway
from gateway.app import MIGRATIONS
from gateway.db import GatewayUnit
from gateway.settings import GatewaySettings
from servicekit.domain.clock import ManualClock
from servicekit.hosting.http import install_problem_handlers
from servicekit.messaging.db import make_engine
from servicekit.messaging.uow import Database

from gateway_test_helpers import NOW, OPERATOR_TOKEN, Upstream, bearer


@pytest.fixture
def clock():
    return ManualClock(NOW)


@pytest.fixture
async def engine(migrated_database):
    engine = make_engine(await migrated_database(MIGRATIONS))
    yield engine
    await engine.dispose()


@pytest.fixture
def db(engine, clock):
    return Database(engine, source="gateway", clock=clock, unit=GatewayUnit)


@pytest.fixture
def upstream():
    return Upstream()


@pytest.fixture
async def gateway(db, clock, upstream):
    settings = GatewaySettings(
        operator_token=OPERATOR_TOKEN,
        internal_token="internal-secret",
        orders_url="http://orders.invalid",
        payments_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        upstream_timeout_seconds=5,
    )
    gateway = Gateway(settings, db, clock)
    await gateway.upstreams.clients["orders"].aclose()
    gateway.upstreams.clients["orders"] = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=upstream.app), base_url="http://orders"
    )
    await gateway.bootstrap_operator()
    yield gateway
    await gateway.close()


@pytest.fixture
async def client(gateway):
    app = FastAPI()
    install_problem_handlers(app)
    api.install(app, gateway)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


@pytest.fixture
def operator():
    return bearer(OPERATOR_TOKEN)


@pytest.fixture
async def buyer(client, operator):
    answer = await client.post(
        "/v1/principals",
        json={"role": "buyer", "name": "Bea Buyer", "email": "bea@example.com"},
        headers=operator,
    )
    assert answer.status_code == 201, answer.text
    return bearer(answer.json()["token"])
