"""Fixtures running the persistence tests on both backends (`fresh_postgres_url` is in tests/conftest.py).

`backend_settings` is parametrised: SQLite in `tmp_path`, and Postgres on a fresh database
per test (`atiende_t_<random>`, dropped afterwards) on the `postgres_url` server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from checkpoints.persistence import Persistence, open_persistence
from checkpoints.service import ServiceStore
from config.settings import Settings

SettingsFactory = Callable[[Path, str | None], Settings]


def _make_settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, app_env="test", data_dir=data_dir, database_url=database_url
    )


@pytest.fixture
def make_settings() -> SettingsFactory:
    """Builds test settings (data_dir, database_url), ignoring any .env file."""
    return _make_settings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for the SQLite backend or for a fresh Postgres database."""
    if request.param == "sqlite":
        return _make_settings(tmp_path / "data", None)
    return _make_settings(tmp_path / "data", request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
async def persistence(backend_settings: Settings) -> AsyncIterator[Persistence]:
    async with open_persistence(backend_settings) as opened:
        yield opened


@pytest.fixture
def service(persistence: Persistence) -> ServiceStore:
    return persistence.service
