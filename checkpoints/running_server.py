"""`RunningServer`: `<data_dir>/server.json`, how a CLI finds the server on this data folder.

Written by the server once it listens, removed when it stops; readable only by its owner
(mode 0600) because it holds the admin key. A record whose pid is gone is stale.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

SERVER_FILENAME = "server.json"


@dataclass(frozen=True)
class RunningServer:
    """The server running on a data folder."""

    url: str
    pid: int
    admin_key: str

    @classmethod
    def write(
        cls, data_dir: Path | str, url: str, admin_key: str, pid: int | None = None
    ) -> RunningServer:
        """Record this process (or `pid`) as the server of `data_dir`, atomically, mode 0600."""
        record = cls(url=url, pid=os.getpid() if pid is None else pid, admin_key=admin_key)
        folder = Path(data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / SERVER_FILENAME
        temporary = folder / f".{SERVER_FILENAME}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, json.dumps(asdict(record)).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
        return record

    @classmethod
    def read(cls, data_dir: Path | str) -> RunningServer | None:
        """The recorded server, or None when there is none, it is unreadable, or it is stale."""
        try:
            data = json.loads((Path(data_dir) / SERVER_FILENAME).read_text())
            record = cls(
                url=str(data["url"]), pid=int(data["pid"]), admin_key=str(data["admin_key"])
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return record if pid_alive(record.pid) else None

    @staticmethod
    def remove(data_dir: Path | str, pid: int | None = None) -> None:
        """Delete the record if it belongs to this process (or `pid`)."""
        path = Path(data_dir) / SERVER_FILENAME
        try:
            owner = int(json.loads(path.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        if owner == (os.getpid() if pid is None else pid):
            path.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (zombies count as gone only once reaped)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
