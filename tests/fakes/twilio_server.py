"""A fake Twilio REST API on loopback: the Messages resource (create and list).

It checks HTTP basic auth like Twilio, records every created message, and can be told to
answer the next creates with errors (`fail_next(500, 429)`), to be slow (`delay`), to accept
a message and then fail in a way that leaves the sender not knowing whether it went out
(`accept_then("drop", "hang", 502)`), or to be down for a while (`go_down(60)`).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from pydantic import SecretStr

MESSAGES_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


@dataclass
class SentMessage:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    account_sid: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def resource(self, account_sid: str) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "account_sid": account_sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "date_created": format_datetime(self.created_at),
            "date_updated": format_datetime(self.created_at),
            "date_sent": None,
            "uri": f"{MESSAGES_PATH.format(sid=account_sid)[:-5]}/{self.sid}.json",
        }


class FakeTwilio:
    """Start with `with FakeTwilio() as twilio:`; `twilio.url` is TWILIO_API_BASE_URL."""

    def __init__(self, account_sid: str = "AC" + "f" * 32, auth_token: str = "fake-token"):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.accounts = {account_sid: auth_token}
        self.messages: list[SentMessage] = []
        self.requests = 0
        self.arrived = 0
        """POSTs received so far (counted before `delay`; `requests` counts after it)."""
        self.delay = 0.0
        self.hang_seconds = 30.0
        """How long a `hang` fault keeps the connection open before closing it unanswered."""
        self.dropped = 0
        """Requests closed unanswered (by `accept_then("drop"|"hang")` or `go_down`)."""
        self._failures: list[int] = []
        self._after_accept: list[str | int] = []
        self._down_until = 0.0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def auth_token_secret(self) -> SecretStr:
        return SecretStr(self.auth_token)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeTwilio:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_account(self, account_sid: str, auth_token: str) -> None:
        """Serve one more account (a tenant's own) on the same fake."""
        self.accounts[account_sid] = auth_token

    def fail_next(self, *statuses: int) -> None:
        """Answer the next creates with these HTTP errors, in order."""
        with self._lock:
            self._failures.extend(statuses)

    def accept_then(self, *faults: str | int) -> None:
        """Accept (record) the next creates, then instead of answering: `"drop"` closes the
        connection, `"hang"` keeps it open `hang_seconds` and closes it, a number answers
        that HTTP error. The sender cannot tell whether those messages went out."""
        with self._lock:
            self._after_accept.extend(faults)

    def go_down(self, seconds: float) -> None:
        """For `seconds`, close every connection at once, unanswered (nothing is created)."""
        with self._lock:
            self._down_until = time.monotonic() + seconds

    @property
    def is_down(self) -> bool:
        with self._lock:
            return time.monotonic() < self._down_until

    def bodies(self, to: str | None = None) -> list[str]:
        with self._lock:
            return [m.body for m in self.messages if to is None or m.to == to]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[SentMessage]:
        """Block until at least `count` messages were created (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} messages, Twilio got {len(self.messages)}")

    def _fault_after_accept(self) -> str | int | None:
        with self._lock:
            return self._after_accept.pop(0) if self._after_accept else None

    def _create(self, account: str, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            if self._failures:
                status = self._failures.pop(0)
                return status, {"code": 20500, "message": "fake failure", "status": status}
            missing = [name for name in ("To", "From", "Body") if not form.get(name)]
            if missing:
                return 400, {"code": 21604, "message": f"missing {missing}", "status": 400}
            message = SentMessage(
                sid=f"SM{next(self._ids):032x}",
                to=form["To"][0],
                from_=form["From"][0],
                body=form["Body"][0],
                status_callback=(form.get("StatusCallback") or [None])[0],
                account_sid=account,
            )
            self.messages.append(message)
            return 201, message.resource(account)

    def _list(self, account: str, query: dict[str, list[str]]) -> dict[str, Any]:
        to, from_ = (query.get("To") or [None])[0], (query.get("From") or [None])[0]
        with self._lock:
            found = [
                m.resource(account)
                for m in reversed(self.messages)
                if m.account_sid == account
                and (to is None or m.to == to)
                and (from_ is None or m.from_ == from_)
            ]
        size = int((query.get("PageSize") or ["50"])[0])
        return {
            "messages": found[:size],
            "page": 0,
            "page_size": size,
            "first_page_uri": "",
            "next_page_uri": None,
            "previous_page_uri": None,
            "uri": "",
            "start": 0,
            "end": len(found[:size]),
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _drop(self, after: float = 0.0) -> None:
                """Close the connection without an answer (after `after` seconds)."""
                with fake._lock:
                    fake.dropped += 1
                if after:
                    time.sleep(after)
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

            def _account(self) -> str | None:
                """The account of the path whose basic auth matches, else None (replied)."""
                parts = urlparse(self.path).path.split("/")
                account = parts[3] if len(parts) == 5 and parts[4] == "Messages.json" else ""
                if account not in fake.accounts or parts[:3] != ["", "2010-04-01", "Accounts"]:
                    self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                    return None
                token = fake.accounts[account]
                expected = base64.b64encode(f"{account}:{token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return None
                return account

            def do_POST(self) -> None:
                if fake.is_down:
                    self._drop()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                account = self._account()
                if account is None:
                    return
                with fake._lock:
                    fake.arrived += 1
                if fake.delay:
                    time.sleep(fake.delay)
                status, payload = fake._create(account, form)
                fault = fake._fault_after_accept() if status == 201 else None
                if fault in ("drop", "hang"):
                    self._drop(fake.hang_seconds if fault == "hang" else 0.0)
                elif isinstance(fault, int):
                    self._reply(fault, {"code": 20500, "message": "fake failure", "status": fault})
                else:
                    self._reply(status, payload)

            def do_GET(self) -> None:
                if fake.is_down:
                    self._drop()
                    return
                account = self._account()
                if account is not None:
                    self._reply(200, fake._list(account, parse_qs(urlparse(self.path).query)))

        return Handler
