"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from config.settings import get_settings
from graph.context import TenantContext
from server.demo import DEMO_DOCUMENTS
from tools import llm
from tools.embeddings import default_embedder
from tools.knowledge import open_knowledge_base
from tools.knowledge.shared import use_knowledge_base

# --- postgres_url ---------------------------------------------------------------------------
# A reachable Postgres server for tests that need a real one. URL from TEST_DATABASE_URL
# (default: local trust-auth server). Unreachable: the test is SKIPPED locally, but FAILS
# when CI is set (CI must never skip Postgres tests). Tests that write should create their
# own database on this server (see tests/checkpoints/conftest.py: `fresh_postgres_url`).

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a reachable Postgres server (an existing admin database on it)."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
    try:
        with psycopg.connect(url, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        where = {k: v for k, v in conninfo_to_dict(url).items() if k in ("host", "port", "dbname")}
        message = f"Postgres unreachable at {where}: {str(exc).strip()}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: Postgres tests must run)")
        pytest.skip(message)
    return url


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """URL of a new, empty database on the test server; dropped after the test."""
    name = f"atiende_t_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield postgres_database_url(postgres_url, name)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def postgres_database_url(server_url: str, dbname: str) -> str:
    """A postgresql:// URL for database `dbname` on the server of `server_url` (URL or conninfo)."""
    params = conninfo_to_dict(server_url)
    user = quote(str(params.get("user", "postgres")), safe="")
    password = f":{quote(str(params['password']), safe='')}" if params.get("password") else ""
    host = quote(str(params.get("host", "127.0.0.1")), safe="")
    port = params.get("port", "5432")
    return f"postgresql://{user}{password}@{host}:{port}/{dbname}"


# --- graph and nodes ------------------------------------------------------------------------
# A runtime with a tenant context, the demo shop as tenant `shop` in a real knowledge base
# under a temp folder, and the one LLM seam (`tools.llm.get_chat_model`) set offline or fake.


@pytest.fixture
def runtime() -> Runtime[TenantContext]:
    return Runtime(context=TenantContext(tenant_id="shop", company_name="Tienda Luna"))


@pytest.fixture
def knowledge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The demo shop's documents under tenant `shop`, installed as the process's knowledge base."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    base = open_knowledge_base(get_settings())
    base.upsert("shop", DEMO_DOCUMENTS)
    use_knowledge_base(base)
    yield
    use_knowledge_base(None)
    base.close()
    get_settings.cache_clear()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Extractive mode: no chat model."""
    monkeypatch.setattr(llm, "get_chat_model", lambda *args, **kwargs: None)


@pytest.fixture
def fake_chat(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Replace the one LLM seam with a scripted fake chat model; returns a setter."""

    def install(*replies: str | BaseChatModel) -> FakeMessagesListChatModel:
        model = FakeMessagesListChatModel(responses=[AIMessage(content=r) for r in replies])  # type: ignore[arg-type]
        monkeypatch.setattr(llm, "get_chat_model", lambda *args, **kwargs: model)
        return model

    return install


@pytest.fixture(scope="session", autouse=True)
def warm_embedder() -> None:
    default_embedder().embed_query("hola")
