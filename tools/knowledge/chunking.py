"""Split a Markdown/plain-text document into bounded, self-describing chunks.

Sections follow ATX headings (`#` .. `######`); inside a section paragraphs are packed
up to `MAX_CHUNK_CHARS`, long paragraphs are cut at sentence then word boundaries, and a
new chunk of the same section starts with the last ~`OVERLAP_CHARS` of the previous one.
Every chunk starts with its heading path ("Envíos > Costos") so it reads on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHUNK_CHARS = 800
OVERLAP_CHARS = 120
MAX_TITLE_CHARS = 120

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+")
_MARKUP = re.compile(r"[*_`>#]+")
_SEPARATORS = (("\n", re.compile(r"\n")), (" ", _SENTENCE_END), (" ", re.compile(r" +")))


@dataclass(frozen=True)
class Chunk:
    """One piece of a document: `text` is what gets embedded and shown."""

    heading: str
    body: str

    @property
    def text(self) -> str:
        return f"{self.heading}\n\n{self.body}" if self.heading else self.body


def title_of(text: str) -> str:
    """A title for a document: its first heading, else its first non-empty line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    heading = next((m.group(2) for line in lines if (m := _HEADING.match(line))), None)
    raw = heading or (lines[0] if lines else "")
    title = _plain(raw)
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return title


def chunk_markdown(text: str, fallback_heading: str = "") -> list[Chunk]:
    """Chunks of `text`; text outside any heading uses `fallback_heading` (e.g. the title)."""
    chunks: list[Chunk] = []
    for heading, paragraphs in _sections(text):
        prefix = heading or fallback_heading
        budget = max(MAX_CHUNK_CHARS - len(prefix) - 2, MAX_CHUNK_CHARS // 2)
        for body in _pack(paragraphs, budget):
            # a body that already starts with its title line needs no prefix
            repeats = not heading and _plain(body).startswith(fallback_heading)
            chunks.append(Chunk("" if repeats else prefix, body))
    if not chunks and text.strip():  # headings only: keep them as the text
        chunks.append(Chunk("", _plain(text)[:MAX_CHUNK_CHARS]))
    return chunks


def _plain(text: str) -> str:
    return " ".join(_MARKUP.sub("", text).split())


def _sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading path, paragraphs) per section, in order; headings in code fences ignored."""
    sections: list[tuple[str, list[str]]] = []
    path: list[tuple[int, str]] = []
    paragraphs: list[str] = []
    lines: list[str] = []
    in_fence = False

    def end_paragraph() -> None:
        if any(line.strip() for line in lines):
            paragraphs.append("\n".join(lines).strip())
        lines.clear()

    def end_section() -> None:
        end_paragraph()
        if paragraphs:
            sections.append((" > ".join(title for _, title in path), paragraphs.copy()))
        paragraphs.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            end_section()
            level = len(match.group(1))
            path = [(lvl, title) for lvl, title in path if lvl < level]
            path.append((level, _plain(match.group(2))))
        elif not line.strip() and not in_fence:
            end_paragraph()
        else:
            lines.append(line.rstrip())
    end_section()
    return sections


def _pack(paragraphs: list[str], budget: int) -> list[str]:
    """Greedy packing of paragraph pieces into bodies of at most `budget` chars."""
    units: list[tuple[str, str]] = []  # (joiner to the previous piece, piece)
    for paragraph in paragraphs:
        pieces = _split(paragraph, budget - OVERLAP_CHARS)
        units.append(("\n\n", pieces[0][1]))
        units.extend(pieces[1:])
    bodies: list[str] = []
    current = ""
    for joiner, piece in units:
        if not current:
            current = piece
        elif len(current) + len(joiner) + len(piece) <= budget:
            current = f"{current}{joiner}{piece}"
        else:
            bodies.append(current)
            overlap = _tail(current, OVERLAP_CHARS)
            fits = overlap and len(overlap) + 1 + len(piece) <= budget
            current = f"{overlap} {piece}" if fits else piece
    if current:
        bodies.append(current)
    return bodies


def _split(text: str, size: int, level: int = 0) -> list[tuple[str, str]]:
    """`text` as (joiner, piece) pairs of at most `size` chars, cut at lines, then
    sentences, then words, then anywhere; joiners put the pieces back together."""
    if len(text) <= size:
        return [("", text)]
    if level == len(_SEPARATORS):
        return [("", text[i : i + size]) for i in range(0, len(text), size)]
    joiner, pattern = _SEPARATORS[level]
    pieces: list[tuple[str, str]] = []
    for part in pattern.split(text):
        if part.strip():
            sub = _split(part.strip(), size, level + 1)
            pieces.append((joiner, sub[0][1]))
            pieces.extend(sub[1:])
    return pieces


def _tail(text: str, size: int) -> str:
    """The last <= `size` chars of `text`, starting at a sentence or word boundary."""
    if len(text) <= size:
        return ""  # the whole previous chunk: overlap would just repeat it
    tail = text[-size:]
    sentence = _SENTENCE_END.split(tail, maxsplit=1)
    if len(sentence) == 2 and sentence[1]:
        return sentence[1].strip()
    return tail.split(" ", 1)[1].strip() if " " in tail else ""
