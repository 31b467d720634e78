"""`DataDirLock`: one writer per data folder, and a clear error for the second."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from checkpoints.lock import DataDirInUse, DataDirLock


def test_second_holder_fails_naming_folder_pid_and_url(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path / "data")
    first.acquire(url="http://127.0.0.1:8000")
    try:
        with pytest.raises(DataDirInUse) as caught:
            DataDirLock(tmp_path / "data").acquire()
        error = caught.value
        assert error.pid == os.getpid()
        assert error.url == "http://127.0.0.1:8000"
        message = str(error)
        assert str((tmp_path / "data").resolve()) in message
        assert f"pid {os.getpid()}" in message and "http://127.0.0.1:8000" in message
        # the failed attempt did not wipe the holder's details
        with pytest.raises(DataDirInUse, match="8000"):
            DataDirLock(tmp_path / "data").acquire()
    finally:
        first.release()
    assert not first.held


def test_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    with DataDirLock(tmp_path) as lock:
        assert lock.held
        lock.set_url("http://localhost:9000")
        with pytest.raises(DataDirInUse, match="9000"):
            DataDirLock(tmp_path).acquire()
    with DataDirLock(tmp_path) as again:
        assert again.held


def test_other_folders_are_independent(tmp_path: Path) -> None:
    with DataDirLock(tmp_path / "a"), DataDirLock(tmp_path / "b") as b:
        assert b.held


HOLDER = textwrap.dedent(
    """
    import sys
    from checkpoints.lock import DataDirLock
    lock = DataDirLock(sys.argv[1])
    lock.acquire(url="http://127.0.0.1:8123")
    print("held", flush=True)
    sys.stdin.readline()
    """
)


def test_lock_held_by_another_process_and_freed_when_it_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DataDirInUse) as caught:
            DataDirLock(tmp_path).acquire()
        assert caught.value.pid == holder.pid
        assert caught.value.url == "http://127.0.0.1:8123"
    finally:
        holder.kill()  # no clean release: the kernel must drop the lock
        holder.wait(timeout=10)
    with DataDirLock(tmp_path) as lock:
        assert lock.held


def test_unreadable_holder_details_still_give_a_clear_error(tmp_path: Path) -> None:
    with DataDirLock(tmp_path) as lock:
        assert lock._fd is not None
        os.ftruncate(lock._fd, 0)
        os.pwrite(lock._fd, b"garbage", 0)
        with pytest.raises(DataDirInUse, match="in use by another Atiende process") as caught:
            DataDirLock(tmp_path).acquire()
        assert (caught.value.pid, caught.value.url) == (None, None)
