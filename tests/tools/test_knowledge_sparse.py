"""BM25 analysis: accents, stems, stop words, cross-language queries."""

from __future__ import annotations

import pytest

from tools.knowledge.sparse import SparseEncoder


def _tokens(vector: object) -> set[int]:
    return set(vector.indices)  # type: ignore[attr-defined]


def test_queries_match_documents_with_or_without_accents_and_inflections() -> None:
    encoder = SparseEncoder()
    document = _tokens(encoder.embed_document("Política de devolución y envíos gratis", "es"))
    for query in ("devolucion", "devoluciones", "devolución", "envio", "ENVÍO"):
        assert _tokens(encoder.embed_query(query)) & document, query


def test_stop_words_are_dropped_and_weights_are_term_frequencies() -> None:
    encoder = SparseEncoder()
    assert encoder.embed_query("de la que el").indices == []
    once = encoder.embed_document("garantía", "es")
    twice = encoder.embed_document("garantía garantía garantía", "es")
    assert once.indices == twice.indices and max(twice.values) > max(once.values)
    query = encoder.embed_query("garantía")
    assert set(query.values) == {1.0}


def test_a_query_matches_documents_in_either_language() -> None:
    encoder = SparseEncoder()
    spanish = _tokens(encoder.embed_document("Aceptamos tarjetas de crédito", "es"))
    english = _tokens(encoder.embed_document("We accept credit cards", "en"))
    query = _tokens(encoder.embed_query("tarjeta credit"))
    assert query & spanish and query & english


def test_unsupported_language_is_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        SparseEncoder().embed_document("bonjour", "fr")


def test_query_words_group_each_word_s_tokens_once() -> None:
    encoder = SparseEncoder()
    words = encoder.query_words("¿Cuesta algo el envío? ¿El ENVÍO de la devolución?")
    assert len(words) == 3  # cuesta, envío (once), devolución; stop words dropped
    document = _tokens(encoder.embed_document("El envío cuesta $99", "es"))
    assert [bool(word & document) for word in words] == [True, True, False]
    assert _tokens(encoder.embed_query("cuesta envío devolución")) == set().union(*words)
