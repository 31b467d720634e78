"""The process's knowledge base: opened once (by the server, the CLI or on first use)."""

from __future__ import annotations

import threading

from config.settings import get_settings
from tools.knowledge.base import KnowledgeBase

_lock = threading.Lock()
_current: KnowledgeBase | None = None


def shared_knowledge_base() -> KnowledgeBase:
    """The knowledge base this process uses, opened from the settings on first use."""
    global _current
    with _lock:
        if _current is None:
            from tools.knowledge import open_knowledge_base

            _current = open_knowledge_base(get_settings())
        return _current


def use_knowledge_base(knowledge: KnowledgeBase | None) -> None:
    """Install (or, with None, forget) the process's knowledge base; the caller closes it."""
    global _current
    with _lock:
        _current = knowledge
