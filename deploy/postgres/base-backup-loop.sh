#!/bin/sh
# The scheduled full (base) backup of PostgreSQL with pgBackRest: the `db-backup` service of
# docker-compose.pitr.yml runs this (a native install uses argus-pgbackrest-backup.timer
# instead). Creates the stanza (idempotent), then once a day at ARGUS_BACKUP_AT (UTC,
# HH:MM, default 01:30) takes a full backup; pgBackRest then expires backups and WAL older
# than the retention in its configuration (7 days: repo1-retention-full-type=time).
# pgBackRest reads its settings from PGBACKREST_* variables or /etc/pgbackrest.conf (so this
# script's own settings are ARGUS_*: pgBackRest warns about every PGBACKREST_* it does not know).
set -eu

STANZA="${PGBACKREST_STANZA:-argus}"
AT="${ARGUS_BACKUP_AT:-01:30}"
# `pgbackrest info --output=json`, rewritten every 10 minutes and after each backup, where
# management reads it (MANAGEMENT_PGBACKREST_INFO_FILE: the base-backup-age metric).
INFO_FILE="${ARGUS_PGBACKREST_INFO_FILE:-/var/run/postgresql/pgbackrest-info.json}"

write_info() {
    if pgbackrest --stanza="$STANZA" info --output=json > "$INFO_FILE.tmp"; then
        chmod 0644 "$INFO_FILE.tmp" && mv -f "$INFO_FILE.tmp" "$INFO_FILE"
    else
        rm -f "$INFO_FILE.tmp"
        echo "base-backup-loop: pgbackrest info failed" >&2
    fi
}
case "$AT" in
    [0-2][0-9]:[0-5][0-9]) ;;
    *) echo "base-backup-loop: ARGUS_BACKUP_AT must be HH:MM (UTC), not '$AT'" >&2; exit 2 ;;
esac

# pgBackRest does not create its bucket; on a fresh store (the local SeaweedFS) nothing else
# may have yet (recording's tiering and management's backups create it on first use). So: a
# HEAD of the bucket (S3 signature V4 by curl, path style, the repository's TLS settings) and
# a PUT when it answers 404; any other answer leaves it to stanza-create to report. The
# credentials go to curl on stdin, not in its arguments.
ensure_bucket() {
    [ "${PGBACKREST_REPO1_TYPE:-}" = s3 ] || return 0
    url="https://${PGBACKREST_REPO1_S3_ENDPOINT}:${PGBACKREST_REPO1_STORAGE_PORT:-443}/${PGBACKREST_REPO1_S3_BUCKET}"
    set -- --aws-sigv4 "aws:amz:${PGBACKREST_REPO1_S3_REGION:-us-east-1}:s3" -s -o /dev/null \
        -w '%{http_code}' --max-time 20
    if [ "${PGBACKREST_REPO1_STORAGE_VERIFY_TLS:-y}" = n ]; then
        set -- "$@" -k
    elif [ -n "${PGBACKREST_REPO1_STORAGE_CA_FILE:-}" ]; then
        set -- "$@" --cacert "$PGBACKREST_REPO1_STORAGE_CA_FILE"
    fi
    creds="user = \"${PGBACKREST_REPO1_S3_KEY}:${PGBACKREST_REPO1_S3_KEY_SECRET}\""
    code=$(echo "$creds" | curl -K - "$@" -I "$url") || code=000
    if [ "$code" = 404 ]; then
        code=$(echo "$creds" | curl -K - "$@" -X PUT "$url") || code=000
        echo "base-backup-loop: created bucket ${PGBACKREST_REPO1_S3_BUCKET}: HTTP $code" >&2
    fi
}

# The server (and the store) may still be starting: try the stanza for up to 5 minutes.
tries=0
until ensure_bucket && pgbackrest --stanza="$STANZA" stanza-create; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || { echo "base-backup-loop: stanza-create kept failing" >&2; exit 1; }
    sleep 10
done

# A first full backup at once when the repository has none (PITR needs one to start from).
if ! pgbackrest --stanza="$STANZA" info --output=json | grep -q '"label"'; then
    pgbackrest --stanza="$STANZA" backup --type=full || echo "base-backup-loop: first backup failed" >&2
fi
write_info
( while sleep 600; do write_info; done ) &

while true; do
    now=$(date -u +%s)
    next=$(date -u -d "today $AT" +%s)
    [ "$next" -gt "$now" ] || next=$(date -u -d "tomorrow $AT" +%s)
    sleep $((next - now))
    # A failure is logged and retried tomorrow; the restore drill and pgbackrest info show it.
    pgbackrest --stanza="$STANZA" backup --type=full || echo "base-backup-loop: backup failed" >&2
    write_info
done
