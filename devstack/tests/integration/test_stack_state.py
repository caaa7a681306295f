"""The state file a started stack leaves for tools and tests, and a second stack that would
collide with a running one refused before it starts anything."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.ports import PortPlan
from devstack.stack import Stack, StackConfig
from devstack.state import StackState, shell_exports, state_path


def a_state(pid: int, plan: PortPlan) -> StackState:
    return StackState(
        pid=pid,
        gateway_url=f"http://127.0.0.1:{plan.gateway}",
        service_urls={name: f"http://127.0.0.1:{port}" for name, port in plan.services.items()},
        kafka_bootstrap=f"127.0.0.1:{plan.broker}",
        stripe_api_base=f"http://127.0.0.1:{plan.stripe}",
        smtp_port=plan.smtp,
        maildir="/tmp/mail",
        ports=dict(plan.by_part),
    )


def a_config(data_dir: Path, plan: PortPlan) -> StackConfig:
    return StackConfig(
        data_dir=data_dir,
        ports=plan,
        bootstrap=None,
        operator_token="mkt_test",
        clock="manual",
        keep_data=True,
    )


def test_the_state_file_reads_back_as_written(tmp_path: Path) -> None:
    state = a_state(os.getpid(), PortPlan.free())

    state.write(tmp_path)

    assert state_path(tmp_path) == tmp_path / "stack.json"
    assert StackState.read(tmp_path) == state
    assert StackState.read(tmp_path / "elsewhere") is None


def test_a_state_left_by_a_process_that_ended_is_not_running(tmp_path: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()

    assert not a_state(ended.pid, PortPlan.free()).running
    assert a_state(os.getpid(), PortPlan.free()).running


def test_a_second_stack_on_a_running_stacks_data_directory_is_refused(tmp_path: Path) -> None:
    running = a_state(os.getpid(), PortPlan.free())
    running.write(tmp_path)
    second = Stack(a_config(tmp_path, PortPlan.free()))

    with pytest.raises(RuntimeError, match="give this one its own MARKETPLACE_DATA_DIR"):
        second.start()
    second.stop()

    assert second.children == []
    assert StackState.read(tmp_path) == running  # the running stack's file stays


def test_a_stack_whose_port_is_taken_says_which_before_starting_anything(tmp_path: Path) -> None:
    plan = PortPlan.free()
    stack = Stack(a_config(tmp_path, plan))

    with socket.socket() as other:
        other.bind(("127.0.0.1", plan.services["payments"]))
        other.listen()
        with pytest.raises(RuntimeError, match=rf"payments {plan.services['payments']}"):
            stack.start()

    assert stack.children == []


def test_a_shell_is_pointed_at_the_stack_its_state_file_names() -> None:
    plan = PortPlan.free()

    exports = shell_exports(a_state(os.getpid(), plan))

    assert exports.splitlines() == [
        f"export G=http://127.0.0.1:{plan.gateway}",
        f"export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{plan.broker}",
    ]
