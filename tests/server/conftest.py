"""A server per test on a fresh data folder, on SQLite and on a fresh Postgres database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from server.app import create_app

ADMIN_KEY = "test-admin-key"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Development settings (the demo tenant exists) on the backend of the parameter."""
    monkeypatch.chdir(tmp_path)
    database_url = (
        None if request.param == "sqlite" else request.getfixturevalue("fresh_postgres_url")
    )
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        app_env="development",
        data_dir=tmp_path / "data",
        llm_mode="extractive",
        database_url=database_url,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, admin_key=ADMIN_KEY)) as test_client:
        yield test_client


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}
