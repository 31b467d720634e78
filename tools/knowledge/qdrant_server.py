"""`QdrantServerKnowledgeBase`: the production backend, a Qdrant server/cloud collection.

Same shape as the embedded one (named vectors `dense`, `focus` (MaxSim multivector) and
`bm25` with IDF, the same two-step search ranked by `fusion.fuse`, payload
`tenant_id` indexed `is_tenant`, deterministic point ids), through qdrant-client; shared
by every replica. Every request filters through `_scope`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from qdrant_client import QdrantClient, models

from tools.knowledge.base import DocumentInfo, KnowledgeBaseError
from tools.knowledge.fusion import Candidate, SearchMode, candidate_depth, fuse, uses
from tools.knowledge.ingestion import (
    CHUNK_FIELD,
    DEFAULT_LANGUAGE,
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
from tools.knowledge.sparse import SparseEncoder
from tools.knowledge.types import Document, Passage
from tools.language import detect_language

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
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        use_dense, use_bm25 = uses(mode)
        scope = self._scope(tenant_id)
        if not query.strip():
            return []
        vector = self._embedder.embed_query(query).tolist()
        probes: dict[str, tuple[Any, models.SearchParams | None]] = {
            DENSE_VECTOR: (vector, None),
            FOCUS_VECTOR: ([vector], None),
        }
        sparse = self._sparse.embed_query(query)
        if sparse.indices:  # a query of stop words only has no lexical part
            lexical = models.SparseVector(indices=list(sparse.indices), values=list(sparse.values))
            idf = models.SearchParams(idf=models.IdfCorpusParams(corpus=scope))
            probes[SPARSE_VECTOR] = (lexical, idf)
        client = self._open()
        # 1. candidates: the best chunks of the tenant by each signal the mode uses
        wanted = [name for name in probes if (use_bm25 if name == SPARSE_VECTOR else use_dense)]
        if not wanted:  # BM25 alone, and a query of stop words only
            return []
        depth = candidate_depth(limit)
        found = client.query_batch_points(
            self.collection,
            [_request(name, *probes[name], scope, depth, with_payload=False) for name in wanted],
        )
        ids = list(dict.fromkeys(point.id for response in found for point in response.points))
        if not ids:
            return []
        # 2. every candidate scored on every signal
        within = self._scope(tenant_id, models.HasIdCondition(has_id=ids))
        names = list(probes)
        scored = client.query_batch_points(
            self.collection,
            [
                _request(name, *probes[name], within, len(ids), with_payload=name == DENSE_VECTOR)
                for name in names
            ],
        )
        candidates = {point.id: Candidate(point.payload or {}) for point in scored[0].points}
        for name, response in zip(names, scored, strict=True):
            for point in response.points:
                candidate = candidates.get(point.id)
                if candidate is not None:
                    setattr(candidate, _SIGNAL[name], point.score)
        language = detect_language(query, default=DEFAULT_LANGUAGE)
        return fuse(list(candidates.values()), language, mode, limit)

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


_SIGNAL = {DENSE_VECTOR: "dense", FOCUS_VECTOR: "focus", SPARSE_VECTOR: "bm25"}


def _request(
    using: str,
    query: Any,
    params: models.SearchParams | None,
    scope: models.Filter,
    limit: int,
    with_payload: bool,
) -> models.QueryRequest:
    return models.QueryRequest(
        query=query,
        using=using,
        filter=scope,
        limit=limit,
        params=params,
        with_payload=with_payload,
        with_vector=False,
    )
