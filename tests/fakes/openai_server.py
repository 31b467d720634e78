"""A scriptable OpenAI-compatible chat server on loopback, for tests of the LLM path.

Each deployment under test points its `api_base` at `<url>/<route>/v1` (e.g. `/primary/v1`,
`/fallback/v1`); every route answers from its own script:

    with FakeOpenAIServer() as server:
        server.script("primary", Fail(500))          # next call on /primary: HTTP 500
        server.always("fallback", Answer("hola"))    # every call on /fallback
        ... server.base("primary") ... server.requests("fallback") ...

Behaviours: `Answer` (a normal completion), `Fail` (an HTTP error), `Hang` (no answer for a
while), `Malformed` (200 with a body that is not JSON). Handlers run in threads, so a hanging
route never blocks another; stopping the server releases every hanging handler.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml


@dataclass(frozen=True)
class Answer:
    """A chat completion whose message content is `text`."""

    text: str
    prompt_tokens: int = 120
    completion_tokens: int = 30


@dataclass(frozen=True)
class Fail:
    """An HTTP error with an OpenAI-style error body."""

    status: int = 500
    message: str = "internal error"


@dataclass(frozen=True)
class Hang:
    """Accept the request and say nothing for `seconds` (then drop the connection)."""

    seconds: float = 30.0


@dataclass(frozen=True)
class Malformed:
    """HTTP 200 with a body that is not valid JSON."""

    body: str = '{"id": "chatcmpl-broken", "choices": [{"message": {"content": "hol'


Behaviour = Answer | Fail | Hang | Malformed


@dataclass(frozen=True)
class Request:
    """One request a route received: its JSON body."""

    route: str
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    def text(self, role: str) -> str:
        """Every message content of `role`, joined."""
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == role)


class FakeOpenAIServer:
    """The server; use as a context manager (or call `start()` / `stop()`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Behaviour]] = defaultdict(deque)
        self._defaults: dict[str, Behaviour] = {}
        self._requests: list[Request] = []
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def base(self, route: str) -> str:
        """The `api_base` for a deployment served by `route`."""
        return f"{self.url}/{route}/v1"

    def script(self, route: str, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next calls on `route` (then its default applies)."""
        with self._lock:
            self._scripts[route].extend(behaviours)

    def always(self, route: str, behaviour: Behaviour) -> None:
        """What `route` does once its script is used up."""
        with self._lock:
            self._defaults[route] = behaviour

    def requests(self, route: str | None = None) -> list[Request]:
        """The requests received so far (on `route`, or on every route)."""
        with self._lock:
            return [r for r in self._requests if route is None or r.route == route]

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _next(self, route: str, body: dict[str, Any]) -> Behaviour:
        with self._lock:
            self._requests.append(Request(route, body))
            queued = self._scripts[route]
            if queued:
                return queued.popleft()
            return self._defaults.get(route, Answer("ok"))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                route = self.path.strip("/").split("/", 1)[0]
                behaviour = server._next(route, body)
                if isinstance(behaviour, Hang):
                    server._stopping.wait(behaviour.seconds)
                    self.close_connection = True
                    return
                if isinstance(behaviour, Fail):
                    error = {"error": {"message": behaviour.message, "type": "server_error"}}
                    self._send(behaviour.status, json.dumps(error).encode())
                    return
                if isinstance(behaviour, Malformed):
                    self._send(200, behaviour.body.encode())
                    return
                self._send(200, json.dumps(completion(body, behaviour)).encode())

            def _send(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def completion(request: dict[str, Any], answer: Answer) -> dict[str, Any]:
    """An OpenAI chat-completion body for `answer`."""
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(request.get("model", "fake")),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "total_tokens": answer.prompt_tokens + answer.completion_tokens,
        },
    }


def write_litellm_config(
    server: FakeOpenAIServer,
    path: Path,
    primary_timeout: float = 1.0,
    fallback_timeout: float = 2.0,
) -> Path:
    """A LiteLLM config whose `responder` group is route `primary`, falling back to route
    `fallback`; `responder-premium` (a tenant's own group) is route `premium`."""

    def deployment(group: str, route: str, model: str, timeout: float) -> dict[str, Any]:
        return {
            "model_name": group,
            "litellm_params": {
                "model": model,
                "api_base": server.base(route),
                "api_key": "test-key",
                "timeout": timeout,
                "max_retries": 0,
                "cooldown_time": 30,
            },
        }

    config = {
        "model_list": [
            deployment("responder", "primary", "openai/gpt-4o-mini", primary_timeout),
            deployment("responder-fallback", "fallback", "openai/gpt-4o-mini", fallback_timeout),
            deployment("responder-premium", "premium", "openai/gpt-4o", primary_timeout),
            deployment("summarizer", "primary", "openai/gpt-4o-mini", primary_timeout),
        ],
        "router_settings": {
            "fallbacks": [{"responder": ["responder-fallback"]}],
            "num_retries": 0,
            "allowed_fails": 2,
            "cooldown_time": 30,
        },
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
