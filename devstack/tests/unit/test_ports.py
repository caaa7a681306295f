"""The dev stack's port plan: `make run`'s ports by default, a base port moves them all, `0`
takes free ports, and the test fixtures never take a development port."""

from __future__ import annotations

import os
import socket
from contextlib import ExitStack
from pathlib import Path

import pytest

from devstack.ports import DEVELOPMENT, PORT_VARIABLES, PortPlan
from devstack.stack import SERVICES, StackConfig

MAKE_RUN_PORTS = {
    "gateway": 8000,
    "smtp": 8025,
    "orders": 8101,
    "payments": 8102,
    "support": 8103,
    "seller_standards": 8104,
    "notifications": 8105,
    "stripe": 8420,
    "broker": 9092,
}


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in [*PORT_VARIABLES.values(), "MARKETPLACE_BASE_PORT"]:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_the_development_plan_is_the_ports_make_run_always_had() -> None:
    assert dict(DEVELOPMENT.by_part) == MAKE_RUN_PORTS
    assert {name: port for name, _, port in SERVICES} == DEVELOPMENT.services


def test_the_stack_runs_every_service_the_plan_has_a_port_for() -> None:
    assert SERVICES == (
        ("orders", "orders.app:create_app", 8101),
        ("payments", "payments.app:create_app", 8102),
        ("support", "support.app:create_app", 8103),
        ("seller_standards", "seller_standards.app:create_app", 8104),
        ("notifications", "notifications.app:create_app", 8105),
    )


def test_make_run_without_settings_serves_the_gateway_on_8000(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    config = StackConfig.from_environment()

    assert config.gateway_port == 8000
    assert config.ports == DEVELOPMENT


def test_marketplace_port_still_moves_the_gateway_alone(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("MARKETPLACE_PORT", "8600")

    ports = StackConfig.from_environment().ports

    assert ports.gateway == 8600
    assert {p: v for p, v in ports.by_part.items() if p != "gateway"} == {
        p: v for p, v in MAKE_RUN_PORTS.items() if p != "gateway"
    }


def test_a_base_port_moves_every_part_by_its_offset() -> None:
    plan = PortPlan.from_base(9000)

    assert dict(plan.by_part) == {part: port + 1000 for part, port in MAKE_RUN_PORTS.items()}
    assert not plan.ports() & DEVELOPMENT.ports()


def test_each_part_has_a_variable_of_its_own_over_the_base(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("MARKETPLACE_BASE_PORT", "9000")
    clean_environment.setenv("MARKETPLACE_SELLER_STANDARDS_PORT", "9900")
    clean_environment.setenv("MARKETPLACE_BROKER_PORT", "0")

    plan = PortPlan.from_environment(os.environ)

    assert plan.services["seller_standards"] == 9900
    assert plan.services["orders"] == 9101
    assert plan.broker not in PortPlan.from_base(9000).ports() | DEVELOPMENT.ports()


def test_base_port_zero_takes_free_ports_none_a_development_port() -> None:
    plan = PortPlan.from_environment({"MARKETPLACE_BASE_PORT": "0"})

    assert len(plan.ports()) == len(MAKE_RUN_PORTS)
    assert not plan.ports() & DEVELOPMENT.ports()


@pytest.mark.parametrize(
    ("environment", "complaint"),
    [
        ({"MARKETPLACE_BASE_PORT": "eight thousand"}, "is not a port number"),
        ({"MARKETPLACE_BASE_PORT": "65000"}, "leaves no room"),
        ({"MARKETPLACE_PORT": "70000"}, "is not a port number"),
        ({"MARKETPLACE_PORT": "8101"}, "would both listen on port 8101"),
    ],
)
def test_a_plan_that_cannot_work_is_refused_saying_why(
    environment: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        PortPlan.from_environment(environment)


def test_two_free_plans_share_no_port_and_use_no_development_port() -> None:
    first, second = PortPlan.free(), PortPlan.free()

    assert len(first.ports()) == len(second.ports()) == len(MAKE_RUN_PORTS)
    assert not first.ports() & second.ports()
    assert not (first.ports() | second.ports()) & DEVELOPMENT.ports()


def test_two_free_plans_can_listen_side_by_side() -> None:
    ports = PortPlan.free().ports() | PortPlan.free().ports()

    with ExitStack() as listening:
        for port in ports:
            server = listening.enter_context(socket.socket())
            server.bind(("127.0.0.1", port))
            server.listen()


def test_the_test_fixtures_stack_config_never_uses_a_development_port(
    port_plan: PortPlan, tmp_path: Path
) -> None:
    parts = {"bootstrap": "127.0.0.1:1", "stripe_api_base": "http://127.0.0.1:1"}
    smtp = (port_plan.smtp, tmp_path)
    session = StackConfig.on_parts(tmp_path, **parts, smtp=smtp, database_urls={}, ports=port_plan)
    another = StackConfig.on_parts(tmp_path, **parts, smtp=smtp, database_urls={})

    assert not port_plan.ports() & DEVELOPMENT.ports()
    assert not session.ports.ports() & DEVELOPMENT.ports()
    assert not another.ports.ports() & (DEVELOPMENT.ports() | session.ports.ports())
