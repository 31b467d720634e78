"""BM25 sparse vectors (qdrant_edge.Bm25) with language-appropriate analysis.

A document is analysed in its own language (Snowball stemmer, stop words); a query, whose
language is often unclear in a few words, is analysed in every supported language and the
token sets are merged, so it matches documents in any of them. Each text is analysed twice,
with and without ASCII folding, and the tokens merged: folding makes "devolucion" (typed
without accents, as on WhatsApp) match "devolución", while the unfolded pass keeps the
Snowball suffixes that need their accents ("devolución" and "devoluciones" share a stem).
The IDF part of BM25 is applied by Qdrant at search time (`Modifier.Idf` on the vector).
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qdrant_edge import Bm25, SparseVector

# ISO 639-1 code -> Snowball/stop-word language; extend here to support more.
LANGUAGES: dict[str, str] = {"es": "Spanish", "en": "English"}
# Expected analysed length of a chunk in tokens (~800 chars minus stop words).
BM25_AVG_LEN = 80.0

_WORD = re.compile(r"\w+", re.UNICODE)


class SparseEncoder:
    """BM25 document and query vectors; thread-safe, models built on first use."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, bool], Bm25] = {}
        self._lock = threading.Lock()

    def _analysers(self, language: str) -> list[Bm25]:
        with self._lock:
            for folded in (True, False):
                if (language, folded) not in self._models:
                    self._models[language, folded] = _bm25(LANGUAGES[language], folded)
            return [self._models[language, True], self._models[language, False]]

    def embed_document(self, text: str, language: str) -> SparseVector:
        """Term-frequency vector of `text` analysed as `language` (an ISO code)."""
        if language not in LANGUAGES:
            supported = sorted(LANGUAGES)
            raise ValueError(f"unsupported language {language!r}; expected one of {supported}")
        weights: dict[int, float] = {}
        for analyser in self._analysers(language):
            vector = analyser.embed_document(text)
            for index, value in zip(vector.indices, vector.values, strict=True):
                weights[index] = max(value, weights.get(index, 0.0))
        return _sparse(weights)

    def query_words(self, text: str) -> list[frozenset[int]]:
        """The content words of `text`, each as its token ids in every supported language
        (with and without folding), in order, each once; a word that is a stop word in any
        language is dropped ("de" is not English)."""
        analysers = [a for language in LANGUAGES for a in self._analysers(language)]
        words: dict[frozenset[int], None] = {}
        for word in _WORD.findall(text):
            variants = [a.embed_query(word).indices for a in analysers]
            if all(variants):
                words[frozenset(i for v in variants for i in v)] = None
        return list(words)

    def embed_query(self, text: str) -> SparseVector:
        """Weight-1 vector over the tokens of `query_words(text)`."""
        return _sparse({i: 1.0 for word in self.query_words(text) for i in word})


def _sparse(weights: dict[int, float]) -> SparseVector:
    from qdrant_edge import SparseVector

    indices = sorted(weights)
    return SparseVector(indices=indices, values=[weights[i] for i in indices])


def _bm25(language: str, ascii_folding: bool) -> Bm25:
    from qdrant_edge import Bm25, Bm25Config, Language, SnowballLanguage, SnowballParams

    return Bm25(
        Bm25Config(
            avg_len=BM25_AVG_LEN,
            language=language.lower(),
            lowercase=True,
            ascii_folding=ascii_folding,
            stopwords=getattr(Language, language),
            stemmer=SnowballParams(getattr(SnowballLanguage, language)),
        )
    )
