"""`DataDirLock`: one Atiende process at a time writes to an embedded data folder.

An advisory `flock` on `<data_dir>/atiende.lock`; the kernel drops it when the holder
exits, however it exits, so there is never a stale lock to clean up. The holder writes
its pid and URL into the file so a second process can say who is in the way.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from types import TracebackType

LOCK_FILENAME = "atiende.lock"


class DataDirInUse(RuntimeError):
    """Another process holds the data folder."""

    def __init__(self, data_dir: Path, pid: int | None, url: str | None) -> None:
        holder = ", ".join(
            part for part in (f"pid {pid}" if pid else "", f"serving {url}" if url else "") if part
        )
        super().__init__(
            f"the data folder {data_dir} is in use by another Atiende process"
            f"{f' ({holder})' if holder else ''}; stop it, or use another data folder"
        )
        self.data_dir = data_dir
        self.pid = pid
        self.url = url


class DataDirLock:
    """Exclusive, non-blocking lock of a data folder; also a context manager."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.path = self.data_dir / LOCK_FILENAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, url: str | None = None) -> None:
        """Take the lock (creating the folder) or raise `DataDirInUse` at once."""
        if self._fd is not None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # no O_TRUNC: keep the holder's info
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, holder_url = _read_holder(fd)
            os.close(fd)
            raise DataDirInUse(self.data_dir, pid, holder_url) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self.set_url(url)

    def set_url(self, url: str | None) -> None:
        """Record (or update) the URL this holder serves, for the error others see."""
        if self._fd is None:
            raise RuntimeError("lock not held")
        payload = json.dumps({"pid": os.getpid(), "url": url}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, payload, 0)

    def release(self) -> None:
        """Give the lock up (the file stays; it is empty of meaning without the flock)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> tuple[int | None, str | None]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    pid, url = data.get("pid"), data.get("url")
    return (pid if isinstance(pid, int) else None), (url if isinstance(url, str) else None)
