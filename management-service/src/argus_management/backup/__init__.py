"""Backups of management's database (docs/operations.md).

- SQLite (the default): an online copy with SQLite's backup API (``sqlite.py``).
- PostgreSQL: a ``pg_dump`` custom-format archive (``postgres.py``).

Each backup is a file named by the instant it was taken (``names.py``), kept in the object
store under ``<ARGUS_S3_PREFIX>/backups/management/`` when ``ARGUS_S3_BUCKET`` is set, else in
``MANAGEMENT_BACKUP_DIR`` (``store.py``); older than ``MANAGEMENT_BACKUP_KEEP_DAYS`` are
deleted after each backup. ``schedule.py`` runs one a day at ``MANAGEMENT_BACKUP_AT`` (UTC);
``argus-management backup run`` runs one now and ``make restore-drill`` (``drill.py``)
restores the newest into a scratch database and checks it.

PostgreSQL point-in-time recovery: WAL archiving and daily full backups with pgBackRest
(``pgbackrest.py`` renders its configuration; ``make pitr-drill`` rehearses a restore).
"""
