"""Is a retrieved passage relevant at all? The calibrated "nothing relevant" cut-off.

A `Passage.score` is the cosine similarity between the query and the chunk under the
dense embedder (ranking itself comes from RRF fusion of dense and BM25, whose scores are
rank-based and say nothing about absolute relevance). With the local USE multilingual
model, shop-FAQ questions score ~0.2-0.55 against the chunk that answers them, while
off-topic questions ("¿quién ganó el mundial?") stay below ~0.13 against any chunk;
the threshold sits in that gap (see tests/tools/test_knowledge_relevance.py). The
threshold belongs to the embedding model: another model needs its own calibration.

The same cut-off keeps fusion honest: a chunk that only shares a word with the query
("72 horas" for "¿a qué hora abren?") may win RRF over the chunk that answers it, so
`rank` keeps fusion order but never lets a passage below the threshold outrank one above.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.knowledge.types import Passage

if TYPE_CHECKING:
    import numpy as np

RELEVANCE_THRESHOLD = 0.17


def is_relevant(passage: Passage, threshold: float = RELEVANCE_THRESHOLD) -> bool:
    """True when the passage plausibly answers the query it was retrieved for."""
    return passage["score"] >= threshold


def rank(candidates: list[tuple[float, Passage]], limit: int) -> list[Passage]:
    """Passages from (fused score, passage) pairs: relevant ones first, each group in
    fusion order, equal fused scores (common with two lists) to the higher relevance."""
    ordered = sorted(candidates, key=lambda c: (not is_relevant(c[1]), -c[0], -c[1]["score"]))
    return [passage for _, passage in ordered[:limit]]


def cosine(query_vector: np.ndarray, stored: list[float] | None) -> float:
    """The relevance score: cosine of the normalised query and a stored (normalised) vector."""
    import numpy as np

    if not stored:
        return 0.0
    return float(np.dot(np.asarray(stored, dtype=np.float32), query_vector))
