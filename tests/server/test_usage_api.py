"""GET /admin/tenants/{id}/usage: tokens and cost per day and model (SQLite and Postgres)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient

from checkpoints.usage import UsageStore
from config.settings import Settings
from server.app import create_app
from server.auth import require_admin
from server.routes import usage

ADMIN_KEY = "test-admin-key"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
USAGE_PATH = "/admin/tenants/{tenant_id}/usage"
DAY_ONE = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
DAY_TWO = DAY_ONE + timedelta(days=1)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, admin_key=ADMIN_KEY)
    if not any(getattr(route, "path", "") == USAGE_PATH for route in app.routes):
        app.include_router(usage.router, dependencies=[Depends(require_admin)])
    with TestClient(app) as test_client:
        yield test_client


def call(call_id: str, model: str, tokens: tuple[int, int], cost: float) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "model_group": "responder",
        "model": model,
        "input_tokens": tokens[0],
        "output_tokens": tokens[1],
        "cost_usd": cost,
    }


def record(client: TestClient, tenant_id: str, calls: list[dict[str, Any]], at: datetime) -> int:
    store = UsageStore(client.app.state.services.persistence.db)  # type: ignore[attr-defined]
    return int(client.portal.call(store.record, tenant_id, "conv1", calls, at))  # type: ignore[union-attr]


def test_usage_by_day_and_model(client: TestClient) -> None:
    flash, mini = "gemini/gemini-2.5-flash", "openai/gpt-4o-mini"
    assert (
        record(
            client,
            "demo",
            [call("a", flash, (100, 20), 0.001), call("b", flash, (50, 10), 0.0005)],
            DAY_ONE,
        )
        == 2
    )
    assert (
        record(client, "demo", [call("b", flash, (50, 10), 0.0005)], DAY_ONE) == 0
    )  # again: no-op
    assert record(client, "demo", [call("c", mini, (200, 40), 0.002)], DAY_TWO) == 1
    created = client.post("/admin/tenants", json={"id": "otra", "name": "Otra"}, headers=ADMIN)
    assert created.status_code == 201
    record(client, "otra", [call("a", flash, (999, 999), 9.0)], DAY_ONE)

    response = client.get("/admin/tenants/demo/usage?from=2026-03-01&to=2026-03-02", headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["tenant_id"], body["from"], body["to"]) == ("demo", "2026-03-01", "2026-03-02")
    assert [
        (d["day"], d["model"], d["calls"], d["input_tokens"], d["output_tokens"])
        for d in body["days"]
    ] == [
        ("2026-03-01", flash, 2, 150, 30),
        ("2026-03-02", mini, 1, 200, 40),
    ]
    assert body["days"][0]["cost_usd"] == pytest.approx(0.0015)
    assert body["totals"]["calls"] == 3 and body["totals"]["cost_usd"] == pytest.approx(0.0035)
    only_first = client.get(
        "/admin/tenants/demo/usage?from=2026-03-02&to=2026-03-02", headers=ADMIN
    )
    assert [d["model"] for d in only_first.json()["days"]] == [mini]


def test_default_range_is_the_last_30_days(client: TestClient) -> None:
    today = datetime.now(UTC)
    record(client, "demo", [call("now", "m", (1, 1), 0.0)], today)
    record(client, "demo", [call("old", "m", (1, 1), 0.0)], today - timedelta(days=45))
    body = client.get("/admin/tenants/demo/usage", headers=ADMIN).json()
    assert body["to"] == today.date().isoformat()
    assert body["from"] == (today.date() - timedelta(days=29)).isoformat()
    assert body["totals"]["calls"] == 1


def test_usage_errors_are_clear(client: TestClient) -> None:
    assert client.get("/admin/tenants/demo/usage").status_code == 401
    assert client.get("/admin/tenants/nope/usage", headers=ADMIN).status_code == 404
    backwards = client.get("/admin/tenants/demo/usage?from=2026-03-02&to=2026-03-01", headers=ADMIN)
    assert backwards.status_code == 422 and "after" in backwards.json()["detail"]
    too_long = client.get("/admin/tenants/demo/usage?from=2020-01-01&to=2026-01-01", headers=ADMIN)
    assert too_long.status_code == 422
    not_a_date = client.get("/admin/tenants/demo/usage?from=yesterday", headers=ADMIN)
    assert not_a_date.status_code == 422 and "detail" in not_a_date.json()
