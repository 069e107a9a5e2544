#!/bin/sh
# TEST-ONLY (postgres.Dockerfile): initialise the cluster once, as the official image does
# (password authentication for every network client), then run the server in the foreground
# with the service's `command` flags, as the official image does with `postgres -c ...`.
set -eu
# Started as root (an image built FROM this one that ends as root: deploy/postgres/Dockerfile
# in compose-check's PITR step), as the official entrypoint: the data and socket directories
# (volumes, whoever made them) are given to postgres, then this script runs again as postgres.
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    chmod 3777 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups /bin/sh "$0" "$@"
fi
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "postgres stand-in: set POSTGRES_PASSWORD" >&2; exit 1; }
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -A scram-sha-256 \
        --auth-local=trust -E UTF8 >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != "postgres" ]; then
        pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
        createdb -U "$POSTGRES_USER" "$POSTGRES_DB"
        pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    fi
    echo "postgres stand-in: initialised $PGDATA" >&2
fi
[ "${1:-}" != postgres ] || shift
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
