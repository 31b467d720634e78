"""`RunningServer`: server.json beside the data, private, and stale once the pid is gone."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from checkpoints.running_server import SERVER_FILENAME, RunningServer, pid_alive


def test_write_then_read(tmp_path: Path) -> None:
    written = RunningServer.write(tmp_path / "data", "http://127.0.0.1:8000", "secret-key")
    assert written == RunningServer("http://127.0.0.1:8000", os.getpid(), "secret-key")
    path = tmp_path / "data" / SERVER_FILENAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert RunningServer.read(tmp_path / "data") == written
    assert [p.name for p in (tmp_path / "data").iterdir()] == [SERVER_FILENAME]


def test_rewrite_keeps_it_private(tmp_path: Path) -> None:
    (tmp_path / SERVER_FILENAME).write_text("{}")
    (tmp_path / SERVER_FILENAME).chmod(0o644)
    RunningServer.write(tmp_path, "http://a", "k1")
    RunningServer.write(tmp_path, "http://b", "k2")
    assert stat.S_IMODE((tmp_path / SERVER_FILENAME).stat().st_mode) == 0o600
    assert RunningServer.read(tmp_path) == RunningServer("http://b", os.getpid(), "k2")


def test_stale_when_the_pid_is_gone(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(done.stdout)
    assert not pid_alive(dead_pid)
    RunningServer.write(tmp_path, "http://127.0.0.1:8000", "k", pid=dead_pid)
    assert (tmp_path / SERVER_FILENAME).exists()
    assert RunningServer.read(tmp_path) is None


def test_missing_or_corrupt_file_reads_as_none(tmp_path: Path) -> None:
    assert RunningServer.read(tmp_path) is None
    (tmp_path / SERVER_FILENAME).write_text("{not json")
    assert RunningServer.read(tmp_path) is None
    (tmp_path / SERVER_FILENAME).write_text(json.dumps({"url": "http://x", "pid": os.getpid()}))
    assert RunningServer.read(tmp_path) is None


def test_remove_only_deletes_its_own_record(tmp_path: Path) -> None:
    RunningServer.write(tmp_path, "http://x", "k", pid=os.getppid())
    RunningServer.remove(tmp_path)  # not ours: kept
    assert (tmp_path / SERVER_FILENAME).exists()
    RunningServer.remove(tmp_path, pid=os.getppid())
    assert not (tmp_path / SERVER_FILENAME).exists()
    RunningServer.remove(tmp_path)  # nothing to remove: no error


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(0)
    assert not pid_alive(-5)
