"""Backend-independent ingestion: validate documents, derive ids/titles, chunk, shape points.

Everything here runs before a backend writes anything, so a bad batch writes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.knowledge.base import DocumentInfo
from tools.knowledge.chunking import Chunk, chunk_markdown, title_of
from tools.knowledge.sparse import LANGUAGES, SparseEncoder
from tools.knowledge.types import Document, Passage
from tools.language import detect_language

if TYPE_CHECKING:
    from tools.embeddings import Embedder

DENSE_VECTOR = "dense"
FOCUS_VECTOR = "focus"
SPARSE_VECTOR = "bm25"
TENANT_FIELD = "tenant_id"
DOCUMENT_FIELD = "document_id"
CHUNK_FIELD = "chunk"
# Token ids of each answer unit of a prose chunk (`unit_terms`), for `search.togetherness`.
UNITS_FIELD = "unit_terms"
DEFAULT_LANGUAGE = "es"
_POINT_NAMESPACE = uuid.UUID("6f1b2c1e-3d0a-5b7e-9a51-4c1d2e8f0a77")


@dataclass(frozen=True)
class PreparedDocument:
    """A validated document, ready to embed: one point per chunk."""

    id: str
    title: str
    language: str
    chunks: list[Chunk]


@dataclass(frozen=True)
class ChunkPoint:
    """One chunk with its vectors and payload, in no particular Qdrant client's types."""

    id: str
    dense: list[float]
    focus: list[list[float]]
    sparse_indices: list[int]
    sparse_values: list[float]
    payload: dict[str, Any]


def require_tenant(tenant_id: str) -> str:
    """`tenant_id` itself, or ValueError when it is not a non-empty string."""
    if not isinstance(tenant_id, str) or not tenant_id.strip():
        raise ValueError("tenant_id must be a non-empty string")
    return tenant_id


def document_id_for(text: str) -> str:
    """The stable id of a document given without one: a hash of its text."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


def point_id(tenant_id: str, document_id: str, chunk: int) -> str:
    """Deterministic UUID of a chunk, so re-ingesting overwrites rather than duplicates."""
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{tenant_id}\x1f{document_id}\x1f{chunk}"))


def prepare_documents(documents: list[Document]) -> list[PreparedDocument]:
    """Validate and chunk a batch; ValueError (naming the document) on any bad input."""
    if not isinstance(documents, list):
        raise ValueError("documents must be a list")
    prepared: list[PreparedDocument] = []
    seen: dict[str, int] = {}
    for index, document in enumerate(documents):
        text = document.get("text") if isinstance(document, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"document {index}: 'text' is empty; nothing to ingest")
        doc_id = document.get("id") or document_id_for(text)
        if not isinstance(doc_id, str) or not doc_id.strip():
            raise ValueError(f"document {index}: 'id' must be a non-empty string")
        if doc_id in seen:
            raise ValueError(
                f"document {index}: duplicate id {doc_id!r} (also document {seen[doc_id]})"
            )
        seen[doc_id] = index
        title = document.get("title") or title_of(text)
        if not isinstance(title, str):
            raise ValueError(f"document {index}: 'title' must be a string")
        chunks = chunk_markdown(text, fallback_heading=title)
        prepared.append(PreparedDocument(doc_id, title, language_of(text), chunks))
    return prepared


def language_of(text: str) -> str:
    """The document's language for BM25 analysis: one of `LANGUAGES`, Spanish by default."""
    language = detect_language(text[:5000], default=DEFAULT_LANGUAGE)
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def chunk_payload(tenant_id: str, document: PreparedDocument, index: int) -> dict[str, Any]:
    """The payload stored with chunk `index` of `document`."""
    return {
        TENANT_FIELD: tenant_id,
        DOCUMENT_FIELD: document.id,
        "title": document.title,
        CHUNK_FIELD: index,
        "text": document.chunks[index].text,
        "language": document.language,
    }


def build_points(
    tenant_id: str, prepared: list[PreparedDocument], embedder: Embedder, sparse: SparseEncoder
) -> list[ChunkPoint]:
    """Embed every chunk of `prepared` and its focus texts (dense, in one batch) and analyse
    it for BM25 in the document's language (a FAQ question counts twice: it is the field
    the customer's words are closest to), and its answer units (`unit_terms`)."""
    chunks = [
        (doc, doc.chunks[index], index) for doc in prepared for index in range(len(doc.chunks))
    ]
    texts = [chunk.text for _, chunk, _ in chunks]
    focus_texts = [_own_focus(chunk) for _, chunk, _ in chunks]
    extra = [text for focus in focus_texts for text in focus]
    vectors = embedder.embed_documents(texts + extra)
    if vectors.shape != (len(texts) + len(extra), embedder.dim):
        expected = (len(texts) + len(extra), embedder.dim)
        raise ValueError(f"embedder returned {vectors.shape}, expected {expected}")
    points = []
    offset = len(texts)
    for (doc, chunk, index), vector, focus in zip(
        chunks, vectors[: len(texts)], focus_texts, strict=True
    ):
        focus_vectors = vectors[offset : offset + len(focus)] if focus else vector[None, :]
        offset += len(focus)
        lexical = f"{chunk.text}\n{chunk.question}" if chunk.question else chunk.text
        bm25 = sparse.embed_document(lexical, doc.language)
        payload = chunk_payload(tenant_id, doc, index)
        if not chunk.question:
            payload[UNITS_FIELD] = unit_terms(chunk, sparse, doc.language)
        points.append(
            ChunkPoint(
                id=point_id(tenant_id, doc.id, index),
                dense=vector.tolist(),
                focus=focus_vectors.tolist(),
                sparse_indices=list(bm25.indices),
                sparse_values=list(bm25.values),
                payload=payload,
            )
        )
    return points


def unit_terms(chunk: Chunk, sparse: SparseEncoder, language: str) -> list[list[int]]:
    """The BM25 token ids of each answer unit of a prose `chunk`: each of its focus texts
    (a sentence or line), which states one fact. A FAQ pair gets none: it is one unit, about
    its one question, and its BM25 score already measures it (scaling FAQ pairs by their
    coverage lowered StackFAQ MRR@10 on its development split)."""
    return [sorted(sparse.embed_document(text, language).indices) for text in chunk.focus]


def _own_focus(chunk: Chunk) -> list[str]:
    """The focus texts that need their own embedding: none when the chunk is its own focus."""
    focus = chunk.focus
    return [] if focus == [chunk.text] or not focus else focus


def summarize_documents(payloads: Iterable[dict[str, Any]]) -> list[DocumentInfo]:
    """One row per document from its chunks' payloads, sorted by title then id."""
    documents: dict[str, DocumentInfo] = {}
    for payload in payloads:
        doc_id = str(payload[DOCUMENT_FIELD])
        info = documents.setdefault(doc_id, DocumentInfo(document_id=doc_id, title="", chunks=0))
        info["chunks"] += 1
        if payload.get(CHUNK_FIELD) == 0:
            info["title"] = str(payload.get("title", ""))
    return sorted(documents.values(), key=lambda d: (d["title"], d["document_id"]))


def passage_from_payload(payload: dict[str, Any], score: float) -> Passage:
    """A stored chunk as a `Passage` with the given relevance score."""
    return Passage(
        document_id=str(payload[DOCUMENT_FIELD]),
        title=str(payload.get("title", "")),
        chunk=int(payload[CHUNK_FIELD]),
        text=str(payload["text"]),
        score=score,
    )
