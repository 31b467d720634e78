"""Is a retrieved passage relevant at all? The calibrated "nothing relevant" cut-off.

A `Passage.score` is the cosine similarity between the query (without its question words,
`tools.knowledge.search.semantic_text`) and the whole chunk under the dense embedder (ranking itself is the fused score of `tools.knowledge.fusion`, which is
relative to the other candidates and says nothing about absolute relevance). With the
local USE multilingual model, shop-FAQ questions score ~0.2-0.55 against the chunk that
answers them, while off-topic questions ("¿quién ganó el mundial?") stay below ~0.13
against any chunk; the threshold sits in that gap (see
tests/tools/test_knowledge_relevance.py). The threshold belongs to the embedding model:
another model needs its own calibration.
"""

from __future__ import annotations

from tools.knowledge.types import Passage

RELEVANCE_THRESHOLD = 0.17


def is_relevant(passage: Passage, threshold: float = RELEVANCE_THRESHOLD) -> bool:
    """True when the passage plausibly answers the query it was retrieved for."""
    return passage["score"] >= threshold
