"""Child processes of the stack: start, wait until ready, stop (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    log_file: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log_file.read_text()[-3000:] if log_file and log_file.exists() else ""
            raise RuntimeError(f"{what} exited with {process.returncode} while starting\n{tail}")
        try:
            if check():
                return
        except Exception:  # not ready yet; keep polling until the deadline
            pass
        time.sleep(0.1)
    tail = log_file.read_text()[-3000:] if log_file and log_file.exists() else ""
    raise TimeoutError(f"{what} was not ready within {timeout:.0f}s\n{tail}")


def http_ok(url: str) -> bool:
    return httpx.get(url, timeout=2.0).status_code == 200


@dataclass
class Child:
    """One running component, its log file and how to tell it is ready."""

    name: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    log_file: Path | None = None
    ready_url: str | None = None
    ready_port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 60.0) -> Child:
        self.launch()
        self.wait_ready(timeout=timeout)
        return self

    def launch(self) -> None:
        """Start the process without waiting for it to be ready."""
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.args,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, *, timeout: float = 60.0) -> None:
        if self.ready_url:
            url = self.ready_url
            wait_until(
                lambda: http_ok(url),
                timeout=timeout,
                what=self.name,
                process=self.process,
                log_file=self.log_file,
            )
        elif self.ready_port:
            port = self.ready_port
            wait_until(
                lambda: port_open("127.0.0.1", port),
                timeout=timeout,
                what=self.name,
                process=self.process,
                log_file=self.log_file,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        if self.process and self.running:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self, *, timeout: float = 20.0) -> None:
        if not self.process or not self.running:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
