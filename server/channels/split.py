"""Splitting a long reply into messages a channel accepts (WhatsApp via Twilio: 1,600 chars)."""

from __future__ import annotations

import re

WHATSAPP_MAX_CHARS = 1600
_SENTENCE_END = re.compile(r"(?<=[.!?…。])([\"')\]»”]*)\s+|\n+")
_SPACE = re.compile(r"\s+")


def split_message(text: str, limit: int = WHATSAPP_MAX_CHARS) -> list[str]:
    """`text` in parts of at most `limit` characters, cut at sentence ends when possible.

    Prefers the last sentence end (or line break) inside the limit, then the last space,
    and cuts a single over-long word only when there is nothing else. No part is empty.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = _last_match_end(_SENTENCE_END, window, limit)
        if cut is None:
            cut = _last_match_end(_SPACE, window, limit)
        head = rest[: cut or limit].rstrip()
        parts.append(head)
        rest = rest[len(head) :].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _last_match_end(pattern: re.Pattern[str], window: str, limit: int) -> int | None:
    """Where the kept text ends at the last match starting inside the limit (None: no match)."""
    best = None
    for match in pattern.finditer(window):
        end = match.end(1) if pattern.groups and match.group(1) is not None else match.start()
        if 0 < end <= limit:
            best = end
    return best
