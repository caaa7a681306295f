#!/usr/bin/env bash
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d):
# one role and one database per service, each owned by its role, so no service can read
# another's tables. Passwords come from <SERVICE>_DB_PASSWORD.
set -euo pipefail

for name in ${MARKETPLACE_DATABASES}; do
    password_variable="$(echo "${name}" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    password="${!password_variable:?${password_variable} is not set}"
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" \
        --set name="${name}" --set password="${password}" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
