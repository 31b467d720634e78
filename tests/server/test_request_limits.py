"""Bodies the server must not read: without the admin key, or past a size limit, also when
they come chunked (no Content-Length). Through a real uvicorn server on loopback, because
the test client hands the app the whole body at once."""

from __future__ import annotations

import gc
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from starlette.requests import Request

from config.settings import Settings
from server.app import create_app
from server.body_limit import MAX_BODY_BYTES
from server.channels.twilio_inbound import MAX_WEBHOOK_BYTES

ADMIN_KEY = "test-admin-key"
CHUNK = 1024 * 1024
SEVENTY_MB = 70


class ChunkedBody:
    """`chunks` chunks of 1 MB, sent without a Content-Length; counts what was taken."""

    def __init__(self, chunks: int) -> None:
        self.chunks, self.taken = chunks, 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.chunks):
            self.taken += 1
            yield b"{" * CHUNK


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("limits") / "data"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        app_env="development",
        data_dir=data_dir,
        llm_mode="extractive",
        worker_enabled=False,
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(settings, admin_key=ADMIN_KEY), host="127.0.0.1", port=port, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            if server.started:
                break
            thread.join(0.1)
        assert server.started, "the server did not start"
        yield url
    finally:
        server.should_exit = True
        thread.join(30)


def post_chunked(url: str, body: ChunkedBody, **headers: str) -> httpx.Response:
    return httpx.post(
        url, content=iter(body), headers={"Content-Type": "application/json", **headers}, timeout=60
    )


def test_without_the_key_a_chunked_body_is_refused_before_it_is_read(server_url: str) -> None:
    body = ChunkedBody(SEVENTY_MB)
    response = post_chunked(f"{server_url}/admin/tenants", body)
    assert response.status_code == 401
    assert "admin key" in response.json()["detail"]
    assert body.taken < SEVENTY_MB, "the client could upload the whole body"


def test_a_chunked_body_over_the_limit_is_413(server_url: str) -> None:
    chunks = MAX_BODY_BYTES // CHUNK + 20
    body = ChunkedBody(chunks)
    response = post_chunked(
        f"{server_url}/admin/tenants", body, Authorization=f"Bearer {ADMIN_KEY}"
    )
    assert response.status_code == 413, response.text
    assert "larger than" in response.json()["detail"]
    assert body.taken < chunks, "the server read past its limit"
    healthy = httpx.get(
        f"{server_url}/admin/tenants", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert healthy.status_code == 200


def test_a_chunked_webhook_body_over_its_limit_is_413(server_url: str) -> None:
    chunks = MAX_WEBHOOK_BYTES // CHUNK + 20
    body = ChunkedBody(chunks)
    response = httpx.post(
        f"{server_url}/webhooks/whatsapp/demo",
        content=iter(body),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=60,
    )
    assert response.status_code == 413, response.text
    assert body.taken < chunks, "the server read past the webhook's limit"


def test_a_refused_body_is_not_kept_alive_in_a_reference_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a full collection, nothing of a request answered 422 stays in memory."""
    monkeypatch.chdir(tmp_path)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, app_env="development", data_dir=tmp_path / "data", llm_mode="extractive"
    )
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
    with TestClient(create_app(settings, admin_key=ADMIN_KEY)) as client:
        gc.collect()
        gc.disable()
        try:
            response = client.post("/admin/tenants", content=b"{" * CHUNK, headers=headers)
            assert response.status_code == 422
            left = [o for o in gc.get_objects() if isinstance(o, Request | RequestValidationError)]
        finally:
            gc.enable()
    assert left == []
