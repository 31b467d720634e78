"""Shapes shared by the knowledge base and the graph."""

from __future__ import annotations

from typing import TypedDict


class Passage(TypedDict):
    """One retrieved chunk of a tenant's knowledge base (a citation)."""

    document_id: str
    title: str
    chunk: int
    text: str
    score: float


class Document(TypedDict, total=False):
    """A document to ingest: `text` is required, `id` and `title` are derived when missing."""

    id: str
    title: str
    text: str
