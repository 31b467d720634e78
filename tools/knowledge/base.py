"""The `KnowledgeBase` contract: a tenant's documents, chunked, embedded and searchable.

Implementations are synchronous (they do blocking I/O and CPU work); async callers wrap
them with `asyncio.to_thread`. Every method takes the tenant id and never reads or writes
another tenant's data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypedDict

from tools.knowledge.types import Document, Passage

if TYPE_CHECKING:
    from tools.knowledge.fusion import SearchMode


class KnowledgeBaseError(Exception):
    """The knowledge base cannot serve the request (closed, corrupt, unreachable)."""


class KnowledgeBaseLocked(KnowledgeBaseError):
    """Another process has the embedded knowledge base open."""


class DocumentInfo(TypedDict):
    """One stored document, as listed by `KnowledgeBase.list_documents`."""

    document_id: str
    title: str
    chunks: int


class KnowledgeBase(Protocol):
    def upsert(self, tenant_id: str, documents: list[Document]) -> list[str]:
        """Ingest documents, replacing the chunks of any id already stored; returns the ids.

        A missing id is derived from the text (stable), a missing title from the first
        heading or line. Raises ValueError, before writing anything, on an empty text or
        on duplicate ids within the call.
        """
        ...

    def search(
        self, tenant_id: str, query: str, limit: int = 5, mode: SearchMode = "hybrid"
    ) -> list[Passage]:
        """The best passages for `query`, ranked by `tools.knowledge.fusion` (dense, focus
        and BM25 scores; `mode` "dense" or "bm25" ranks by one side alone, for evals);
        `score` is the calibrated relevance (see `tools.knowledge.relevance`)."""
        ...

    def list_documents(self, tenant_id: str) -> list[DocumentInfo]:
        """The tenant's documents, sorted by title then id."""
        ...

    def delete_document(self, tenant_id: str, document_id: str) -> bool:
        """Remove a document's chunks; False when it was not there."""
        ...

    def delete_tenant(self, tenant_id: str) -> int:
        """Remove all of a tenant's chunks; returns how many were removed."""
        ...

    def count(self, tenant_id: str) -> int:
        """How many chunks (searchable passages) the tenant has."""
        ...

    def ping(self) -> None:
        """Raise KnowledgeBaseError if the knowledge base cannot be used."""
        ...

    def close(self) -> None:
        """Persist and release resources (idempotent)."""
        ...
