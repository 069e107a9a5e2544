"""Alembic migrations (run on PostgreSQL and SQLite)."""
