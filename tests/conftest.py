"""The platform end to end: one stack per test session, on the real broker, localstripe and
PostgreSQL (SQLite where no PostgreSQL answers), driven through the gateway over HTTP."""

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import select

from devstack.pytest_plugin import drop_postgres_database, fresh_postgres_database
from devstack.stack import SERVICES, Stack, StackConfig
from devstack.state import StackState
from payments.db import payments
from servicekit.messaging.db import make_engine

from e2e_helpers import Api
from portal_browser_helpers import CHROMIUM, FLAGS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `pytest -n` (pytest-xdist, `--dist loadgroup`) every test on the platform runs in
    one worker, so the session starts one stack; the package tests share the other workers."""
    for item in items:
        if "platform" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("platform"))


@pytest.fixture(scope="session")
def platform(
    kafka_bootstrap, stripe_api_base, smtp_server, postgres_server, port_plan, tmp_path_factory
) -> Iterator[Stack]:
    databases: dict[str, tuple[str, str]] = {}
    if postgres_server:
        for name in (*(name for name, _, _ in SERVICES), "gateway"):
            databases[name] = fresh_postgres_database(postgres_server)
    config = StackConfig.on_parts(
        tmp_path_factory.mktemp("platform"),
        bootstrap=kafka_bootstrap,
        stripe_api_base=stripe_api_base,
        smtp=smtp_server,
        database_urls={name: url for name, (url, _) in databases.items()},
        ports=port_plan,  # the session's free ports: never `make run`'s, nor another run's
    )
    stack = Stack(config)
    try:
        stack.start()
        yield stack
        assert_every_ledger_balances(stack)
    finally:
        stack.stop()
        for _, database in databases.values():
            drop_postgres_database(postgres_server, database)


@pytest.fixture(scope="session")
def gateway_url(platform: Stack) -> str:
    """From the state file the stack leaves, as any tool reaching a running stack does."""
    state = StackState.read(platform.config.data_dir)
    assert state is not None, "the started stack left no stack.json"
    return state.gateway_url


@pytest.fixture(scope="session")
def operator(platform: Stack, gateway_url: str) -> Api:
    api = Api(gateway_url, platform.config.operator_token)
    api.principal = api.get("/v1/me").json()
    return api


@pytest.fixture(autouse=True)
def service_errors_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """When an end-to-end test fails, its report shows the tracebacks the services logged
    while it ran: a 500 seen once in a full run is otherwise gone with the run's logs."""
    if "platform" not in request.fixturenames:
        yield
        return
    logs = request.getfixturevalue("platform").logs
    sizes = {path: path.stat().st_size for path in logs.glob("*.log")}
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    for path in sorted(logs.glob("*.log")):
        written = _written_since(path, sizes.get(path, 0))
        if "Traceback" in written:
            report.sections.append((f"{path.name} during the test", written[-6000:]))


def _written_since(path: Path, offset: int) -> str:
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    report = yield
    if report.when == "call":
        item.report_call = report  # type: ignore[attr-defined]
    return report


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright, one per browser test module
    (tests/test_portal_browser_*.py; what they share is in portal_browser_helpers.py)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def new_principal(operator: Api, gateway_url: str) -> Callable[[str], Api]:
    def create(role: str) -> Api:
        name = f"{role.title()} {uuid.uuid4().hex[:6]}"
        body = {"role": role, "name": name, "email": f"{uuid.uuid4().hex[:8]}@example.com"}
        if role == "carrier":  # a carrier speaks for one carrier's parcels; the tests ship DHL
            body["carrier"] = "DHL"
        answer = operator.post("/v1/principals", body)
        assert answer.status_code == 201, answer.text
        body = answer.json()
        return Api(gateway_url, body["token"], body)

    return create


@pytest.fixture
def seller(new_principal) -> Api:
    return new_principal("seller")


@pytest.fixture
def buyer(new_principal) -> Api:
    return new_principal("buyer")


@pytest.fixture
def carrier(new_principal) -> Api:
    return new_principal("carrier")


def assert_every_ledger_balances(stack: Stack) -> None:
    """Every order payments knows has a ledger that sums to zero, and no account that holds
    money for an order (escrow, a hold, reserved credit, a pending refund) is negative."""
    operator = Api(f"http://127.0.0.1:{stack.config.gateway_port}", stack.config.operator_token)
    order_ids = asyncio.run(_orders_with_payments(stack.config.database_url("payments")))
    problems = []
    for order_id in order_ids:
        answer = operator.get(f"/v1/ledger/orders/{order_id}")
        if answer.status_code == 404:
            continue  # a payment still authorizing has no lines yet
        if answer.status_code != 200:
            problems.append(f"{order_id}: the ledger could not be read ({answer.status_code})")
            continue
        ledger = answer.json()
        if not ledger["balanced"]:
            problems.append(f"{order_id}: lines do not sum to zero")
        for currency, balances in ledger["balances"].items():
            for account in ("escrow", "authorization_hold", "credit_reserved", "refunds_pending"):
                if balances.get(account, 0) < 0:
                    problems.append(f"{order_id}: {account} is {balances[account]} {currency}")
    assert not problems, "\n".join(problems)


async def _orders_with_payments(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(select(payments.c.order_id))).scalars())
    finally:
        await engine.dispose()
