"""Every generated file, checked against or written to the repository: `python -m
devstack.manifests` and its `--check`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from devstack.deployment import DEPLOYABLES, REPO_ROOT
from devstack.manifests.common import HEADER, config_map
from devstack.manifests.compose_acls import compose_acl_script
from devstack.manifests.kafka import kafka_cluster, kafka_topic, kafka_users
from devstack.manifests.network_policies import network_policies
from devstack.manifests.workloads import SHARED_CONFIG, service_documents, shared_config
from servicekit.operations import topology

OUTPUT_DIR = "deploy/k8s"
COMPOSE_ACL_SCRIPT = "deploy/kafka/setup-users-and-acls.sh"
# Not MARKETPLACE_TOPICS_FILE: the manifests describe the repository's file, whatever the
# environment of whoever generates them says.
TOPICS_FILE = REPO_ROOT / "deploy" / "topics.yaml"


def dump(documents: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """One multi-document YAML file; each document may carry a leading comment."""
    parts = [
        comment + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=1000)
        for comment, document in documents
    ]
    return HEADER + "---\n" + "---\n".join(parts)


def render() -> dict[str, str]:
    """Every generated file: path relative to the repository -> YAML text."""
    specs = topology.load(TOPICS_FILE)
    files = {f"{OUTPUT_DIR}/config.yaml": dump([("", config_map(SHARED_CONFIG, shared_config()))])}
    for d in DEPLOYABLES:
        files[f"{OUTPUT_DIR}/{d.name}.yaml"] = dump(service_documents(d, specs))
    files[f"{OUTPUT_DIR}/kafka-topics.yaml"] = dump([("", kafka_topic(spec)) for spec in specs])
    files[f"{OUTPUT_DIR}/kafka-cluster.yaml"] = dump([("", doc) for doc in kafka_cluster(specs)])
    files[f"{OUTPUT_DIR}/kafka-users.yaml"] = dump([("", doc) for doc in kafka_users(specs)])
    files[f"{OUTPUT_DIR}/network-policies.yaml"] = dump(
        [("", policy) for policy in network_policies()]
    )
    files[COMPOSE_ACL_SCRIPT] = compose_acl_script(specs)
    return files


def drift(root: Path = REPO_ROOT) -> list[str]:
    """Generated files that differ from what is under `root`, and stale ones that remain."""
    files = render()
    differing = [
        path
        for path, text in files.items()
        if not (root / path).is_file() or (root / path).read_text() != text
    ]
    stale = [
        str(path.relative_to(root))
        for path in sorted((root / OUTPUT_DIR).glob("*.yaml"))
        if str(path.relative_to(root)) not in files
    ]
    return differing + stale


def write(root: Path = REPO_ROOT) -> list[str]:
    """Write every generated file under `root` and remove stale ones; answer what changed."""
    changed = drift(root)
    files = render()
    for path in changed:
        if path in files:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(files[path])
            if path.endswith(".sh"):
                (root / path).chmod(0o755)
        else:
            (root / path).unlink()
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.manifests", description="Generate deploy/k8s."
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if deploy/k8s differs from the generated"
    )
    args = parser.parse_args(argv)
    if args.check:
        differing = drift()
        for path in differing:
            print(f"{path} is out of date: run `python -m devstack.manifests`", file=sys.stderr)
        return 1 if differing else 0
    for path in write():
        print(f"{'wrote' if (REPO_ROOT / path).exists() else 'removed'} {path}")
    return 0
