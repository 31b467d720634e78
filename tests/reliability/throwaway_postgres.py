"""A throwaway Postgres cluster for the fault suite: Debian's `initdb` and `pg_ctl` on a temp
folder and a free loopback port, never the machine's shared server.

    with ThrowawayCluster.create() as cluster:
        url = cluster.create_database("faults")
        cluster.kill()      # SIGKILL to the postmaster and every backend
        cluster.start()     # the same port and data: crash recovery, then up again

`initdb` and `pg_ctl` refuse to run as root: as root the cluster runs as the `postgres` OS
user (the temp folder is handed to it); otherwise as the current user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg
from fakes.server_process import free_port
from psycopg import sql

SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c shared_buffers=32MB"
)
"""No fsync (the data is thrown away, and a killed postmaster recovers from the page cache;
commits stay synchronous, so nothing acknowledged is lost when it is killed) and room for
several server processes' pools."""


class ClusterUnavailable(RuntimeError):
    """initdb / pg_ctl are not installed, or the cluster would not start."""


def postgres_bindir() -> Path:
    """The folder of `initdb` and `pg_ctl` (pg_config's, else the newest Debian install)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            found = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(Path(found.stdout.strip()))
    installed = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted((Path(p) for p in installed), key=_version, reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise ClusterUnavailable("initdb/pg_ctl not found (apt-get install postgresql)")


def _version(bindir: Path) -> float:
    try:
        return float(bindir.parent.name)
    except ValueError:
        return 0.0


class ThrowawayCluster:
    """One Postgres cluster in a temp folder; `stop()` (or leaving `with`) deletes it."""

    def __init__(self, bindir: Path, root: Path, port: int, os_user: str | None) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = port
        self.os_user = os_user
        """Whom initdb/pg_ctl run as (None: the current user)."""

    @classmethod
    def create(cls) -> ThrowawayCluster:
        """initdb a new cluster on a free port and start it."""
        bindir = postgres_bindir()
        root = Path(tempfile.mkdtemp(prefix="atiende-faults-pg-"))
        os_user = "postgres" if os.geteuid() == 0 else None
        if os_user is not None:
            try:
                owner = pwd.getpwnam(os_user)
            except KeyError as error:
                shutil.rmtree(root, ignore_errors=True)
                raise ClusterUnavailable("running as root and no `postgres` OS user") from error
            os.chown(root, owner.pw_uid, owner.pw_gid)
        cluster = cls(bindir, root, free_port(), os_user)
        try:
            cluster._run(
                "initdb",
                "-D",
                str(cluster.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
            cluster.start()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start (or restart after `kill`) on the same port; returns once it accepts queries."""
        options = f"-p {self.port} -k {self.root} {SERVER_OPTIONS}"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w",
            "-t", "120", "start",
        )  # fmt: skip
        self._wait_ready()

    def kill(self) -> None:
        """SIGKILL the postmaster and all its backends at once (no shutdown, no checkpoint);
        returns when they are dead."""
        postmaster = self.postmaster_pid()
        if postmaster is None:
            return
        family = [postmaster, *_children(postmaster)]
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while any(_exists(pid) for pid in family) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _exists(postmaster):
            # still a zombie (its parent, init here, reaps late): Postgres would take the
            # lock file's PID for a live postmaster and refuse to start
            (self.data / "postmaster.pid").unlink(missing_ok=True)

    def is_up(self) -> bool:
        try:
            with psycopg.connect(self.admin_url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def postmaster_pid(self) -> int | None:
        try:
            first = (self.data / "postmaster.pid").read_text().splitlines()[0]
        except (OSError, IndexError):
            return None
        pid = int(first)
        return pid if _alive(pid) else None

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.root / "log").read_text().splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        """Stop the cluster (fast, else killed) and delete its folder."""
        if self.postmaster_pid() is not None:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            except ClusterUnavailable:
                self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayCluster:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.os_user is not None:
            command = ["runuser", "-u", self.os_user, "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=self.root, timeout=180, check=False
        )
        if done.returncode != 0:
            raise ClusterUnavailable(
                f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{self.log_tail()}"
            )

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_up():
                return
            time.sleep(0.1)
        raise ClusterUnavailable(f"the cluster did not accept queries\n{self.log_tail()}")


def _children(parent: int) -> list[int]:
    """Processes whose parent is `parent` (the postmaster's backends)."""
    found: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # the command name, in parentheses, may hold spaces: the fields follow the last ")"
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                found.append(int(stat.parent.name))
    return found


def _exists(pid: int) -> bool:
    """Whether the process exists (a zombie too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    if not _exists(pid):
        return False
    with contextlib.suppress(OSError, IndexError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True
