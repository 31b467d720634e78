"""`EdgeKnowledgeBase`: the embedded default, on Qdrant's in-process engine (qdrant-edge).

One shard holds every tenant; `tenant_id` is a keyword payload index marked `is_tenant`,
and every query, scroll, count and delete goes through `_scope`, which adds the tenant
condition. A chunk is one point with three named vectors: `dense` (the whole chunk),
`focus` (a multivector of its sentences, or its FAQ question; MaxSim) and `bm25` (sparse,
IDF computed over the tenant's chunks). A search collects the best candidates by each
vector, scores all of them on all three, and ranks them with `fusion.fuse`. Only one process may open a shard folder: a lock file makes a second opener
fail with `KnowledgeBaseLocked` instead of the engine's opaque WAL error.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import qdrant_edge as qe

from tools.knowledge.base import DocumentInfo, KnowledgeBaseError, KnowledgeBaseLocked
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

LOCK_FILE = "atiende.lock"
UPSERT_BATCH = 256
SCROLL_PAGE = 1024


class EdgeKnowledgeBase:
    """A `KnowledgeBase` stored in a qdrant-edge shard folder at `path`."""

    def __init__(self, path: Path, embedder: Embedder, sparse: SparseEncoder | None = None) -> None:
        self.path = Path(path)
        self._embedder = embedder
        self._sparse = sparse or SparseEncoder()
        self._write_lock = threading.RLock()
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock_fd: int | None = _acquire_lock(self.path / LOCK_FILE)
        try:
            self._shard: qe.EdgeShard | None = _open_shard(self.path, embedder.dim)
        except BaseException:
            self._release_lock()
            raise

    # -- writes -------------------------------------------------------------------------

    def upsert(self, tenant_id: str, documents: list[Document]) -> list[str]:
        require_tenant(tenant_id)
        prepared = prepare_documents(documents)
        points = [
            qe.Point(
                p.id,
                {
                    DENSE_VECTOR: p.dense,
                    FOCUS_VECTOR: p.focus,
                    SPARSE_VECTOR: qe.SparseVector(p.sparse_indices, p.sparse_values),
                },
                p.payload,
            )
            for p in build_points(tenant_id, prepared, self._embedder, self._sparse)
        ]
        with self._write_lock:
            shard = self._open()
            for start in range(0, len(points), UPSERT_BATCH):
                batch = points[start : start + UPSERT_BATCH]
                shard.update(qe.UpdateOperation.upsert_points(batch))
            for doc in prepared:  # drop chunks left over from a longer previous version
                stale = _range_from(CHUNK_FIELD, len(doc.chunks))
                scope = self._scope(tenant_id, _match(DOCUMENT_FIELD, doc.id), stale)
                shard.update(qe.UpdateOperation.delete_points_by_filter(scope))
            shard.flush()
        return [doc.id for doc in prepared]

    def delete_document(self, tenant_id: str, document_id: str) -> bool:
        return self._delete(self._scope(tenant_id, _match(DOCUMENT_FIELD, document_id))) > 0

    def delete_tenant(self, tenant_id: str) -> int:
        return self._delete(self._scope(tenant_id))

    def _delete(self, scope: qe.Filter) -> int:
        with self._write_lock:
            shard = self._open()
            removed = shard.count(qe.CountRequest(exact=True, filter=scope))
            if removed:
                shard.update(qe.UpdateOperation.delete_points_by_filter(scope))
                shard.flush()
            return removed

    # -- reads --------------------------------------------------------------------------

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
        probes: dict[str, tuple[qe.Query, qe.SearchParams | None]] = {
            DENSE_VECTOR: (qe.Query.Nearest(vector, using=DENSE_VECTOR), None),
            FOCUS_VECTOR: (qe.Query.Nearest([vector], using=FOCUS_VECTOR), None),
        }
        sparse = self._sparse.embed_query(query)
        if sparse.indices:  # a query of stop words only has no lexical part
            idf = qe.SearchParams(idf=qe.IdfParams(corpus=scope))
            probes[SPARSE_VECTOR] = (qe.Query.Nearest(sparse, using=SPARSE_VECTOR), idf)
        # 1. candidates: the best chunks of the tenant by each signal the mode uses
        wanted = [
            n
            for n in probes
            if (n == SPARSE_VECTOR and use_bm25) or (n != SPARSE_VECTOR and use_dense)
        ]
        if not wanted:  # BM25 alone, and a query of stop words only
            return []
        depth = candidate_depth(limit)
        shard = self._open()
        found = shard.query_batch(
            qe.QueryBatchRequest(
                [_request(*probes[name], scope, depth, with_payload=False) for name in wanted]
            )
        )
        ids = {point.id for points in found for point in points}
        if not ids:
            return []
        # 2. every candidate scored on every signal
        within = self._scope(tenant_id, qe.HasIdCondition(ids))  # type: ignore[arg-type]
        names = list(probes)
        scored = shard.query_batch(
            qe.QueryBatchRequest(
                [
                    _request(*probes[name], within, len(ids), with_payload=name == DENSE_VECTOR)
                    for name in names
                ]
            )
        )
        candidates = {point.id: Candidate(point.payload or {}) for point in scored[0]}
        for name, points in zip(names, scored, strict=True):
            for point in points:
                candidate = candidates.get(point.id)
                if candidate is not None:
                    setattr(candidate, _SIGNAL[name], point.score)
        language = detect_language(query, default=DEFAULT_LANGUAGE)
        return fuse(list(candidates.values()), language, mode, limit)

    def list_documents(self, tenant_id: str) -> list[DocumentInfo]:
        payloads: list[dict[str, Any]] = []
        offset: qe.PointId | None = None
        while True:
            request = qe.ScrollRequest(
                offset=offset,
                limit=SCROLL_PAGE,
                filter=self._scope(tenant_id),
                with_payload=[DOCUMENT_FIELD, "title", CHUNK_FIELD],
            )
            records, offset = self._open().scroll(request)
            payloads.extend(record.payload or {} for record in records)
            if offset is None:
                return summarize_documents(payloads)

    def count(self, tenant_id: str) -> int:
        return self._open().count(qe.CountRequest(exact=True, filter=self._scope(tenant_id)))

    # -- lifecycle ----------------------------------------------------------------------

    def ping(self) -> None:
        try:
            self._open().info()
        except KnowledgeBaseError:
            raise
        except Exception as exc:
            raise KnowledgeBaseError(f"knowledge base at {self.path} is unusable: {exc}") from exc

    def close(self) -> None:
        with self._write_lock:
            shard, self._shard = self._shard, None
            if shard is not None:
                try:
                    shard.flush()
                finally:
                    shard.close()
            self._release_lock()

    def __enter__(self) -> EdgeKnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------

    def _scope(self, tenant_id: str, *conditions: qe.FieldCondition) -> qe.Filter:
        """The one place the tenant condition is built: every request filters through it."""
        return qe.Filter(must=[_match(TENANT_FIELD, require_tenant(tenant_id)), *conditions])

    def _open(self) -> qe.EdgeShard:
        if self._shard is None:
            raise KnowledgeBaseError(f"knowledge base at {self.path} is closed")
        return self._shard

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None


def _match(field: str, value: str) -> qe.FieldCondition:
    return qe.FieldCondition(field, match=qe.MatchValue(value))


def _range_from(field: str, start: int) -> qe.FieldCondition:
    return qe.FieldCondition(field, range=qe.RangeFloat(gte=float(start)))


_SIGNAL = {DENSE_VECTOR: "dense", FOCUS_VECTOR: "focus", SPARSE_VECTOR: "bm25"}


def _request(
    query: qe.Query,
    params: qe.SearchParams | None,
    scope: qe.Filter,
    limit: int,
    with_payload: bool,
) -> qe.QueryRequest:
    return qe.QueryRequest(
        query=query,
        filter=scope,
        limit=limit,
        params=params,
        with_payload=with_payload,
        with_vector=False,
    )


def _acquire_lock(lock_path: Path) -> int:
    """An exclusive, non-blocking flock on `lock_path`, or KnowledgeBaseLocked."""
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise KnowledgeBaseLocked(
            f"the knowledge base at {lock_path.parent} is already open in another process "
            "(only one process may use the embedded engine; stop it, or point QDRANT_URL "
            "at a Qdrant server to share the knowledge base)"
        ) from None
    return fd


def _open_shard(path: Path, dim: int) -> qe.EdgeShard:
    """Load the shard at `path`, or create it on first use, with its payload indexes."""
    multivector = qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim)
    config = qe.EdgeConfig(
        vectors={
            DENSE_VECTOR: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine),
            FOCUS_VECTOR: qe.EdgeVectorParams(
                size=dim,
                distance=qe.Distance.Cosine,
                multivector_config=multivector,
                datatype=qe.VectorStorageDatatype.Float16,  # half the memory and scan time
            ),
        },
        sparse_vectors={SPARSE_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
    )
    try:
        if (path / "edge_config.json").exists():
            shard = qe.EdgeShard.load(str(path), config)
        else:
            shard = qe.EdgeShard.create(str(path), config)
    except Exception as exc:
        if "WouldBlock" in str(exc):
            raise KnowledgeBaseLocked(f"the knowledge base at {path} is in use: {exc}") from exc
        hint = (
            " (it was built by an older version: delete the folder and ingest the documents again)"
            if "incompatible" in str(exc)
            else ""
        )
        raise KnowledgeBaseError(f"cannot open the knowledge base at {path}: {exc}{hint}") from exc
    schema = shard.info().payload_schema
    if TENANT_FIELD not in schema:
        index = qe.KeywordIndexParams(is_tenant=True)
        shard.update(qe.UpdateOperation.create_field_index(TENANT_FIELD, index))
    if DOCUMENT_FIELD not in schema:
        index = qe.KeywordIndexParams()
        shard.update(qe.UpdateOperation.create_field_index(DOCUMENT_FIELD, index))
    return shard
