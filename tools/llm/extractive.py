"""Offline extractive answers: the passage sentences that best answer the question."""

from __future__ import annotations

import re
import unicodedata

from tools.embeddings import Embedder
from tools.knowledge.types import Passage

MAX_SENTENCES = 3
MAX_ANSWER_CHARS = 600
MAX_LABEL_WORDS = 8
_CLOSERS = (".", "!", "?", ":", ";", ")", "…")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def is_heading(line: str) -> bool:
    """A Markdown heading, or a short label line without closing punctuation (a title)."""
    line = line.strip()
    return line.startswith("#") or (
        len(line.split()) <= MAX_LABEL_WORDS and not line.endswith(_CLOSERS)
    )


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, headings and title lines dropped."""
    lines = (line.strip(" -*•\t") for line in text.splitlines() if not is_heading(line))
    return [s for line in lines for s in _SENTENCE_END.split(line) if len(s) > 3]


def _overlap(question: str, sentence: str) -> float:
    asked = {w for w in _WORD.findall(_fold(question)) if len(w) > 3}
    if not asked:
        return 0.0
    said = {w for w in _WORD.findall(_fold(sentence)) if len(w) > 3}
    return len({a for a in asked if any(s.startswith(a[:5]) for s in said)}) / len(asked)


def extract_answer(question: str, passages: list[Passage], embedder: Embedder) -> str:
    """The most relevant sentences of the best passage, in reading order, WhatsApp-sized."""
    best = passages[0]
    sentences = split_sentences(best["text"])
    if not sentences:
        return best["text"][:MAX_ANSWER_CHARS]
    vectors = embedder.embed_documents(sentences)
    query = embedder.embed_query(question)
    scores = [float(v @ query) + 0.5 * _overlap(question, s) for v, s in zip(vectors, sentences, strict=True)]
    top = sorted(range(len(sentences)), key=lambda i: scores[i], reverse=True)[:MAX_SENTENCES]
    cutoff = scores[top[0]] * 0.75
    chosen = [sentences[i] for i in sorted(top) if scores[i] >= cutoff]
    answer = " ".join(s if s.endswith((".", "!", "?", ":")) else s + "." for s in chosen)
    return answer if len(answer) <= MAX_ANSWER_CHARS else answer[: MAX_ANSWER_CHARS - 1] + "…"
