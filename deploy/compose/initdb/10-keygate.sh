#!/usr/bin/env bash
# Creates keygate's own role and database next to Odoo's. The postgres image
# runs the scripts of /docker-entrypoint-initdb.d once, when it initialises
# an empty data volume; to run it again, remove the volume
# (docker compose down -v) or run these statements by hand.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=keygate_password="$KEYGATE_DB_PASSWORD" <<'SQL'
CREATE ROLE keygate LOGIN PASSWORD :'keygate_password';
CREATE DATABASE keygate OWNER keygate;
REVOKE ALL ON DATABASE keygate FROM PUBLIC;
SQL
