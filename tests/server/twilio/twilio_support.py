"""Helpers of the WhatsApp channel tests: signed webhook forms and `atiende serve`
subprocesses wired to the fake Twilio (in tests/fakes/server_process.py, shared with the
fault suite), and an admin GET through a TestClient (the fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fakes.server_process import (
    ADMIN_KEY,
    CUSTOMER,
    PUBLIC_BASE_URL,
    TENANT_NUMBER,
    ServerProcess,
    form,
    free_port,
    server_env,
)
from fastapi.testclient import TestClient

__all__ = [
    "ADMIN_KEY",
    "CUSTOMER",
    "PUBLIC_BASE_URL",
    "TENANT_NUMBER",
    "Post",
    "ServerProcess",
    "admin_get",
    "form",
    "free_port",
    "server_env",
]

Post = Callable[..., httpx.Response]


def admin_get(client: TestClient, path: str) -> Any:
    response = client.get(path, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert response.status_code == 200, response.text
    return response.json()
