"""The WhatsApp channel under test: a fake Twilio REST server on loopback, a server whose
Twilio account points at it, and signed webhook posts (SQLite, and Postgres in CI)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fakes.twilio_server import FakeTwilio
from fastapi.testclient import TestClient
from twilio_support import ADMIN_KEY, PUBLIC_BASE_URL, TENANT_NUMBER, Post

from config.settings import Settings
from server.app import create_app
from server.channels.twilio_inbound import sign


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def wa_settings(settings: Settings, twilio: FakeTwilio) -> Settings:
    """The parent `settings` (SQLite or a fresh Postgres) wired to the fake Twilio, with a
    tiny quiet window so bursts end fast."""
    return settings.model_copy(
        update={
            "public_base_url": PUBLIC_BASE_URL,
            "twilio_account_sid": twilio.account_sid,
            "twilio_auth_token": twilio.auth_token_secret,
            "twilio_whatsapp_number": TENANT_NUMBER,
            "twilio_api_base_url": twilio.url,
            "twilio_retry_base_seconds": 0.01,
            "debounce_seconds": 0.2,
            "debounce_cap_seconds": 2.0,
            "worker_poll_seconds": 0.02,
            "webhook_tenant_cache_seconds": 0.0,
        }
    )


@pytest.fixture
def wa_client(wa_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(wa_settings, admin_key=ADMIN_KEY)) as client:
        yield client


@pytest.fixture
def post(wa_client: TestClient, twilio: FakeTwilio) -> Post:
    """POST a webhook signed with the account's token (or `token=`), like Twilio does."""

    def send(
        path: str, params: dict[str, str], token: str | None = None, **headers: str
    ) -> httpx.Response:
        signature = sign(token or twilio.auth_token, PUBLIC_BASE_URL + path, params)
        return wa_client.post(
            path, data=params, headers={"X-Twilio-Signature": signature, **headers}
        )

    return send
