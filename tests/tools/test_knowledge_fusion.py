"""Hybrid fusion: weighted dense + focus + normalised BM25, gated, coverage-scaled, modes."""

from __future__ import annotations

import pytest

from tools.knowledge.fusion import (
    BM25_WEIGHT,
    DENSE_WEIGHT,
    FOCUS_WEIGHT,
    LEXICAL_GATE,
    TOGETHER_WEIGHT,
    Candidate,
    candidate_depth,
    fuse,
)


def candidate(name: str, dense: float, focus: float, bm25: float) -> Candidate:
    payload = {"document_id": name, "title": name, "chunk": 0, "text": name, "language": "es"}
    return Candidate(payload, dense=dense, focus=focus, bm25=bm25)


def ids(passages: list) -> list[str]:
    return [p["document_id"] for p in passages]


def test_weighted_sum_with_bm25_relative_to_the_best_candidate() -> None:
    a = candidate("a", dense=0.40, focus=0.50, bm25=2.0)
    b = candidate("b", dense=0.45, focus=0.55, bm25=20.0)
    c = candidate("c", dense=0.60, focus=0.65, bm25=0.0)
    # a: .2+.5+.05 = .75; b: .225+.55+.5 = 1.275; c: .3+.65 = .95
    assert ids(fuse([a, b, c], "hybrid", 3)) == ["b", "c", "a"]
    assert pytest.approx(1.275) == DENSE_WEIGHT * 0.45 + FOCUS_WEIGHT * 0.55 + BM25_WEIGHT
    passages = fuse([a, b, c], "hybrid", 2)
    assert [p["score"] for p in passages] == [0.45, 0.60]  # the score is the dense cosine


def test_lexical_evidence_counts_in_full_only_for_plausible_chunks() -> None:
    # "72 horas" matches "¿a qué hora abren?" by its words alone
    lexical_only = candidate("facturacion", dense=0.06, focus=0.12, bm25=9.0)
    answer = candidate("horarios", dense=0.36, focus=0.31, bm25=0.0)
    assert ids(fuse([lexical_only, answer], "hybrid", 2)) == ["horarios", "facturacion"]
    plausible = candidate("p", dense=LEXICAL_GATE, focus=0.0, bm25=9.0)
    halfway = candidate("h", dense=LEXICAL_GATE / 2, focus=0.0, bm25=9.0)
    fused = {p["document_id"]: i for i, p in enumerate(fuse([plausible, halfway], "hybrid", 2))}
    assert fused == {"p": 0, "h": 1}


def test_bm25_counts_as_much_as_the_best_candidate_covers_the_question() -> None:
    def ranking(coverage: float) -> list[str]:
        lexical = candidate("lexical", dense=0.30, focus=0.30, bm25=10.0)
        semantic = candidate("semantic", dense=0.34, focus=0.45, bm25=0.0)
        return ids(fuse([lexical, semantic], "hybrid", 2, coverage))

    # .15+.3+.5*coverage against .17+.45 = .62: the lexical match wins from coverage > .34
    assert ranking(1.0) == ranking(0.5) == ["lexical", "semantic"]
    assert ranking(0.25) == ["semantic", "lexical"]  # a word or two in common: noise
    assert ranking(0.0) == ["semantic", "lexical"]


def test_bm25_counts_less_when_the_words_are_spread_over_sentences() -> None:
    def pair() -> tuple[Candidate, Candidate]:
        # "who won Super Bowl XLIX?": one paragraph names the game in one sentence and
        # "won" in another; the answer has every word in one sentence, and fewer matches
        spread = candidate("spread", dense=0.40, focus=0.40, bm25=10.0)
        answer = candidate("answer", dense=0.40, focus=0.40, bm25=8.0)
        spread.together, answer.together = 0.5, 1.0
        return spread, answer

    # BM25 kept: spread 10 * (1 - .3 * .5) = 8.5 against 8 for the answer
    assert ids(fuse(list(pair()), "hybrid", 2)) == ["spread", "answer"]
    spread, answer = pair()
    answer.bm25 = 9.0  # 8.5 against 9: now the sentence that holds every word wins
    assert ids(fuse([spread, answer], "hybrid", 2)) == ["answer", "spread"]
    assert pytest.approx(8.5) == 10.0 * (1 - TOGETHER_WEIGHT * (1 - 0.5))
    # the single-signal modes ignore it: BM25 alone stays plain BM25
    assert ids(fuse([answer, spread], "bm25", 2)) == ["spread", "answer"]
    # unknown (a FAQ pair, or an older ingestion): counts as together
    assert Candidate({}).together == 1.0


def test_single_signal_modes() -> None:
    lexical = candidate("lexical", dense=0.10, focus=0.10, bm25=10.0)
    semantic = candidate("semantic", dense=0.50, focus=0.50, bm25=1.0)
    # BM25 alone ranks by BM25, whatever the coverage
    assert ids(fuse([semantic, lexical], "bm25", 2, coverage=0.1)) == ["lexical", "semantic"]
    assert ids(fuse([lexical, semantic], "dense", 2)) == ["semantic", "lexical"]
    with pytest.raises(ValueError, match="unknown search mode"):
        fuse([lexical], "rrf", 1)  # type: ignore[arg-type]
    assert fuse([], "hybrid", 3) == []


def test_candidate_depth_grows_with_the_limit() -> None:
    assert candidate_depth(1) == candidate_depth(5) == 32
    assert candidate_depth(20) == 80
