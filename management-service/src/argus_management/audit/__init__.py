"""The audit log: append-only, hash-chained (``chain`` is imported here so that every row,
whoever adds it, is chained at flush)."""

from argus_management.audit import chain as chain
