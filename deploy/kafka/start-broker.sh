#!/bin/bash
# compose's broker: SCRAM credentials live in the cluster's metadata, so the admin's is
# written when the storage is first formatted (the image's own start-up then finds it
# formatted and goes on); every service's user is added by `kafka-setup` as that admin.
set -euo pipefail
: "${KAFKA_ADMIN_PASSWORD:?}" "${CLUSTER_ID:?}" "${KAFKA_LOG_DIRS:?}"
format=$(mktemp)
cat > "$format" <<PROPERTIES
process.roles=broker,controller
node.id=${KAFKA_NODE_ID}
controller.quorum.voters=${KAFKA_CONTROLLER_QUORUM_VOTERS}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://localhost:19092,CONTROLLER://localhost:9093
log.dirs=${KAFKA_LOG_DIRS}
PROPERTIES
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" \
  --config "$format" --add-scram "SCRAM-SHA-512=[name=admin,password=${KAFKA_ADMIN_PASSWORD}]"
rm -f "$format"
# For the health check: the admin over the TLS listener.
cat > /tmp/admin.properties <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
ssl.truststore.type=PEM
ssl.truststore.location=/kafka-ca/ca.crt
PROPERTIES
exec /etc/kafka/docker/run
