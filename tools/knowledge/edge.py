"""`EdgeKnowledgeBase`: the embedded default, on Qdrant's in-process engine (qdrant-edge).

One shard holds every tenant; `tenant_id` is a keyword payload index marked `is_tenant`,
and every query, scroll, count and delete goes through `_scope`, which adds the tenant
condition. A chunk is one point with three named vectors: `dense` (the whole chunk),
`focus` (a multivector of its sentences, or its FAQ question; MaxSim) and `bm25` (sparse,
IDF computed over the tenant's chunks). Searches run `tools.knowledge.search` through
`run_probes`. Only one process may open a shard folder: a lock file makes a second opener
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
        return hybrid_search(self, self._embedder, self._sparse, tenant_id, query, limit, mode)

    def run_probes(self, tenant_id: str, probes: list[Probe]) -> list[list[Hit]]:
        """`ProbeRunner` for `tools.knowledge.search`: one `query_batch` on the shard."""
        scope = self._scope(tenant_id)
        idf = qe.SearchParams(idf=qe.IdfParams(corpus=scope))
        requests = []
        for probe in probes:
            query: Any = probe.query
            if isinstance(query, SparseQuery):
                query = qe.SparseVector(query.indices, query.values)
            within = scope
            if probe.ids is not None:
                within = self._scope(tenant_id, qe.HasIdCondition(set(probe.ids)))  # type: ignore[arg-type]
            requests.append(
                qe.QueryRequest(
                    query=qe.Query.Nearest(query, using=probe.using),
                    filter=within,
                    limit=probe.limit,
                    params=idf if probe.using == SPARSE_VECTOR else None,
                    with_payload=probe.with_payload,
                    with_vector=[SPARSE_VECTOR] if probe.with_terms else False,
                )
            )
        found = self._open().query_batch(qe.QueryBatchRequest(requests))
        return [_hits(probe, points) for probe, points in zip(probes, found, strict=True)]

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


def _hits(probe: Probe, points: list[qe.ScoredPoint]) -> list[Hit]:
    """Found points as `Hit`s, reading only what the probe asked for (each read converts)."""
    if probe.with_terms:
        return [Hit(p.id, p.score, None, _terms(p.vector)) for p in points]
    if probe.with_payload:
        return [Hit(p.id, p.score, p.payload) for p in points]
    return [Hit(p.id, p.score) for p in points]


def _terms(vectors: Any) -> frozenset[int]:
    terms = vectors.get(SPARSE_VECTOR) if isinstance(vectors, dict) else None
    return frozenset(terms.indices) if isinstance(terms, qe.SparseVector) else frozenset()


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
