"""Hybrid ranking: a weighted sum of dense, focus and BM25 scores over the candidates.

`tools.knowledge.search` collects the candidates (the best `candidate_depth` chunks by each
signal, within the tenant) and scores every candidate on every signal:
- `dense`: cosine of the query and the whole chunk;
- `focus`: best cosine of the query and the chunk's focus texts (a FAQ pair's question, or
  the chunk's lines and sentences): a question matches the one sentence that answers it
  better than the average of a paragraph;
- `bm25`: the BM25 score, divided by the best BM25 score among the candidates (BM25 has no
  fixed scale). It counts in full only for a chunk that is semantically plausible (dense
  or focus cosine >= `LEXICAL_GATE`: "72 horas" must not answer "¿a qué hora abren?"),
  and in proportion to `coverage`, the share of the question's words found in the BM25
  candidate that has the most of them: when no chunk shares more than a word or two with
  the question (a paraphrase, or a Spanish question over an English knowledge base), the
  BM25 order is mostly noise and the dense signals decide. Within a candidate, BM25 also
  is scaled, before that normalisation, by `together` (`TOGETHER_WEIGHT` of it): the share
  of the question's words found together in one sentence of the chunk (1 for a FAQ pair,
  which is one unit). A paragraph that names the question's topic in one sentence and its
  other words in another mentions the subject but need not state the fact asked for (+1.1
  points recall@1 on XQuAD-R en, both halves; es, cross-lingual, StackFAQ unchanged).

Weighted score fusion beat RRF (any k, any weights) on the development splits of the
retrieval evals (XQuAD-R es/en/cross-lingual, StackFAQ): RRF throws away how far ahead the
leader of a list is. The weights below were chosen there, for all sets at once, and checked
by tuning on half of the articles and testing on the other half; see `evals/retrieval.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tools.knowledge.ingestion import passage_from_payload
from tools.knowledge.types import Passage

SearchMode = Literal["hybrid", "dense", "bm25"]
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "bm25")

DENSE_WEIGHT = 0.5
FOCUS_WEIGHT = 1.0
BM25_WEIGHT = 0.5
LEXICAL_GATE = 0.25
TOGETHER_WEIGHT = 0.3
MIN_CANDIDATES = 32


@dataclass
class Candidate:
    """One chunk with its payload and its score on each signal (0 when it has none), and
    the share of the question's words in its best answer unit (1 when unknown)."""

    payload: dict[str, Any]
    dense: float = 0.0
    focus: float = 0.0
    bm25: float = 0.0
    together: float = 1.0


def candidate_depth(limit: int) -> int:
    """How many chunks each signal contributes as candidates for a top-`limit` search."""
    return max(4 * limit, MIN_CANDIDATES)


def uses(mode: SearchMode) -> tuple[bool, bool]:
    """(dense signals used, BM25 used) in `mode`."""
    if mode not in SEARCH_MODES:
        raise ValueError(f"unknown search mode {mode!r}; expected one of {SEARCH_MODES}")
    return mode != "bm25", mode != "dense"


def fuse(
    candidates: list[Candidate], mode: SearchMode, limit: int, coverage: float = 1.0
) -> list[Passage]:
    """The best `limit` passages by fused score (`coverage` and `together`: see the module
    docstring); each passage's `score` is its dense cosine (the calibrated relevance of
    `tools.knowledge.relevance`)."""
    use_dense, use_bm25 = uses(mode)
    lexical = [c.bm25 * (_together(c) if use_dense else 1.0) for c in candidates]
    best_bm25 = max(lexical, default=0.0)
    bm25_weight = BM25_WEIGHT * coverage if use_dense else 1.0
    scored: list[tuple[float, Passage]] = []
    for candidate, bm25 in zip(candidates, lexical, strict=True):
        fused = 0.0
        if use_dense:
            fused += DENSE_WEIGHT * candidate.dense + FOCUS_WEIGHT * candidate.focus
        if use_bm25 and best_bm25 > 0:
            plausible = max(candidate.dense, candidate.focus) / LEXICAL_GATE if use_dense else 1.0
            fused += bm25_weight * min(1.0, plausible) * bm25 / best_bm25
        scored.append((fused, passage_from_payload(candidate.payload, candidate.dense)))
    scored.sort(key=lambda item: (-item[0], -item[1]["score"]))
    return [passage for _, passage in scored[:limit]]


def _together(candidate: Candidate) -> float:
    """How much of its BM25 score `candidate` keeps: all of it when one answer unit holds
    every word of the question, `1 - TOGETHER_WEIGHT` when none does."""
    return 1.0 - TOGETHER_WEIGHT * (1.0 - candidate.together)
