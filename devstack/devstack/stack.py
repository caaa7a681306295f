"""`make run`: the whole platform on one machine, in the foreground, until Ctrl-C.

The embedded broker keeps everything in memory, so each start begins with empty topics; the
services' SQLite files are started afresh with it (under `MARKETPLACE_DATA_DIR`, default
`./data`) so that databases and topics always agree. Point `KAFKA_BOOTSTRAP_SERVERS` at a real
Kafka to keep data across restarts (then set `MARKETPLACE_KEEP_DATA=1`).

The ports come from `devstack.ports` (`MARKETPLACE_BASE_PORT`, default 8000; `0` for free
ports); once every part is ready, where each listens is in `<data dir>/stack.json`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack import components
from devstack.ports import DEVELOPMENT, SERVICE_NAMES, PortPlan, busy_ports, free_ports
from devstack.processes import Child
from devstack.state import StackState, remove_state, state_path
from servicekit.operations import ops

# payments' development webhook secret (payments.settings.DEVELOPMENT_WEBHOOK_SECRET): the
# stack sets no STRIPE_WEBHOOK_SECRET, so payments verifies with this one
DEVELOPMENT_WEBHOOK_SECRET = "whsec_development"

# name, ASGI factory, port under `make run`'s defaults
SERVICES = tuple(
    (name, f"{name}.app:create_app", DEVELOPMENT.by_part[name]) for name in SERVICE_NAMES
)


@dataclass
class StackConfig:
    data_dir: Path
    ports: PortPlan
    bootstrap: str | None
    operator_token: str
    clock: str
    keep_data: bool
    database_urls: dict[str, str] = field(default_factory=dict)  # default: SQLite in data_dir
    stripe_api_base: str | None = None  # default: start localstripe
    smtp: tuple[int, Path] | None = None  # (port, maildir) of a running catcher; default: start one
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)  # per service

    @property
    def gateway_port(self) -> int:
        return self.ports.gateway

    def database_url(self, name: str) -> str:
        return self.database_urls.get(name) or f"sqlite+aiosqlite:///{self.data_dir}/{name}.db"

    def ports_started_here(self) -> dict[str, int]:
        """The plan's port of every part this stack starts itself (not those given to it)."""
        given = {
            "broker": bool(self.bootstrap),
            "stripe": bool(self.stripe_api_base),
            "smtp": bool(self.smtp),
        }
        return {part: port for part, port in self.ports.by_part.items() if not given.get(part)}

    @classmethod
    def on_parts(
        cls,
        data_dir: Path,
        *,
        bootstrap: str,
        stripe_api_base: str,
        smtp: tuple[int, Path],
        database_urls: dict[str, str],
        extra_env: dict[str, dict[str, str]] | None = None,
        ports: PortPlan | None = None,
    ) -> StackConfig:
        """The services and gateway on free ports (`ports`, default a new free plan), on the
        manual clock, using a broker, localstripe, SMTP catcher and databases started
        elsewhere (tests and benchmarks)."""
        return cls(
            data_dir=data_dir,
            ports=ports or PortPlan.free(),
            bootstrap=bootstrap,
            operator_token="mkt_" + secrets.token_urlsafe(24),
            clock="manual",
            keep_data=True,
            database_urls=database_urls,
            stripe_api_base=stripe_api_base,
            smtp=smtp,
            extra_env=extra_env or {},
        )

    @classmethod
    def from_environment(cls) -> StackConfig:
        env = os.environ
        return cls(
            data_dir=Path(env.get("MARKETPLACE_DATA_DIR", "data")).resolve(),
            ports=PortPlan.from_environment(env),
            bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            operator_token=env.get("MARKETPLACE_OPERATOR_TOKEN")
            or "mkt_" + secrets.token_urlsafe(32),
            clock=env.get("MARKETPLACE_CLOCK", "system"),
            keep_data=env.get("MARKETPLACE_KEEP_DATA", "") in ("1", "true", "yes"),
        )


class Stack:
    """Starts the parts in order, each once the previous is ready; stops them in reverse."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.children: list[Child] = []
        self.logs = config.data_dir / "logs"
        self.internal_token = secrets.token_urlsafe(24)
        self.service_urls: dict[str, str] = {}
        self.bootstrap = config.bootstrap or ""
        self.stripe_base = ""  # what the services use: the Connect server in front of it
        self.localstripe_base = ""
        self.smtp_port = 0
        self.maildir = config.data_dir / "mail"
        self.state_written = False  # only then is the data directory's state file this stack's
        self.clock_start = os.environ.get(
            "MARKETPLACE_CLOCK_START", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        )

    def start(self) -> None:
        config = self.config
        self._check_nothing_in_the_way()
        if config.data_dir.exists() and not config.keep_data:
            shutil.rmtree(config.data_dir)
        self.logs.mkdir(parents=True, exist_ok=True)
        if not config.bootstrap:
            broker, self.bootstrap = components.broker(config.ports.broker, log_dir=self.logs)
            self._start(broker)
        components.wait_for_broker(self.bootstrap)
        asyncio.run(ops.create_declared_topics(self.bootstrap, replication_factor=1))
        if config.stripe_api_base:
            self.localstripe_base = config.stripe_api_base
        else:
            stripe, self.localstripe_base = components.localstripe(
                config.ports.stripe, log_dir=self.logs
            )
            self._start(stripe)
        # Stripe Connect (seller payouts, #18), which localstripe lacks, served in front of it:
        # the services' one STRIPE_API_BASE; its account and transfer events come back signed
        # to the gateway's webhook endpoint with payments' development secret.
        connect, self.stripe_base = components.stripe_connect(
            upstream=self.localstripe_base,
            log_dir=self.logs,
            webhook_url=f"http://127.0.0.1:{config.gateway_port}/v1/webhooks/stripe",
            webhook_secret=DEVELOPMENT_WEBHOOK_SECRET,
        )
        self._start(connect)
        if config.smtp:
            self.smtp_port, self.maildir = config.smtp
        else:
            smtp, self.smtp_port = components.smtp_catcher(
                config.ports.smtp, maildir=self.maildir, log_dir=self.logs
            )
            self._start(smtp)
        services = [self.service(name) for name, _, _ in SERVICES]
        for child in services:  # start together, then wait: each takes seconds to join its group
            self.children.append(child)
            child.launch()
        for child in services:
            child.wait_ready()
        self._start(self.gateway())
        self.state().write(config.data_dir)
        self.state_written = True

    def _check_nothing_in_the_way(self) -> None:
        """Another stack on the same data directory or ports fails here, saying which, rather
        than as a part that times out starting."""
        config = self.config
        previous = StackState.read(config.data_dir)
        if previous and previous.running:
            raise RuntimeError(
                f"another stack (process {previous.pid}, gateway {previous.gateway_url}) runs "
                f"from {config.data_dir}: give this one its own MARKETPLACE_DATA_DIR"
            )
        busy = busy_ports(config.ports_started_here())
        if busy:
            taken = ", ".join(f"{part} {port}" for part, port in busy.items())
            raise RuntimeError(
                f"ports already in use: {taken}; another stack? Start this one with "
                "MARKETPLACE_BASE_PORT=0 (free ports) or another base, e.g. 9000"
            )

    def state(self) -> StackState:
        """Where every part of the started stack listens."""
        return StackState(
            pid=os.getpid(),
            gateway_url=f"http://127.0.0.1:{self.config.gateway_port}",
            service_urls=dict(self.service_urls),
            kafka_bootstrap=self.bootstrap,
            stripe_api_base=self.stripe_base,
            smtp_port=self.smtp_port,
            maildir=str(self.maildir),
            ports=self.config.ports_started_here(),
        )

    def common_env(self) -> dict[str, str]:
        config = self.config
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "MARKETPLACE_DATA_DIR": str(config.data_dir),
            "MARKETPLACE_INTERNAL_TOKEN": self.internal_token,
            "MARKETPLACE_CLOCK": config.clock,
            "MARKETPLACE_ENV": "development",  # payments accepts its development webhook secret
            "STRIPE_API_BASE": self.stripe_base,
            "STRIPE_API_KEY": os.environ.get("STRIPE_API_KEY", "sk_test_development"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "PORTAL_URL": f"http://127.0.0.1:{config.gateway_port}",
            "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json"),
            # Everything runs on one machine: a consumer killed without leaving its group is
            # noticed within 3 s (not 10), so a restarted service resumes in seconds.
            "KAFKA_SESSION_TIMEOUT_MS": "3000",
        }
        if config.clock == "manual":
            env["MARKETPLACE_CLOCK_START"] = self._platform_time() or self.clock_start
        return env

    def _platform_time(self) -> str | None:
        """The manual clock's time now, as the running gateway has it: a service (re)started
        later resumes there, not at the stack's start, so its clock does not lag the others'
        (a webhook signed at the platform's time would look "from the future" to it)."""
        try:
            answer = httpx.get(
                f"http://127.0.0.1:{self.config.gateway_port}/v1/ops/clock",
                headers={"Authorization": f"Bearer {self.config.operator_token}"},
                timeout=2,
            )
        except httpx.HTTPError:
            return None  # the gateway is not up yet: the stack is starting
        return str(answer.json()["now"]) if answer.status_code == 200 else None

    def service(self, name: str, **extra_env: str) -> Child:
        """The child process of service `name` (not started)."""
        app = next(app for service, app, _ in SERVICES if service == name)
        port = self.config.ports.by_part[name]
        self.service_urls[name] = f"http://127.0.0.1:{port}"
        env = self._service_env(name) | extra_env
        return components.service(name, app, port=port, env=env, log_dir=self.logs)

    def replica(self, name: str, number: int) -> Child:
        """Another process of service `name` (not started), on a port of its own: it joins
        the same consumer group and shares the database."""
        app = next(app for service, app, _ in SERVICES if service == name)
        env = self._service_env(name)
        return components.service(
            f"{name}-{number}", app, port=free_ports(1)[0], env=env, log_dir=self.logs
        )

    def _service_env(self, name: str) -> dict[str, str]:
        return (
            self.common_env()
            | {"DATABASE_URL": self.config.database_url(name)}
            | self.config.extra_env.get(name, {})
        )

    def gateway(self) -> Child:
        env = self.common_env() | {
            "DATABASE_URL": self.config.database_url("gateway"),
            "MARKETPLACE_OPERATOR_TOKEN": self.config.operator_token,
            "ORDERS_URL": self.service_urls["orders"],
            "PAYMENTS_URL": self.service_urls["payments"],
            "SUPPORT_URL": self.service_urls["support"],
            "SELLER_STANDARDS_URL": self.service_urls["seller_standards"],
            "NOTIFICATIONS_URL": self.service_urls["notifications"],
        }
        gateway = components.service(
            "gateway",
            "gateway.app:create_app",
            port=self.config.gateway_port,
            env=env,
            log_dir=self.logs,
        )
        # uvicorn would believe X-Forwarded-For from 127.0.0.1, where every local client
        # connects from: any of them could pick the address its failed tokens count against.
        # The gateway believes only GATEWAY_TRUSTED_PROXIES, and here there is no proxy.
        gateway.args.append("--no-proxy-headers")
        return gateway

    def child(self, name: str) -> Child:
        return next(child for child in self.children if child.name == name)

    def replace_child(self, old: Child, new: Child) -> None:
        self.children[self.children.index(old)] = new

    def _start(self, child: Child) -> None:
        self.children.append(child)
        child.start()

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        if self.state_written:
            remove_state(self.config.data_dir)
            self.state_written = False

    def banner(self) -> str:
        gateway = f"http://127.0.0.1:{self.config.gateway_port}"
        lines = [
            "",
            "The marketplace platform is running.",
            f"  gateway (the public API)  {gateway}   docs: {gateway}/docs",
            f"  operator token            {self.config.operator_token}",
            f"  Kafka bootstrap           {self.bootstrap} (no TLS, no login: loopback only)",
            f"  Stripe (Connect + local)  {self.stripe_base} (localstripe {self.localstripe_base})",
            f"  SMTP (mail kept in)       127.0.0.1:{self.smtp_port} ({self.maildir})",
            *(f"  {name:<25} {url}" for name, url in self.service_urls.items()),
            f"  clock                     {self.config.clock}",
            f"  data and logs             {self.config.data_dir}",
            f"  ports (for tools)         {state_path(self.config.data_dir)}",
            "",
            "Try:",
            f"  export TOKEN={self.config.operator_token}",
            f'  curl -s {gateway}/v1/me -H "Authorization: Bearer $TOKEN"',
            "",
            "Ctrl-C stops everything.",
        ]
        return "\n".join(lines)

    def first_failure(self) -> Child | None:
        return next((child for child in self.children if not child.running), None)


def main() -> None:
    stack = Stack(StackConfig.from_environment())
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        stack.start()
        print(stack.banner(), flush=True)
        while not stopping:
            failed = stack.first_failure()
            if failed:
                print(f"{failed.name} stopped unexpectedly; see {failed.log_file}", file=sys.stderr)
                break
            time.sleep(0.5)
    except Exception as error:
        print(f"the stack could not start: {error}", file=sys.stderr)
        stack.stop()
        sys.exit(1)
    print("stopping...", flush=True)
    stack.stop()
    print("stopped.", flush=True)


if __name__ == "__main__":
    main()
