"""What the speed benchmarks share: a server subprocess on loopback, signed webhook
requests, percentiles and the report format (a table, then JSON as the last line)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from twilio.request_validator import RequestValidator

BENCH_TOKEN = "bench-auth-token"
BENCH_ADMIN_KEY = "bench-admin-key"
BENCH_NUMBER = "whatsapp:+14155238886"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class RunningBenchServer:
    url: str
    auth_token: str
    admin_key: str
    database: str
    """`postgres` or `sqlite` (the SQLite file path after a colon)."""
    pid: int | None = None
    """The server process (None for a server this bench did not start)."""

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process used so far; 0 when unknown."""
        if self.pid is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def bench_server(
    command: Sequence[str], env: dict[str, str], startup_seconds: float = 120.0
) -> Iterator[RunningBenchServer]:
    """Run `command` (an `atiende serve`-like process) on a free port and a temp data
    folder, on DATABASE_URL's Postgres when it is set (else SQLite); stop it on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="atiende-bench-") as folder:
        data_dir = Path(folder) / "data"
        database_url = os.environ.get("DATABASE_URL", "")
        full_env = {
            **os.environ,
            "APP_ENV": "development",
            "DATA_DIR": str(data_dir),
            "ADMIN_API_KEY": BENCH_ADMIN_KEY,
            "PUBLIC_BASE_URL": url,
            "TWILIO_AUTH_TOKEN": BENCH_TOKEN,
            "LLM_MODE": "extractive",
            **env,
        }
        log = (Path(folder) / "server.log").open("wb")
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            env=full_env,
            cwd=folder,
            stdout=log,
            stderr=log,
        )
        try:
            try:
                _wait_ready(url, process, startup_seconds)
            except RuntimeError:
                log.flush()
                tail = (Path(folder) / "server.log").read_text(errors="replace")[-3000:]
                print(tail, file=sys.stderr)
                raise
            database = "postgres" if database_url.startswith("postgres") else f"sqlite:{data_dir}"
            yield RunningBenchServer(url, BENCH_TOKEN, BENCH_ADMIN_KEY, database, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the bench server exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("the bench server did not start in time")


def signed_webhook(
    base_url: str, tenant_id: str, token: str, sid: str, sender: str, body: str
) -> tuple[str, bytes, dict[str, str]]:
    """URL, url-encoded body and headers of one signed inbound-message webhook."""
    from urllib.parse import urlencode

    path = f"/webhooks/whatsapp/{tenant_id}"
    params = {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": f"whatsapp:{sender}",
        "To": BENCH_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "ProfileName": "Bench",
        "WaId": sender.lstrip("+"),
    }
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(token).compute_signature(base_url + path, params),
    }
    return base_url + path, urlencode(params).encode(), headers


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` percentile (nearest rank) of `values`; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def report(title: str, rows: Sequence[tuple[str, Any]], figures: dict[str, Any]) -> None:
    """Print the human-readable table, then the JSON figures as the last line."""
    width = max(len(name) for name, _ in rows)
    print(title)
    print("-" * len(title))
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    print(json.dumps(figures, ensure_ascii=False), flush=True)


def serve_command(preamble: str = "") -> list[str]:
    """`atiende serve` with this interpreter, after running `preamble` (e.g. stubs)."""
    code = f"{preamble}\nimport sys\nfrom server.cli import main\nsys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, "serve"]
