"""The backup jobs' worker lock (backup/locking.py): taken when free, refused without
waiting while another open file holds it, let go when the block ends; the daily backup and
the PITR sampler each step aside while their own lock file is held."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from argus_management.backup.locking import try_flock
from argus_management.backup.metrics import PITR_FILE
from argus_management.backup.pitr_status import sample_locked
from argus_management.backup.schedule import backup_once_locked


def _free(path: Path) -> bool:
    """Whether another open file could take the lock now (it is let go at once)."""
    with path.open("a") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True


@contextmanager
def _held(path: Path) -> Iterator[None]:
    """``path`` locked by another open file (another worker) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield


async def test_the_lock_is_refused_while_held_and_let_go_after(tmp_path: Path) -> None:
    lock = tmp_path / "made" / "here" / ".lock"
    async with try_flock(lock) as mine:
        assert mine and lock.exists()  # the folder is made
        assert not _free(lock)
        async with try_flock(lock) as second:
            assert not second  # refused without waiting
    assert _free(lock)

    with _held(lock):
        async with try_flock(lock) as mine:
            assert not mine
    async with try_flock(lock) as mine:
        assert mine


async def test_the_backup_jobs_step_aside_while_their_lock_is_held(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    with _held(backups / ".lock"):
        # refused before the database is looked at: this URL would fail otherwise
        assert await backup_once_locked("nosuch://", str(backups), 7) is False
    with _held(backups / ".pitr.lock"):
        assert await sample_locked(None, None, str(backups)) is None
    assert not (backups / PITR_FILE).exists()
    # each lock is its own: the sampler runs while the daily backup's lock is held
    with _held(backups / ".lock"):
        status = await sample_locked(None, None, str(backups))
    assert status is not None and status.problems == []
    assert (backups / PITR_FILE).exists()
