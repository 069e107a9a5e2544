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

# The server may still be starting: try the stanza for up to 5 minutes.
tries=0
until pgbackrest --stanza="$STANZA" stanza-create; do
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
