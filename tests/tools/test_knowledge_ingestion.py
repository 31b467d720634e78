"""Backend-independent ingestion: validation, derived ids/titles/languages, point ids."""

from __future__ import annotations

import numpy as np
import pytest

from tools.knowledge.chunking import faq_markdown
from tools.knowledge.ingestion import UNITS_FIELD, build_points, point_id, prepare_documents
from tools.knowledge.sparse import SparseEncoder
from tools.knowledge.types import Document


def test_documents_get_ids_titles_languages_and_chunks() -> None:
    spanish, english = prepare_documents(
        [
            {"text": "# Envíos\n\nEnviamos a todo el país en 3 a 5 días."},
            {"id": "warranty", "title": "Garantía", "text": "All items have a 1-year warranty."},
        ]
    )
    assert spanish.title == "Envíos" and spanish.language == "es"
    assert (
        len(spanish.id) == 16
        and prepare_documents([{"text": "# Envíos\n\nEnviamos a todo el país en 3 a 5 días.\n"}])[
            0
        ].id
        == spanish.id
    )
    assert (english.id, english.title, english.language) == ("warranty", "Garantía", "en")
    assert [c.text for c in english.chunks] == ["Garantía\n\nAll items have a 1-year warranty."]


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        ([{"text": ""}], "document 0: 'text' is empty"),
        ([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], "document 1: duplicate id 'a'"),
        ([{"id": 7, "text": "x"}], "document 0: 'id' must be a non-empty string"),
        ([{"text": "x", "title": 3}], "document 0: 'title' must be a string"),
        ("not a list", "documents must be a list"),
    ],
)
def test_bad_documents_are_rejected_with_the_reason(
    documents: list[Document], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        prepare_documents(documents)


def test_point_ids_are_deterministic_and_distinct() -> None:
    assert point_id("acme", "faq", 0) == point_id("acme", "faq", 0)
    ids = {point_id(t, d, c) for t in ("acme", "beta") for d in ("faq", "faq2") for c in (0, 1)}
    assert len(ids) == 8


class _Embedder:
    dim = 4

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), self.dim), dtype=np.float32) / 2

    def embed_query(self, text: str) -> np.ndarray:
        return np.ones(self.dim, dtype=np.float32) / 2


def test_prose_chunks_store_the_terms_of_each_sentence_and_faq_pairs_none() -> None:
    sparse = SparseEncoder()
    prose = "# Envíos\n\nEnviamos a todo el país en cinco días. Los reembolsos tardan una semana."
    faq = faq_markdown([("¿Hacen envíos?", "Sí, a todo el país.")], title="FAQ")
    page, pair = build_points(
        "acme", prepare_documents([{"text": prose}, {"text": faq}]), _Embedder(), sparse
    )
    units = [set(unit) for unit in page.payload[UNITS_FIELD]]
    shipping, refunds = (sparse.query_words(word)[0] for word in ("envío", "reembolso"))
    # one unit per focus text: the heading, then each sentence
    assert [bool(unit & shipping) for unit in units] == [True, True, False]
    assert [bool(unit & refunds) for unit in units] == [False, False, True]
    assert set().union(*units) <= set(page.sparse_indices)
    assert UNITS_FIELD not in pair.payload  # a FAQ pair is one unit: nothing to store
