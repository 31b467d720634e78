"""The two-stage hybrid search, written once for every backend.

1. Probe: the tenant's best `candidate_depth(limit)` chunks by each signal the mode uses
   (`dense`, `focus`, `bm25`), and the share of the question's words found in the BM25
   candidate that has the most of them (read from the stored BM25 vectors).
2. Rescore: every candidate scored on every signal (one batch restricted to the candidate
   ids), and, in hybrid mode, on how many of the question's words one of its answer units
   holds (`togetherness`, from the token ids stored with the chunk); `fusion.fuse` ranks
   them.

A backend only runs batches of `Probe`s through its client (`ProbeRunner`): it turns a
probe into its client's request, filtered to the tenant (the backend's one scope
builder), with the BM25 IDF computed over the tenant's chunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from tools.knowledge.fusion import Candidate, SearchMode, candidate_depth, fuse, uses
from tools.knowledge.ingestion import DENSE_VECTOR, FOCUS_VECTOR, SPARSE_VECTOR, UNITS_FIELD

if TYPE_CHECKING:
    from tools.embeddings import Embedder
    from tools.knowledge.sparse import SparseEncoder
    from tools.knowledge.types import Passage

# Interrogatives say what kind of answer is wanted, not what it is about: left in, they
# pull a question's embedding toward other questions rather than toward the passage that
# answers it (+2 points recall@1 on the XQuAD-R and StackFAQ development splits).
_QUESTION_WORDS = re.compile(
    r"[¿?¡!]|\b(?:qué|cuál|cuáles|quién|quiénes|cómo|dónde|adónde|cuándo|cuánto|cuántos|"
    r"cuánta|cuántas|what|which|who|whom|whose|how|where|when|why)\b",
    re.IGNORECASE,
)
_SIGNALS = {DENSE_VECTOR: "dense", FOCUS_VECTOR: "focus", SPARSE_VECTOR: "bm25"}


@dataclass(frozen=True)
class SparseQuery:
    """A sparse query vector in no client's types."""

    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class Probe:
    """One nearest-neighbour query on the named vector `using`, within the tenant (and
    within `ids` when given); `with_terms` returns each hit's stored BM25 token ids."""

    using: str
    query: list[float] | list[list[float]] | SparseQuery
    limit: int
    ids: list[Any] | None = None
    with_payload: bool = False
    with_terms: bool = False


class Hit(NamedTuple):
    """One point found by a probe (a tuple: hundreds are made per search)."""

    id: Any
    score: float
    payload: dict[str, Any] | None = None
    terms: frozenset[int] = frozenset()


class ProbeRunner(Protocol):
    def run_probes(self, tenant_id: str, probes: list[Probe]) -> list[list[Hit]]:
        """Run `probes` as one batch, each filtered to `tenant_id`'s chunks; BM25 probes
        weigh terms by their IDF over the tenant's chunks."""
        ...


def semantic_text(query: str) -> str:
    """`query` as the dense embedder should see it: without question marks and words."""
    stripped = " ".join(_QUESTION_WORDS.sub(" ", query).split())
    return stripped or query


def togetherness(words: list[frozenset[int]], units: object) -> float:
    """The share of the question's `words` (each its token ids) found in the one answer unit
    of `units` (the token ids stored under `UNITS_FIELD`) that holds the most of them; 1
    (neutral) for a chunk stored without them: a FAQ pair, or a chunk ingested by an older
    version."""
    if not words or not isinstance(units, list) or not units:
        return 1.0
    return max(share(words, frozenset(unit)) for unit in units)


def share(words: list[frozenset[int]], terms: frozenset[int]) -> float:
    """The share of the question's `words` (each its token ids) that `terms` holds."""
    return sum(1 for word in words if not terms.isdisjoint(word)) / len(words)


def hybrid_search(
    runner: ProbeRunner,
    embedder: Embedder,
    sparse: SparseEncoder,
    tenant_id: str,
    query: str,
    limit: int,
    mode: SearchMode,
) -> list[Passage]:
    """The best `limit` passages of the tenant for `query` (see the module docstring)."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    use_dense, use_bm25 = uses(mode)
    if not query.strip():
        return []
    vector = embedder.embed_query(semantic_text(query)).tolist()
    words = sparse.query_words(query)
    vectors: dict[str, list[float] | list[list[float]] | SparseQuery] = {
        DENSE_VECTOR: vector,
        FOCUS_VECTOR: [vector],
    }
    if words:  # a query of stop words only has no lexical part
        indices = sorted(set().union(*words))
        vectors[SPARSE_VECTOR] = SparseQuery(indices, [1.0] * len(indices))
    wanted = [name for name in vectors if (use_bm25 if name == SPARSE_VECTOR else use_dense)]
    if not wanted:  # BM25 alone, and a query of stop words only
        return []
    depth = candidate_depth(limit)
    hybrid = use_dense and use_bm25
    probes = [Probe(n, vectors[n], depth, with_terms=hybrid and n == SPARSE_VECTOR) for n in wanted]
    found = runner.run_probes(tenant_id, probes)
    ids = list(dict.fromkeys(hit.id for hits in found for hit in hits))
    if not ids:
        return []
    coverage = 0.0
    if hybrid and SPARSE_VECTOR in wanted:
        lexical = found[wanted.index(SPARSE_VECTOR)]
        coverage = max((share(words, hit.terms) for hit in lexical), default=0.0)
    names = list(vectors)
    scored = runner.run_probes(
        tenant_id,
        [Probe(n, vectors[n], len(ids), ids, with_payload=n == DENSE_VECTOR) for n in names],
    )
    candidates = {hit.id: Candidate(hit.payload or {}) for hit in scored[0]}
    for name, hits in zip(names, scored, strict=True):
        for hit in hits:
            candidate = candidates.get(hit.id)
            if candidate is not None:
                setattr(candidate, _SIGNALS[name], hit.score)
    if hybrid and words:
        for candidate in candidates.values():
            candidate.together = togetherness(words, candidate.payload.get(UNITS_FIELD))
    return fuse(list(candidates.values()), mode, limit, coverage)
