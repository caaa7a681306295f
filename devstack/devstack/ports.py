"""Where each part of the dev stack listens: one base port and a fixed offset per part, or
free ports (base `0`) that no other stack on the machine uses.

The development base 8000 gives the ports `make run` always had: the gateway on 8000, SMTP on
8025, the services on 8101-8105, localstripe on 8420 and the broker on 9092. A second stack
takes another base (`MARKETPLACE_BASE_PORT=9000`) or free ports (`MARKETPLACE_BASE_PORT=0`);
the test fixtures always take free ports, never one of the development ports.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass

DEVELOPMENT_BASE_PORT = 8000
SERVICE_NAMES = ("orders", "payments", "support", "seller_standards", "notifications")
OFFSETS: Mapping[str, int] = {
    "gateway": 0,
    "smtp": 25,
    "orders": 101,
    "payments": 102,
    "support": 103,
    "seller_standards": 104,
    "notifications": 105,
    "stripe": 420,
    "broker": 1092,
}
PARTS = tuple(OFFSETS)
HIGHEST_PORT = 65535

# The variables that set one part's port, each over the base (0: a free port). The first four
# predate the base port and keep their meaning.
PORT_VARIABLES: Mapping[str, str] = {
    "gateway": "MARKETPLACE_PORT",
    "broker": "MARKETPLACE_BROKER_PORT",
    "stripe": "MARKETPLACE_STRIPE_PORT",
    "smtp": "MARKETPLACE_SMTP_PORT",
    **{name: f"MARKETPLACE_{name.upper()}_PORT" for name in SERVICE_NAMES},
}
BASE_PORT_VARIABLE = "MARKETPLACE_BASE_PORT"

# Ports this process already handed out as free: the kernel may offer a port again once the
# probing socket closes, before the part that was meant to take it has started.
_handed_out: set[int] = set()


@dataclass(frozen=True)
class PortPlan:
    """The port of every part of one stack, all different."""

    by_part: Mapping[str, int]

    def __post_init__(self) -> None:
        missing = set(PARTS) - set(self.by_part)
        if missing:
            raise ValueError(f"the port plan names no port for {', '.join(sorted(missing))}")
        seen: dict[int, str] = {}
        for part, port in self.by_part.items():
            if not 0 < port <= HIGHEST_PORT:
                raise ValueError(f"port {port} of {part} is not a TCP port")
            if port in seen:
                raise ValueError(f"{seen[port]} and {part} would both listen on port {port}")
            seen[port] = part

    @property
    def gateway(self) -> int:
        return self.by_part["gateway"]

    @property
    def broker(self) -> int:
        return self.by_part["broker"]

    @property
    def stripe(self) -> int:
        return self.by_part["stripe"]

    @property
    def smtp(self) -> int:
        return self.by_part["smtp"]

    @property
    def services(self) -> dict[str, int]:
        return {name: self.by_part[name] for name in SERVICE_NAMES}

    def ports(self) -> set[int]:
        return set(self.by_part.values())

    @classmethod
    def from_base(cls, base: int) -> PortPlan:
        """Each part at its offset from `base`; `0` means free ports."""
        if base == 0:
            return cls.free()
        if not 0 < base <= HIGHEST_PORT - max(OFFSETS.values()):
            raise ValueError(
                f"base port {base} leaves no room for the stack's ports "
                f"(1 to {HIGHEST_PORT - max(OFFSETS.values())})"
            )
        return cls({part: base + offset for part, offset in OFFSETS.items()})

    @classmethod
    def free(cls) -> PortPlan:
        """Ports nothing listens on now, none of them a development port."""
        return cls(dict(zip(PARTS, free_ports(len(PARTS)), strict=True)))

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> PortPlan:
        """`MARKETPLACE_BASE_PORT` (default 8000), then any part's own variable over it."""
        base = cls.from_base(_port_number(env, BASE_PORT_VARIABLE, DEVELOPMENT_BASE_PORT))
        chosen = {
            part: _port_number(env, variable, base.by_part[part])
            for part, variable in PORT_VARIABLES.items()
        }
        asked_free = [part for part, port in chosen.items() if port == 0]
        for part, port in zip(asked_free, free_ports(len(asked_free)), strict=True):
            chosen[part] = port
        return cls(chosen)


DEVELOPMENT = PortPlan.from_base(DEVELOPMENT_BASE_PORT)


def free_ports(count: int) -> list[int]:
    """`count` different ports free on 127.0.0.1, none of the development plan's and none
    this process handed out before."""
    avoided = DEVELOPMENT.ports() | _handed_out
    chosen: list[int] = []
    with ExitStack() as holding:  # every probe stays bound until all are chosen: all differ
        while len(chosen) < count:
            probe = holding.enter_context(socket.socket())
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
            if port not in avoided:
                chosen.append(port)
    _handed_out.update(chosen)
    return chosen


def busy_ports(ports: Mapping[str, int]) -> dict[str, int]:
    """The parts whose port something on 127.0.0.1 already listens on."""
    busy = {}
    for part, port in ports.items():
        with socket.socket() as probe:
            # as the servers bind: a port left in TIME_WAIT by a stopped stack is not busy
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                busy[part] = port
    return busy


def _port_number(env: Mapping[str, str], variable: str, default: int) -> int:
    text = env.get(variable, "").strip()
    if not text:
        return default
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"{variable}={text!r} is not a port number") from None
    if not 0 <= port <= HIGHEST_PORT:
        raise ValueError(f"{variable}={port} is not a port number (0 for a free one)")
    return port
