"""Split a Markdown/plain-text document into bounded, self-describing chunks.

Sections follow ATX headings (`#` .. `######`); inside a section paragraphs are packed
up to `MAX_CHUNK_CHARS`, long paragraphs are cut at sentence then word boundaries, and a
new chunk of the same section starts with the last ~`OVERLAP_CHARS` of the previous one.
Every chunk starts with its heading path ("Envíos > Costos") so it reads on its own.

A FAQ document (first line `FAQ_MARKER`, see `faq_markdown`) is one chunk per question and
answer pair: the heading is the question, kept on the chunk so it is indexed on its own.
Each chunk also names its `focus` texts, embedded one by one beside the whole chunk: the
question of a FAQ pair, else the chunk's lines and sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHUNK_CHARS = 800
OVERLAP_CHARS = 120
MAX_TITLE_CHARS = 120
FAQ_MARKER = "<!-- faq -->"
MAX_FOCUS_TEXTS = 12
MIN_FOCUS_CHARS = 24

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+")
_MARKUP = re.compile(r"[*_`>#]+")
_SEPARATORS = (("\n", re.compile(r"\n")), (" ", _SENTENCE_END), (" ", re.compile(r" +")))
_FOCUS_SPLIT = re.compile(r"\n+|(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Chunk:
    """One piece of a document: `text` is what gets embedded and shown."""

    heading: str
    body: str
    question: str = ""

    @property
    def text(self) -> str:
        return f"{self.heading}\n\n{self.body}" if self.heading else self.body

    @property
    def focus(self) -> list[str]:
        """What is embedded on its own beside the whole chunk: a FAQ pair's question, else
        the chunk's lines and sentences (a fragment too short to mean much joins the next
        one; at most `MAX_FOCUS_TEXTS`, neighbours merged beyond that)."""
        if self.question:
            return [self.question]
        units: list[str] = []
        pending = ""
        for piece in _FOCUS_SPLIT.split(self.text):
            piece = piece.strip()
            if not piece:
                continue
            pending = f"{pending} {piece}" if pending else piece
            if len(pending) >= MIN_FOCUS_CHARS or (not units and piece == self.heading):
                units.append(pending)
                pending = ""
        if pending:
            if units:
                units[-1] = f"{units[-1]} {pending}"
            else:
                units.append(pending)
        while len(units) > MAX_FOCUS_TEXTS:
            units = [" ".join(units[i : i + 2]) for i in range(0, len(units), 2)]
        return units


def faq_markdown(pairs: list[tuple[str, str]], title: str = "") -> str:
    """Question and answer pairs as a FAQ document that `chunk_markdown` reads back as one
    chunk per pair (the marker line, an optional `# title`, then `## question` + answer)."""
    parts = [FAQ_MARKER]
    if title.strip():
        parts.append(f"# {' '.join(title.split())}")
    for question, answer in pairs:
        # an answer line that looks like a heading would start a new pair: escape it
        body = "\n".join(
            f"\\{line}" if _HEADING.match(line) else line for line in answer.strip().splitlines()
        )
        parts.append(f"## {' '.join(question.split())}\n\n{body}")
    return "\n\n".join(parts) + "\n"


def is_faq(text: str) -> bool:
    """Whether `text` is a FAQ document (its first non-empty line is `FAQ_MARKER`)."""
    return text.lstrip().startswith(FAQ_MARKER)


def title_of(text: str) -> str:
    """A title for a document: its first heading, else its first non-empty line."""
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and line.strip() != FAQ_MARKER
    ]
    heading = next((m.group(2) for line in lines if (m := _HEADING.match(line))), None)
    raw = heading or (lines[0] if lines else "")
    title = _plain(raw)
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return title


def chunk_markdown(text: str, fallback_heading: str = "") -> list[Chunk]:
    """Chunks of `text`; text outside any heading uses `fallback_heading` (e.g. the title)."""
    if is_faq(text):
        return _faq_chunks(text)
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


def _faq_chunks(text: str) -> list[Chunk]:
    """One chunk per `## question` section (split further only when the answer is too long);
    the question is the chunk's heading and its focus."""
    chunks: list[Chunk] = []
    body_start = text.index(FAQ_MARKER) + len(FAQ_MARKER)
    for heading, paragraphs in _sections(text[body_start:]):
        question = heading.rsplit(" > ", 1)[-1]
        if heading == question and not chunks and _is_title_only(text[body_start:], heading):
            question = ""  # text under the `# title`, before the first question
        budget = max(MAX_CHUNK_CHARS - len(question) - 2, MAX_CHUNK_CHARS // 2)
        paragraphs = [_unescape(p) for p in paragraphs]
        for body in _pack(paragraphs, budget):
            chunks.append(Chunk(question or heading, body, question))
    return chunks


def _is_title_only(text: str, heading: str) -> bool:
    """Whether `heading` is the document's level-1 title (not a `##` question)."""
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            return len(match.group(1)) == 1 and _plain(match.group(2)) == heading
    return False


def _unescape(paragraph: str) -> str:
    return "\n".join(
        line[1:] if line.startswith("\\#") else line for line in paragraph.splitlines()
    )


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
