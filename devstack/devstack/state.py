"""The state file of a running stack, `<data dir>/stack.json`: where each part listens, for
the tools and tests that reach a stack whose ports they did not choose (free ports, another
base port). Written once every part is ready, removed when the stack stops. It holds no
token: the operator token stays in the banner and the environment.

`eval "$(uv run python -m devstack.state)"` points a shell at the stack running from
`MARKETPLACE_DATA_DIR` (default `./data`): `G` is its gateway, `KAFKA_BOOTSTRAP_SERVERS` its
broker (which the `marketplace` operator commands read)."""

from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE = "stack.json"


@dataclass(frozen=True)
class StackState:
    pid: int  # the process running the stack
    gateway_url: str
    service_urls: dict[str, str]
    kafka_bootstrap: str
    stripe_api_base: str
    smtp_port: int
    maildir: str
    ports: dict[str, int]  # the plan's port of every part the stack started itself

    def write(self, data_dir: Path) -> Path:
        path = state_path(data_dir)
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(asdict(self), indent=2) + "\n")
        partial.replace(path)  # a reader sees the whole file or none
        return path

    @classmethod
    def read(cls, data_dir: Path) -> StackState | None:
        """The state of the stack last started in `data_dir`, if its file is there."""
        path = state_path(data_dir)
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))

    @property
    def running(self) -> bool:
        """Whether the process that wrote this file still runs."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # alive, another user's
            return True
        return True


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def remove_state(data_dir: Path) -> None:
    state_path(data_dir).unlink(missing_ok=True)


def shell_exports(state: StackState) -> str:
    values = {"G": state.gateway_url, "KAFKA_BOOTSTRAP_SERVERS": state.kafka_bootstrap}
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in values.items())


def main() -> None:
    data_dir = Path(os.environ.get("MARKETPLACE_DATA_DIR", "data")).resolve()
    state = StackState.read(data_dir)
    if state is None or not state.running:
        sys.exit(f"no stack is running from {data_dir} (no {STATE_FILE} of a live process)")
    print(shell_exports(state))


if __name__ == "__main__":
    main()
