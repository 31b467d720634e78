"""Offline extractive answers: the passage sentences that best answer the question.

A sentence scores its cosine similarity to the question (local embedder) plus half the share
of the question's content words it contains. Below `SENTENCE_FLOOR` nothing answers: the
responder says so instead. The floor was calibrated on the development split of XQuAD-R
(354 sampled questions per language): against the question's own paragraph the best
sentence reaches 0.25 for 99.4% (es) / 98.9% (en) of questions; against a paragraph of
another article it stays below 0.25 for 96.3% / 94.9% of them (and the retriever's
relevance cut-off has removed most such paragraphs before this point).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from tools.embeddings import Embedder
from tools.knowledge.types import Passage
from tools.llm.injection import planted_in_document

MAX_SENTENCES = 3
MAX_ANSWER_CHARS = 600
MAX_LABEL_WORDS = 8
MAX_PASSAGES_TRIED = 2
SENTENCE_FLOOR = 0.25
KEEP_RATIO = 0.75
_CLOSERS = (".", "!", "?", ":", ";", ")", "…")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"'”’)\]])\s+")
_WORD = re.compile(r"\w+")
_LETTERS = re.compile(r"[^\W\d_]+")
VAGUE_WORDS = frozenset(
    """
    cuanto cuanta cuantos cuantas cuesta cuestan costo costos precio precios valor vale tarda
    tardan demora como donde cuando que cual cuales quien info informacion ayuda duda dudas
    pregunta consulta tienen tiene tienes hay son esta estan puedes puede pueden podrian dar
    decir saber quiero queria necesito tengo una uno los las del por para con sobre eso esto
    algo mas otra otro favor porfa usted ustedes
    how much many does are what when where which who cost costs price prices long take takes
    info information help question questions have has there this that about can you could
    tell know want need the and for with please your any
    """.split()  # noqa: SIM905
)


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


def is_vague(question: str) -> bool:
    """Words, but none that names a topic ("¿cuánto cuesta?", "how long does it take?")."""
    words = _LETTERS.findall(_fold(question))
    return bool(words) and not any(len(w) > 2 and w not in VAGUE_WORDS for w in words)


def _overlap(question: str, sentence: str) -> float:
    """Share of the question's content words (not question or filler words) in the sentence."""
    asked = {w for w in _WORD.findall(_fold(question)) if len(w) > 3 and w not in VAGUE_WORDS}
    if not asked:
        return 0.0
    said = {w for w in _WORD.findall(_fold(sentence)) if len(w) > 3}
    return len({a for a in asked if any(s.startswith(a[:5]) for s in said)}) / len(asked)


@dataclass(frozen=True)
class Extract:
    """An extractive answer: its text, the document it comes from and its best score."""

    text: str
    document_id: str
    score: float


def _trim(answer: str) -> str:
    return answer if len(answer) <= MAX_ANSWER_CHARS else answer[: MAX_ANSWER_CHARS - 1] + "…"


def _from_passage(question: str, passage: Passage, embedder: Embedder) -> Extract:
    whole = " ".join(passage["text"].split())
    candidates = split_sentences(passage["text"]) or ([whole] if whole else [])
    # A sentence that talks to the assistant (planted in the document) is never the answer.
    sentences = [s for s in candidates if not planted_in_document(s)]
    if not sentences:
        return Extract("", passage["document_id"], float("-inf"))
    vectors = embedder.embed_documents(sentences)
    query = embedder.embed_query(question)
    scores = [
        float(v @ query) + 0.5 * _overlap(question, s)
        for v, s in zip(vectors, sentences, strict=True)
    ]
    top = sorted(range(len(sentences)), key=lambda i: scores[i], reverse=True)[:MAX_SENTENCES]
    cutoff = scores[top[0]] * KEEP_RATIO
    chosen = [sentences[i] for i in sorted(top) if scores[i] >= cutoff]
    answer = " ".join(s if s.endswith((".", "!", "?", ":")) else s + "." for s in chosen)
    return Extract(_trim(answer), passage["document_id"], scores[top[0]])


def extract(
    question: str, passages: Sequence[Passage], embedder: Embedder, floor: float = SENTENCE_FLOOR
) -> Extract | None:
    """The best sentences of the first passages (best first); None when none reaches `floor`."""
    best: Extract | None = None
    for passage in list(passages)[:MAX_PASSAGES_TRIED]:
        found = _from_passage(question, passage, embedder)
        if best is None or found.score > best.score:
            best = found
        if best.score >= floor:
            return best
    return None


def extract_answer(question: str, passages: list[Passage], embedder: Embedder) -> str:
    """The most relevant sentences of the best passage, in reading order, WhatsApp-sized."""
    found = _from_passage(question, passages[0], embedder)
    return found.text
