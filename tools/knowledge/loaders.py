"""Files to `Document`s: plain text, Markdown, HTML, PDF, DOCX and FAQ files (CSV / JSON).

Everything becomes Markdown-ish text that `chunking` splits at headings: HTML and DOCX
headings stay headings, a FAQ file becomes one `## question` section per pair
(`chunking.faq_markdown`), so each pair is one chunk with its question indexed on its own.
A file that cannot be read raises `LoaderError` (a ValueError) saying why, in words an
admin can act on; nothing is half-read.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any, ClassVar

from tools.knowledge.chunking import MAX_TITLE_CHARS, faq_markdown, title_of
from tools.knowledge.types import Document

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_DOCUMENT_ID_CHARS = 200
TEXT_ENCODINGS = ("utf-8", "cp1252", "latin-1")
QUESTION_COLUMNS = ("question", "pregunta", "q", "p")
ANSWER_COLUMNS = ("answer", "respuesta", "a", "r")


class LoaderError(ValueError):
    """A file that cannot be ingested, and why."""


class UnsupportedFileType(LoaderError):
    """A file whose type has no loader."""


class FileTooLarge(LoaderError):
    """A file over `MAX_FILE_BYTES`."""


def decode_text(data: bytes) -> str:
    """Bytes as text: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252,
    else Latin-1 (which never fails); binary data (NUL bytes) is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise LoaderError("not valid UTF-16 text") from None
    if b"\x00" in data:
        raise LoaderError("binary data, not text")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in TEXT_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any byte string")  # pragma: no cover


def _humanize(name: str) -> str:
    stem = PurePosixPath(name).stem
    return " ".join(re.sub(r"[_\-]+", " ", stem).split())


def document_id_for_path(name: str) -> str:
    """A stable document id from a file's name or relative path: POSIX separators, no
    leading `./` or `/`; LoaderError when nothing is left or it is too long."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", ".", "")]
    if ".." in parts:
        raise LoaderError(f"file name {name!r} may not contain '..'")
    doc_id = "/".join(parts)
    if not doc_id:
        raise LoaderError("a file needs a name")
    if len(doc_id) > MAX_DOCUMENT_ID_CHARS:
        raise LoaderError(f"file name longer than {MAX_DOCUMENT_ID_CHARS} characters")
    return doc_id


# -- formats ------------------------------------------------------------------------------


def _plain_text(data: bytes) -> tuple[str, str]:
    return decode_text(data), ""


class _HtmlText(HTMLParser):
    """Visible text of an HTML page as Markdown: headings kept, boilerplate dropped."""

    SKIP = frozenset(
        {
            "script",
            "style",
            "nav",
            "header",
            "footer",
            "noscript",
            "svg",
            "template",
            "head",
            "aside",
            "form",
            "button",
        }
    )
    BLOCKS = frozenset(
        {
            "p",
            "div",
            "section",
            "article",
            "main",
            "br",
            "tr",
            "table",
            "ul",
            "ol",
            "dl",
            "dt",
            "dd",
            "blockquote",
            "pre",
            "figure",
            "figcaption",
            "hr",
        }
    )
    HEADINGS: ClassVar[dict[str, int]] = {f"h{level}": level for level in range(1, 7)}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skipping: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self.SKIP:
            self._skipping.append(tag)
        elif not self._skipping:
            if tag in self.HEADINGS:
                self.parts.append("\n\n" + "#" * self.HEADINGS[tag] + " ")
            elif tag == "li":
                self.parts.append("\n- ")
            elif tag in ("td", "th"):
                self.parts.append(" | ")
            elif tag in self.BLOCKS:
                self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._skipping and tag == self._skipping[-1]:
            self._skipping.pop()
        elif not self._skipping and (tag in self.HEADINGS or tag in self.BLOCKS):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skipping:
            self.parts.append(re.sub(r"\s+", " ", data))

    def markdown(self) -> str:
        lines = [line.strip() for line in "".join(self.parts).splitlines()]
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def _html(data: bytes) -> tuple[str, str]:
    parser = _HtmlText()
    parser.feed(decode_text(data))
    parser.close()
    return parser.markdown(), " ".join(parser.title.split())


def _pdf(data: bytes) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoaderError("the PDF is password-protected")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str(reader.metadata.title or "") if reader.metadata else ""
    except LoaderError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise LoaderError(f"not a readable PDF ({error})") from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise LoaderError(
            "the PDF has no text layer (a scanned document?); run it through OCR first"
        )
    return text, " ".join(title.split())


def _docx(data: bytes) -> tuple[str, str]:
    from docx import Document as open_docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = open_docx(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as error:
        raise LoaderError(f"not a readable DOCX file ({error})") from None
    except Exception as error:  # zipfile.BadZipFile and lxml errors, among others
        raise LoaderError(f"not a readable DOCX file ({error})") from None
    blocks: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = _docx_heading_level(style)
        blocks.append(f"{'#' * level} {text}" if level else text)
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells]
            if any(cells):
                blocks.append(" | ".join(cells))
    return "\n\n".join(blocks), (document.core_properties.title or "").strip()


def _docx_heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"(?:Heading|Título|Titulo|Encabezado) ?(\d)", style)
    return min(int(match.group(1)), 6) if match else 0


def _faq_pairs_from_rows(rows: list[dict[str, Any]], where: str) -> list[tuple[str, str]]:
    pairs = []
    for row in rows:
        keys = {str(k).strip().lower(): k for k in row if k is not None}
        question_key = next((keys[c] for c in QUESTION_COLUMNS if c in keys), None)
        answer_key = next((keys[c] for c in ANSWER_COLUMNS if c in keys), None)
        if question_key is None or answer_key is None:
            raise LoaderError(
                f"{where}: need 'question' and 'answer' fields (or 'pregunta' and 'respuesta')"
            )
        question = " ".join(str(row[question_key] or "").split())
        answer = _answer_text(row[answer_key])
        if question and answer:
            pairs.append((question, answer))
    if not pairs:
        raise LoaderError(f"{where}: no question with an answer")
    return pairs


def _answer_text(value: Any) -> str:
    if isinstance(value, list):
        return "\n\n".join(str(v).strip() for v in value if str(v).strip())
    return str(value or "").strip()


def _csv(data: bytes) -> tuple[str, str]:
    text = decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    except csv.Error as error:
        raise LoaderError(f"not a readable CSV file ({error})") from None
    return faq_markdown(_faq_pairs_from_rows(rows, "CSV")), ""


def _json(data: bytes) -> tuple[str, str]:
    try:
        value = json.loads(decode_text(data))
    except json.JSONDecodeError as error:
        raise LoaderError(f"not valid JSON ({error.msg}, line {error.lineno})") from None
    if isinstance(value, dict):  # {"faq": [...]} or {"questions": [...]}: its one list
        lists = [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else value
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise LoaderError('a JSON FAQ must be a list of {"question", "answer"} objects')
    return faq_markdown(_faq_pairs_from_rows(value, "JSON")), ""


LOADERS: dict[str, Callable[[bytes], tuple[str, str]]] = {
    ".txt": _plain_text,
    ".text": _plain_text,
    ".md": _plain_text,
    ".markdown": _plain_text,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
    ".csv": _csv,
    ".json": _json,
}
SUPPORTED_SUFFIXES = frozenset(LOADERS)
FAQ_SUFFIXES = frozenset({".csv", ".json"})


def is_supported(name: str) -> bool:
    """Whether a file of this name has a loader (by its extension)."""
    return PurePosixPath(name).suffix.lower() in SUPPORTED_SUFFIXES


def load_document(name: str, data: bytes) -> Document:
    """The `Document` in file `name` (its relative path: the document id) with `data`."""
    doc_id = document_id_for_path(name)
    suffix = PurePosixPath(doc_id).suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnsupportedFileType(
            f"unsupported file type '{suffix or name}' (supported: {supported})"
        )
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLarge(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if not data.strip():
        raise LoaderError("empty file")
    text, title = loader(data)
    if not text.strip():
        raise LoaderError("no text in the file")
    if suffix in FAQ_SUFFIXES:
        title = title or _humanize(doc_id)
    title = title or title_of(text) or _humanize(doc_id)
    return {"id": doc_id, "title": title[:MAX_TITLE_CHARS], "text": text}
