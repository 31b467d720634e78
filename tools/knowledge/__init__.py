"""The tenant knowledge base: ingestion, chunking and hybrid search.

Importing this package is cheap: the engine and the embedding model load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.knowledge.base import (
    DocumentInfo,
    KnowledgeBase,
    KnowledgeBaseError,
    KnowledgeBaseLocked,
)
from tools.knowledge.relevance import RELEVANCE_THRESHOLD, is_relevant
from tools.knowledge.types import Document, Passage

if TYPE_CHECKING:
    from config.settings import Settings
    from tools.embeddings import Embedder

__all__ = [
    "RELEVANCE_THRESHOLD",
    "Document",
    "DocumentInfo",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KnowledgeBaseLocked",
    "Passage",
    "is_relevant",
    "open_knowledge_base",
]


def open_knowledge_base(settings: Settings, embedder: Embedder | None = None) -> KnowledgeBase:
    """The deployment's knowledge base: a Qdrant server when one is configured
    (`QDRANT_URL` / `QDRANT_HOST`), else the embedded engine under `data_dir/qdrant`."""
    from tools.embeddings import default_embedder

    embedder = embedder or default_embedder()
    url = settings.qdrant_server_url
    if url is None:
        from tools.knowledge.edge import EdgeKnowledgeBase

        return EdgeKnowledgeBase(settings.data_dir / "qdrant", embedder)
    from qdrant_client import QdrantClient

    from tools.knowledge.qdrant_server import QdrantServerKnowledgeBase

    api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    # no background version probe: the collection check below is the connectivity check
    client = QdrantClient(url=url, api_key=api_key, timeout=10, check_compatibility=False)
    return QdrantServerKnowledgeBase(client, embedder, settings.qdrant_collection)
