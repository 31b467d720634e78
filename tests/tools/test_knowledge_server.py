"""QdrantServerKnowledgeBase specifics, on qdrant-client's local mode (no server needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient, models

from config.settings import Settings
from tools.embeddings import default_embedder
from tools.knowledge import KnowledgeBaseError, open_knowledge_base
from tools.knowledge.qdrant_server import QdrantServerKnowledgeBase

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect")


class _SmallEmbedder:
    dim = 8

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), self.dim), dtype=np.float32) / np.sqrt(self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return np.ones(self.dim, dtype=np.float32) / np.sqrt(self.dim)


def test_collection_has_the_hybrid_shape() -> None:
    client = QdrantClient(":memory:")
    QdrantServerKnowledgeBase(client, default_embedder(), collection="kb")
    params = client.get_collection("kb").config.params
    assert isinstance(params.vectors, dict)
    dense = params.vectors["dense"]
    assert dense.size == 512 and dense.distance == models.Distance.COSINE
    assert params.sparse_vectors is not None
    assert params.sparse_vectors["bm25"].modifier == models.Modifier.IDF


def test_reopening_with_another_embedder_is_refused() -> None:
    client = QdrantClient(":memory:")
    QdrantServerKnowledgeBase(client, default_embedder(), collection="kb")
    with pytest.raises(KnowledgeBaseError, match="another embedder"):
        QdrantServerKnowledgeBase(client, _SmallEmbedder(), collection="kb")


def test_data_is_shared_through_the_collection(tmp_path: Path) -> None:
    first = QdrantServerKnowledgeBase(QdrantClient(path=str(tmp_path)), default_embedder())
    first.upsert("acme", [{"id": "envios", "text": "# Envíos\n\nEnvío gratis desde $999."}])
    first.close()
    second = QdrantServerKnowledgeBase(QdrantClient(path=str(tmp_path)), default_embedder())
    try:
        assert second.count("acme") == 1
        assert second.search("acme", "¿el envío es gratis?")[0]["document_id"] == "envios"
    finally:
        second.close()


def test_an_unreachable_server_fails_clearly() -> None:
    settings = Settings(qdrant_url="http://127.0.0.1:9", data_dir=Path("/nonexistent"))
    with pytest.raises(KnowledgeBaseError, match="cannot open Qdrant collection"):
        open_knowledge_base(settings, _SmallEmbedder())
