"""`atiende serve` in a subprocess wired to the fake Twilio, and the signed webhook forms
Twilio would post to it (the WhatsApp channel tests and the fault suite share these)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fakes.twilio_server import FakeTwilio

from server.channels.twilio_inbound import sign

PUBLIC_BASE_URL = "https://bot.example.com"
TENANT_NUMBER = "whatsapp:+14155238886"
CUSTOMER = "whatsapp:+5215512345678"
ADMIN_KEY = "test-admin-key"


def form(sid: str, body: str = "hola", sender: str = CUSTOMER, **extra: str) -> dict[str, str]:
    """The form of an inbound WhatsApp message as Twilio posts it."""
    return {
        "MessageSid": sid,
        "AccountSid": "AC" + "f" * 32,
        "From": sender,
        "To": TENANT_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "ProfileName": "Ana",
        "WaId": sender.removeprefix("whatsapp:+"),
        **extra,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`atiende serve` in a subprocess (its own worker), on loopback; `kill()` is SIGKILL.
    `start()` again after `kill()` restarts it on the same port and data folder; its log
    (stderr) is `log_path`."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"server-{self.port}.log"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        command = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            env={**self.env, "DATA_DIR": str(self.data_dir)},
            cwd=self.data_dir.parent,
            stdout=subprocess.DEVNULL,
            stderr=open(self.log_path, "ab"),  # noqa: SIM115
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return self
            time.sleep(0.05)
        raise AssertionError("server did not start in time")

    def post(self, path: str, params: dict[str, str], token: str) -> httpx.Response:
        signature = sign(token, PUBLIC_BASE_URL + path, params)
        return httpx.post(
            self.url + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def server_env(database_url: str, twilio: FakeTwilio, **extra: str) -> dict[str, str]:
    """Environment of a server process on `database_url` wired to the fake Twilio."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TWILIO_"))}
    return {
        **keep,
        "APP_ENV": "development",
        "LLM_MODE": "extractive",
        "ADMIN_API_KEY": ADMIN_KEY,
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_WHATSAPP_NUMBER": TENANT_NUMBER,
        "TWILIO_API_BASE_URL": twilio.url,
        "TWILIO_RETRY_BASE_SECONDS": "0.01",
        "WORKER_POLL_SECONDS": "0.02",
        "EMBEDDING_THREADS": "1",
        **extra,
    }
