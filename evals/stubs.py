"""Stand-ins for the LLM and the embedding model, for speed benchmarks of everything else.

`install()` replaces the one LLM seam (`tools.llm.get_chat_model`) with a canned chat
model and the local embedder with a cheap hashing one, in this process.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

STUB_REPLY = "Respuesta de prueba (stub): con gusto te ayudo con eso."
"""A reply the responder accepts (plain text, no figures to check against the passages)."""
_WORD = re.compile(r"\w+")


class HashEmbedder:
    """Bag of hashed words, L2-normalised: deterministic, microseconds per text."""

    dim = 64

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "little") % self.dim] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.empty((0, self.dim))

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def similarity(self, a: str, b: list[str]) -> list[float]:
        query = self._vector(a)
        return [float(self._vector(text) @ query) for text in b]


class AsyncFakeChatModel(FakeListChatModel):
    """The canned model, answering on the event loop like the real (async) LiteLLM model:
    the stock fake, a sync-only model, would hop to a worker thread on every call."""

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop=stop, **kwargs)


def install() -> None:
    """Use the stubs in this process (call before the server starts)."""
    import sys

    import graph.builder  # noqa: F401  (imports every node, so every `default_embedder` name)
    import tools.embeddings
    import tools.llm

    embedder = HashEmbedder()
    model = AsyncFakeChatModel(responses=[STUB_REPLY])
    original = tools.embeddings.default_embedder
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("nodes", "tools", "graph") and (
            getattr(module, "default_embedder", None) is original
        ):
            module.default_embedder = lambda: embedder  # type: ignore[attr-defined]
    tools.llm.get_chat_model = lambda *args, **kwargs: model
