"""The two-stage hybrid search shared by the backends: probes, rescoring, parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from tools.embeddings import default_embedder
from tools.knowledge import search
from tools.knowledge.edge import EdgeKnowledgeBase
from tools.knowledge.fusion import candidate_depth
from tools.knowledge.ingestion import UNITS_FIELD
from tools.knowledge.qdrant_server import QdrantServerKnowledgeBase
from tools.knowledge.search import (
    Hit,
    Probe,
    SparseQuery,
    hybrid_search,
    semantic_text,
    togetherness,
)
from tools.knowledge.sparse import SparseEncoder
from tools.knowledge.types import Document

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect")

SHOP: list[Document] = [
    {"id": "horarios", "text": "# Horarios\n\nAbrimos de lunes a sábado de 9:00 a 19:00."},
    {"id": "envios", "text": "# Envíos\n\nEl envío es gratis en compras mayores a $999."},
    {"id": "pagos", "text": "# Pagos\n\nAceptamos tarjeta, efectivo y transferencia."},
    {"id": "warranty", "text": "# Warranty\n\nElectronics have a 12-month warranty."},
]


@pytest.mark.parametrize(
    ("query", "seen"),
    [
        ("¿A qué hora abren los sábados?", "A hora abren los sábados"),
        ("¿Cuántos días tarda el envío?", "días tarda el envío"),
        ("What was Norman Cantor's theory?", "was Norman Cantor's theory"),
        ("how long is the warranty", "long is the warranty"),
        ("que horario tienen", "que horario tienen"),  # unaccented "que" may be a conjunction
        ("¿Qué?", "¿Qué?"),  # nothing left: the query as typed
    ],
)
def test_semantic_text_drops_question_words(query: str, seen: str) -> None:
    assert semantic_text(query) == seen


def test_togetherness_is_the_share_of_the_words_in_the_best_unit() -> None:
    words = [frozenset({1, 2}), frozenset({3}), frozenset({4}), frozenset({5})]
    assert togetherness(words, [[1, 3], [4, 5, 9]]) == 0.5
    assert togetherness(words, [[2, 3, 4], [5]]) == 0.75  # any token id of a word counts
    assert togetherness(words, [[9]]) == 0.0
    # no units stored (a FAQ pair, an older ingestion) or no words: neutral
    assert togetherness(words, None) == togetherness(words, []) == togetherness([], [[1]]) == 1.0


class _Embedder:
    dim = 4

    def __init__(self) -> None:
        self.queries: list[str] = []

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), self.dim), dtype=np.float32) / 2

    def embed_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return np.ones(self.dim, dtype=np.float32) / 2


class _Runner:
    """Records the probes; every probe finds points a and b (scores .9 and .5 on every
    signal, so the BM25 weight decides nothing), with `terms` for "a" when asked."""

    def __init__(self, terms: frozenset[int], units: list[list[int]] | None = None) -> None:
        self.calls: list[tuple[str, list[Probe]]] = []
        self.terms = terms
        self.units = units

    def run_probes(self, tenant_id: str, probes: list[Probe]) -> list[list[Hit]]:
        self.calls.append((tenant_id, probes))
        payload: dict = {"document_id": "", "title": "", "chunk": 0, "text": ""}
        if self.units is not None:
            payload[UNITS_FIELD] = self.units
        found = []
        for probe in probes:
            hits = []
            for name, score in (("a", 0.9), ("b", 0.5)):
                terms = self.terms if probe.with_terms and name == "a" else frozenset()
                hits.append(Hit(name, score, {**payload, "document_id": name}, terms))
            found.append(hits)
        return found


def test_probes_then_rescores_the_candidates_on_every_signal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sparse = SparseEncoder()
    words = sparse.query_words("¿envío gratis?")
    # "a" holds one of the two words; each point has one sentence holding the first word
    runner = _Runner(terms=words[0], units=[sorted(words[0]), [7]])
    embedder = _Embedder()
    coverages: list[float] = []
    together: list[float] = []
    real_fuse = search.fuse

    def fuse(candidates: list, mode: str, limit: int, coverage: float) -> list:
        coverages.append(coverage)
        together.extend(c.together for c in candidates)
        return real_fuse(candidates, mode, limit, coverage)  # type: ignore[arg-type]

    monkeypatch.setattr(search, "fuse", fuse)
    passages = hybrid_search(runner, embedder, sparse, "acme", "¿envío gratis?", 3, "hybrid")
    assert embedder.queries == ["envío gratis"]
    (tenant1, first), (tenant2, second) = runner.calls
    assert tenant1 == tenant2 == "acme"
    assert [(p.using, p.limit, p.ids, p.with_terms) for p in first] == [
        ("dense", candidate_depth(3), None, False),
        ("focus", candidate_depth(3), None, False),
        ("bm25", candidate_depth(3), None, True),
    ]
    assert isinstance(first[2].query, SparseQuery) and set(first[2].query.values) == {1.0}
    assert [(p.using, p.ids, p.with_payload, p.with_terms) for p in second] == [
        ("dense", ["a", "b"], True, False),
        ("focus", ["a", "b"], False, False),
        ("bm25", ["a", "b"], False, False),
    ]
    assert coverages == [0.5]  # the best BM25 candidate holds one word of two
    assert together == [0.5, 0.5]  # read from the stored units of each candidate
    assert [p["document_id"] for p in passages] == ["a", "b"]
    assert passages[0]["score"] == 0.9


def test_modes_probe_only_their_signals() -> None:
    sparse = SparseEncoder()
    runner = _Runner(frozenset())
    hybrid_search(runner, _Embedder(), sparse, "acme", "envío gratis", 2, "bm25")
    assert [(p.using, p.with_terms) for p in runner.calls[0][1]] == [("bm25", False)]
    runner = _Runner(frozenset())
    hybrid_search(runner, _Embedder(), sparse, "acme", "envío gratis", 2, "dense")
    assert [p.using for p in runner.calls[0][1]] == ["dense", "focus"]
    runner = _Runner(frozenset())
    assert hybrid_search(runner, _Embedder(), sparse, "acme", "de la", 2, "bm25") == []
    assert runner.calls == []  # stop words only: nothing to probe
    runner = _Runner(frozenset())
    hybrid_search(runner, _Embedder(), sparse, "acme", "de la", 2, "hybrid")
    assert [p.using for p in runner.calls[0][1]] == ["dense", "focus"]  # dense side only


def test_both_backends_rank_and_score_alike(tmp_path: Path) -> None:
    embedder = default_embedder()
    edge = EdgeKnowledgeBase(tmp_path / "kb", embedder)
    server = QdrantServerKnowledgeBase(QdrantClient(":memory:"), embedder)
    try:
        for kb in (edge, server):
            kb.upsert("acme", SHOP)
            kb.upsert("beta", [{"id": "otro", "text": "Envío gratis a todo el país."}])
        for query in ("¿el envío es gratis?", "¿abren el sábado?", "warranty", "pago"):
            for mode in ("hybrid", "dense", "bm25"):
                a = edge.search("acme", query, limit=4, mode=mode)
                b = server.search("acme", query, limit=4, mode=mode)
                assert [p["document_id"] for p in a] == [p["document_id"] for p in b]
                assert np.allclose([p["score"] for p in a], [p["score"] for p in b], atol=1e-3)
    finally:
        edge.close()
        server.close()
