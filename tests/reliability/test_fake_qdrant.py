"""The fake Qdrant of the knowledge-engine fault: a real knowledge base opens on it and
stores the documents, and its searches raise while it fails."""

from __future__ import annotations

import pytest
from fakes.qdrant_server import FakeQdrant
from qdrant_client import QdrantClient

from server.demo import DEMO_DOCUMENTS
from tools.embeddings import default_embedder
from tools.knowledge.qdrant_server import QdrantServerKnowledgeBase


def test_the_knowledge_base_opens_on_it_and_raises_on_search_while_it_fails() -> None:
    embedder = default_embedder()
    with FakeQdrant(embedder.dim) as qdrant:
        client = QdrantClient(url=qdrant.url, check_compatibility=False)
        base = QdrantServerKnowledgeBase(client, embedder)
        base.upsert("demo", DEMO_DOCUMENTS)
        base.ping()
        with pytest.raises(Exception, match="500"):
            base.search("demo", "¿cuál es el horario?")
        qdrant.failing = False
        assert base.search("demo", "¿cuál es el horario?") == []
        base.close()
    assert qdrant.failed == 1 and qdrant.writes > 0
