"""EdgeKnowledgeBase specifics: persistence, the single-process lock, the default wiring."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from tools.embeddings import default_embedder
from tools.knowledge import KnowledgeBaseLocked, open_knowledge_base
from tools.knowledge.edge import EdgeKnowledgeBase
from tools.knowledge.types import Document

SHOP: list[Document] = [
    {"id": "horarios", "text": "# Horarios\n\nAbrimos de lunes a sábado de 9:00 a 19:00."},
    {"id": "envios", "text": "# Envíos\n\nEl envío es gratis en compras mayores a $999."},
]


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[EdgeKnowledgeBase]:
    base = EdgeKnowledgeBase(tmp_path / "kb", default_embedder())
    yield base
    base.close()


def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    with EdgeKnowledgeBase(tmp_path / "kb", default_embedder()) as kb:
        kb.upsert("acme", SHOP)
    with EdgeKnowledgeBase(tmp_path / "kb", default_embedder()) as kb:
        assert kb.count("acme") == 2
        assert kb.search("acme", "¿abren el sábado?")[0]["document_id"] == "horarios"


def test_a_second_opener_fails_clearly(kb: EdgeKnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseLocked, match="already open in another process"):
        EdgeKnowledgeBase(tmp_path / "kb", default_embedder())
    code = (
        "import sys; from pathlib import Path; from tools.embeddings import LocalEmbedder; "
        "from tools.knowledge.edge import EdgeKnowledgeBase; "
        "EdgeKnowledgeBase(Path(sys.argv[1]), LocalEmbedder(threads=1))"
    )
    child = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "kb")], capture_output=True, text=True
    )
    assert child.returncode != 0
    assert "KnowledgeBaseLocked" in child.stderr and "already open" in child.stderr
    kb.close()
    with EdgeKnowledgeBase(tmp_path / "kb", default_embedder()) as reopened:
        reopened.ping()


def test_open_knowledge_base_uses_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, qdrant_url=None, qdrant_host=None)
    kb = open_knowledge_base(settings)
    try:
        assert isinstance(kb, EdgeKnowledgeBase) and kb.path == tmp_path / "qdrant"
        kb.upsert("acme", SHOP[:1])
        assert kb.count("acme") == 1
    finally:
        kb.close()


async def test_concurrent_searches_and_writes_from_threads(kb: EdgeKnowledgeBase) -> None:
    kb.upsert("acme", SHOP)
    searches = [asyncio.to_thread(kb.search, "acme", "¿envío gratis?") for _ in range(16)]
    writes = [
        asyncio.to_thread(kb.upsert, "acme", [{"id": f"faq{i}", "text": f"Pregunta {i}: sí."}])
        for i in range(8)
    ]
    found, _ = await asyncio.gather(asyncio.gather(*searches), asyncio.gather(*writes))
    assert all(passages[0]["document_id"] == "envios" for passages in found)
    assert kb.count("acme") == 2 + 8
