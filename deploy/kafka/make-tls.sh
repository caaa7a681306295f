#!/bin/bash
# compose's one-shot `kafka-tls` container (apache/kafka image, so only the JDK's keytool):
# a CA and the broker's certificate for the names clients use (`kafka` inside compose,
# `localhost` from the host). The CA's private key is thrown away once it has signed, so
# nothing else can be signed with it; delete the volumes to start again.
set -euo pipefail
: "${KAFKA_SSL_KEYSTORE_PASSWORD:?}"
keystore=/tls/kafka.p12 ca=/kafka-ca/ca.crt
if [[ -s $keystore && -s $ca ]]; then
  echo "broker certificate present"; exit 0
fi
work=$(mktemp -d)
pass=$KAFKA_SSL_KEYSTORE_PASSWORD
keytool -genkeypair -alias ca -dname "CN=marketplace compose broker CA" -keyalg EC \
  -groupname secp256r1 -validity 3650 -ext bc:c -storetype PKCS12 \
  -keystore "$work/ca.p12" -storepass "$pass"
keytool -exportcert -rfc -alias ca -keystore "$work/ca.p12" -storepass "$pass" > "$work/ca.crt"
rm -f "$keystore"
keytool -genkeypair -alias kafka -dname "CN=kafka" -keyalg EC -groupname secp256r1 \
  -validity 825 -storetype PKCS12 -keystore "$keystore" -storepass "$pass"
keytool -certreq -alias kafka -keystore "$keystore" -storepass "$pass" \
  | keytool -gencert -alias ca -keystore "$work/ca.p12" -storepass "$pass" -validity 825 -rfc \
      -ext SAN=dns:kafka,dns:localhost -ext KU=digitalSignature -ext EKU=serverAuth \
      > "$work/kafka.crt"
keytool -importcert -noprompt -alias ca -file "$work/ca.crt" -keystore "$keystore" -storepass "$pass"
keytool -importcert -alias kafka -file "$work/kafka.crt" -keystore "$keystore" -storepass "$pass"
cp "$work/ca.crt" "$ca"
chmod 0644 "$ca"
rm -rf "$work"
echo "broker certificate written; clients trust $ca"
