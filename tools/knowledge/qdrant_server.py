"""`QdrantServerKnowledgeBase`: the production backend, a Qdrant server/cloud collection.

Same shape as the embedded one (named vectors `dense`, `focus` (MaxSim multivector) and
`bm25` with IDF, the same `tools.knowledge.search` through `run_probes`, payload
`tenant_id` indexed `is_tenant`, deterministic point ids), through qdrant-client; shared
by every replica. Every request filters through `_scope`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from qdrant_client import QdrantClient, models

from tools.knowledge.base import DocumentInfo, KnowledgeBaseError
from tools.knowledge.fusion import SearchMode
from tools.knowledge.ingestion import (
    CHUNK_FIELD,
    DENSE_VECTOR,
    DOCUMENT_FIELD,
    FOCUS_VECTOR,
    SPARSE_VECTOR,
    TENANT_FIELD,
    build_points,
    prepare_documents,
    require_tenant,
    summarize_documents,
)
from tools.knowledge.search import Hit, Probe, SparseQuery, hybrid_search
from tools.knowledge.sparse import SparseEncoder
from tools.knowledge.types import Document, Passage

if TYPE_CHECKING:
    from tools.embeddings import Embedder

UPSERT_BATCH = 256
SCROLL_PAGE = 1024


class QdrantServerKnowledgeBase:
    """A `KnowledgeBase` in collection `collection` of a Qdrant server (created if missing)."""

    def __init__(
        self,
        client: QdrantClient,
        embedder: Embedder,
        collection: str = "atiende_knowledge",
        sparse: SparseEncoder | None = None,
    ) -> None:
        self.collection = collection
        self._client: QdrantClient | None = client
        self._embedder = embedder
        self._sparse = sparse or SparseEncoder()
        self._write_lock = threading.Lock()
        self._ensure_collection(client)

    def upsert(self, tenant_id: str, documents: list[Document]) -> list[str]:
        require_tenant(tenant_id)
        prepared = prepare_documents(documents)
        points = [
            models.PointStruct(
                id=p.id,
                vector={
                    DENSE_VECTOR: p.dense,
                    FOCUS_VECTOR: p.focus,
                    SPARSE_VECTOR: models.SparseVector(
                        indices=p.sparse_indices, values=p.sparse_values
                    ),
                },
                payload=p.payload,
            )
            for p in build_points(tenant_id, prepared, self._embedder, self._sparse)
        ]
        client = self._open()
        with self._write_lock:
            for start in range(0, len(points), UPSERT_BATCH):
                batch = points[start : start + UPSERT_BATCH]
                client.upsert(self.collection, points=batch, wait=True)
            for doc in prepared:  # drop chunks left over from a longer previous version
                stale = models.FieldCondition(
                    key=CHUNK_FIELD, range=models.Range(gte=len(doc.chunks))
                )
                scope = self._scope(tenant_id, _match(DOCUMENT_FIELD, doc.id), stale)
                client.delete(self.collection, models.FilterSelector(filter=scope), wait=True)
        return [doc.id for doc in prepared]

    def search(
        self, tenant_id: str, query: str, limit: int = 5, mode: SearchMode = "hybrid"
    ) -> list[Passage]:
        return hybrid_search(self, self._embedder, self._sparse, tenant_id, query, limit, mode)

    def run_probes(self, tenant_id: str, probes: list[Probe]) -> list[list[Hit]]:
        """`ProbeRunner` for `tools.knowledge.search`: one `query_batch_points` call."""
        scope = self._scope(tenant_id)
        idf = models.SearchParams(idf=models.IdfCorpusParams(corpus=scope))
        requests = []
        for probe in probes:
            query: Any = probe.query
            if isinstance(query, SparseQuery):
                query = models.SparseVector(indices=query.indices, values=query.values)
            within = scope
            if probe.ids is not None:
                within = self._scope(tenant_id, models.HasIdCondition(has_id=probe.ids))
            requests.append(
                models.QueryRequest(
                    query=query,
                    using=probe.using,
                    filter=within,
                    limit=probe.limit,
                    params=idf if probe.using == SPARSE_VECTOR else None,
                    with_payload=probe.with_payload,
                    with_vector=[SPARSE_VECTOR] if probe.with_terms else False,
                )
            )
        found = self._open().query_batch_points(self.collection, requests)
        return [_hits(probe, r.points) for probe, r in zip(probes, found, strict=True)]

    def list_documents(self, tenant_id: str) -> list[DocumentInfo]:
        payloads: list[dict[str, Any]] = []
        offset: models.ExtendedPointId | None = None
        while True:
            records, offset = self._open().scroll(
                self.collection,
                scroll_filter=self._scope(tenant_id),
                limit=SCROLL_PAGE,
                offset=offset,
                with_payload=[DOCUMENT_FIELD, "title", CHUNK_FIELD],
            )
            payloads.extend(record.payload or {} for record in records)
            if offset is None:
                return summarize_documents(payloads)

    def delete_document(self, tenant_id: str, document_id: str) -> bool:
        return self._delete(self._scope(tenant_id, _match(DOCUMENT_FIELD, document_id))) > 0

    def delete_tenant(self, tenant_id: str) -> int:
        return self._delete(self._scope(tenant_id))

    def count(self, tenant_id: str) -> int:
        return self._open().count(self.collection, count_filter=self._scope(tenant_id)).count

    def ping(self) -> None:
        try:
            self._open().get_collection(self.collection)
        except KnowledgeBaseError:
            raise
        except Exception as exc:
            raise KnowledgeBaseError(f"Qdrant collection {self.collection!r}: {exc}") from exc

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _delete(self, scope: models.Filter) -> int:
        client = self._open()
        with self._write_lock:
            removed = client.count(self.collection, count_filter=scope, exact=True).count
            if removed:
                client.delete(self.collection, models.FilterSelector(filter=scope), wait=True)
            return removed

    def _scope(self, tenant_id: str, *conditions: models.Condition) -> models.Filter:
        """The one place the tenant condition is built: every request filters through it."""
        return models.Filter(must=[_match(TENANT_FIELD, require_tenant(tenant_id)), *conditions])

    def _open(self) -> QdrantClient:
        if self._client is None:
            raise KnowledgeBaseError(f"knowledge base {self.collection!r} is closed")
        return self._client

    def _ensure_collection(self, client: QdrantClient) -> None:
        try:
            if not client.collection_exists(self.collection):
                client.create_collection(
                    self.collection,
                    vectors_config={
                        DENSE_VECTOR: models.VectorParams(
                            size=self._embedder.dim, distance=models.Distance.COSINE
                        ),
                        FOCUS_VECTOR: models.VectorParams(
                            size=self._embedder.dim,
                            distance=models.Distance.COSINE,
                            multivector_config=models.MultiVectorConfig(
                                comparator=models.MultiVectorComparator.MAX_SIM
                            ),
                            datatype=models.Datatype.FLOAT16,
                        ),
                    },
                    sparse_vectors_config={
                        SPARSE_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)
                    },
                )
                tenant_index = models.KeywordIndexParams(
                    type=models.KeywordIndexType.KEYWORD, is_tenant=True
                )
                client.create_payload_index(self.collection, TENANT_FIELD, tenant_index)
                client.create_payload_index(
                    self.collection, DOCUMENT_FIELD, models.PayloadSchemaType.KEYWORD
                )
                client.create_payload_index(
                    self.collection, CHUNK_FIELD, models.PayloadSchemaType.INTEGER
                )
            else:
                self._check_dimension(client)
        except KnowledgeBaseError:
            raise
        except Exception as exc:
            raise KnowledgeBaseError(
                f"cannot open Qdrant collection {self.collection!r}: {exc}"
            ) from exc

    def _check_dimension(self, client: QdrantClient) -> None:
        vectors = client.get_collection(self.collection).config.params.vectors
        for name in (DENSE_VECTOR, FOCUS_VECTOR):
            params = vectors.get(name) if isinstance(vectors, dict) else None
            if params is None or params.size != self._embedder.dim:
                raise KnowledgeBaseError(
                    f"collection {self.collection!r} has no {name!r} vector of size "
                    f"{self._embedder.dim}; it was built with another embedder or an older "
                    "version: delete it, run `atiende setup` and ingest the documents again"
                )


def _match(field: str, value: str) -> models.FieldCondition:
    return models.FieldCondition(key=field, match=models.MatchValue(value=value))


def _hits(probe: Probe, points: list[models.ScoredPoint]) -> list[Hit]:
    """Found points as `Hit`s, with the stored BM25 token ids when the probe asked."""
    if probe.with_terms:
        return [Hit(p.id, p.score, p.payload, _terms(p.vector)) for p in points]
    return [Hit(p.id, p.score, p.payload) for p in points]


def _terms(vectors: Any) -> frozenset[int]:
    terms = vectors.get(SPARSE_VECTOR) if isinstance(vectors, dict) else None
    return frozenset(terms.indices) if isinstance(terms, models.SparseVector) else frozenset()
