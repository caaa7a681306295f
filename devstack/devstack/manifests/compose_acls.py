"""The same broker users and ACLs as the KafkaUsers, as the script that sets up compose's
broker (`deploy/kafka/setup-users-and-acls.sh`)."""

from __future__ import annotations

from collections.abc import Sequence

from devstack.deployment import DEPLOYABLES
from devstack.manifests.common import HEADER
from devstack.manifests.kafka import (
    OPERATOR_KAFKA_USER,
    broker_acls,
    kafka_user_name,
    operator_acls,
)
from servicekit.operations import topology


def compose_acl_script(specs: Sequence[topology.TopicSpec]) -> str:
    """compose's broker: one SCRAM user per service and the operators', with the same ACLs as
    the KafkaUsers. Run by the one-shot `kafka-setup` container as the broker's admin."""
    lines = [
        "#!/bin/bash",
        HEADER.rstrip("\n"),
        "# Run by compose's one-shot `kafka-setup` container (apache/kafka image) as the",
        "# broker's admin: a SCRAM-SHA-512 user per service, then what each may do. Adding a",
        "# user or an ACL that exists changes nothing, so it runs on every `docker compose up`.",
        "set -euo pipefail",
        ': "${KAFKA_ADMIN_PASSWORD:?}" "${KAFKA_SSL_CAFILE:?}" "${KAFKA_BOOTSTRAP_SERVERS:?}"',
        "config=$(mktemp)",
        'cat > "$config" <<EOF',
        "security.protocol=SASL_SSL",
        "sasl.mechanism=SCRAM-SHA-512",
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="admin" password="${KAFKA_ADMIN_PASSWORD}";',
        "ssl.truststore.type=PEM",
        "ssl.truststore.location=${KAFKA_SSL_CAFILE}",
        "EOF",
        "bin=/opt/kafka/bin",
        "user() {  # name, password (letters and digits: `openssl rand -hex 32`)",
        '  "$bin/kafka-configs.sh" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" '
        '--command-config "$config" \\',
        '    --alter --entity-type users --entity-name "$1" '
        '--add-config "SCRAM-SHA-512=[iterations=8192,password=$2]"',
        "}",
        "allow() {  # principal, resource type, resource name, operations...",
        "  local principal=$1 type=$2 name=$3; shift 3",
        "  local operations=()",
        '  for operation in "$@"; do operations+=(--operation "$operation"); done',
        '  "$bin/kafka-acls.sh" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" '
        '--command-config "$config" \\',
        '    --add --allow-principal "User:$principal" "--$type" "$name" "${operations[@]}"',
        "}",
    ]
    users = [(kafka_user_name(d.package), broker_acls(d.package, specs)) for d in DEPLOYABLES]
    users.append((OPERATOR_KAFKA_USER, operator_acls(specs)))
    for name, acls in users:
        variable = compose_password_variable(name)
        lines += ["", f'user {name} "${{{variable}:?set {variable}}}"']
        lines += [f"allow {name} {kind} {resource} {' '.join(ops)}" for kind, resource, ops in acls]
    return "\n".join(lines) + "\n"


def compose_password_variable(user: str) -> str:
    """The compose variable holding a broker user's password: KAFKA_ORDERS_PASSWORD."""
    return f"KAFKA_{user.upper().replace('-', '_')}_PASSWORD"
