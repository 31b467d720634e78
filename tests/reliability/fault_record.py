"""Counting one fault's outcome from what the business sees (the admin API's conversations
and handoff queue) and what the customers got (the fake Twilio's messages).

Per inbound message the suite sent (one per customer, each text unique):
- handed over: the customer's conversation is in the handoff queue (pending or human,
  listed by GET /admin/tenants/{id}/handoffs), whatever the reason;
- else answered: the record has a bot reply after it (not a welcome, not a notice) that
  Twilio received for that customer;
- else lost.
Duplicated: a message Twilio received more than once for one customer (the same body:
the suite's conversations never call for the same text twice).
The fault's trace in the record: handoffs with reason `error`, sends marked failed, an
`error` noted on a message (kept after a send that went through in the end), the failure
notice or the responder's failure apology, a turn with more than one attempt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from fakes.server_process import ADMIN_KEY
from fakes.twilio_server import SentMessage

from server.channels.notices import NOTICES
from tools.llm.replies import TEXTS

NOTICE_KINDS = {text: kind for texts in NOTICES.values() for kind, text in texts.items()}
APOLOGIES = {texts["failure"] for texts in TEXTS.values()}
TRACES = (
    "handoff error",
    "failed send",
    "error noted",
    "failure notice",
    "apology",
    "turn retried",
)


@dataclass(frozen=True)
class Inbound:
    """One customer message the suite posted (and whether the webhook accepted it)."""

    customer: str
    """`+52...`: the address without the `whatsapp:` prefix."""
    body: str
    accepted: bool


@dataclass
class FaultRow:
    """One line of the fault suite's table."""

    fault: str
    sent: int = 0
    answered: int = 0
    handed_over: int = 0
    duplicated: int = 0
    lost: int = 0
    visible: dict[str, int] = field(default_factory=dict)
    """Conversations whose record shows each trace of the fault (see TRACES)."""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            "crashed" not in self.details
            and self.sent > 0
            and self.lost == 0
            and self.duplicated == 0
            and self.answered + self.handed_over == self.sent
        )

    def visible_text(self) -> str:
        if "crashed" in self.details:
            return f"(not played: {self.details['crashed'][:70]})"
        shown = [f"{name} {count}" for name, count in self.visible.items() if count]
        return ", ".join(shown) or "nothing"


def bare(address: str) -> str:
    return address.removeprefix("whatsapp:")


class AdminRecord:
    """Read a tenant's conversations and handoff queue through the admin API."""

    def __init__(self, server_url: str, tenant_id: str = "demo") -> None:
        self.base = f"{server_url}/admin/tenants/{tenant_id}"
        self.headers = {"Authorization": f"Bearer {ADMIN_KEY}"}

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(self.base + path, params=params, headers=self.headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def conversations(self) -> list[dict[str, Any]]:
        """Every conversation with its messages (`messages`) and handoffs (`handoffs`)."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.get("/conversations", limit=200, offset=len(found))["conversations"]
            found += page
            if len(page) < 200:
                break
        detailed = []
        for conversation in found:
            detail = self.get(f"/conversations/{conversation['id']}")
            detail["handoffs"] = self.get(f"/conversations/{conversation['id']}/handoff")[
                "handoffs"
            ]
            detailed.append(detail)
        return detailed

    def queue(self) -> set[str]:
        """Ids of the conversations listed in the handoff queue."""
        return {h["conversation_id"] for h in self.get("/handoffs", limit=500)["handoffs"]}


def message_kind(message: dict[str, Any], welcome: str) -> str:
    """`reply`, `welcome` or a notice kind (the API's `kind` when it has one)."""
    if message.get("kind"):
        return str(message["kind"])
    if message["body"] == welcome:
        return "welcome"
    return NOTICE_KINDS.get(message["body"], "reply")


def count_fault(
    fault: str,
    sent: Iterable[Inbound],
    conversations: list[dict[str, Any]],
    queue: set[str],
    delivered: list[SentMessage],
    welcome: str,
) -> FaultRow:
    """The table row of one fault (see the module's docstring)."""
    row = FaultRow(fault)
    got: dict[str, Counter[str]] = {}
    for message in delivered:
        got.setdefault(bare(message.to), Counter())[message.body] += 1
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for conversation in conversations:
        by_customer.setdefault(bare(conversation["customer"]), []).append(conversation)
    refused = unrecorded = beyond_record = 0
    for inbound in sent:
        if not inbound.accepted:
            refused += 1
            continue
        row.sent += 1
        theirs = by_customer.get(inbound.customer, [])
        messages = [m for c in theirs for m in c["messages"]]
        asked = [m for m in messages if m["direction"] == "inbound" and m["body"] == inbound.body]
        if not asked:
            unrecorded += 1
        if any(c["id"] in queue for c in theirs):
            row.handed_over += 1
            continue
        since = min((_at(m) for m in asked), default=None)
        replies = [
            m
            for m in messages
            if m["direction"] == "outbound"
            and m["author"] == "bot"
            and message_kind(m, welcome) == "reply"
            and (since is None or _at(m) >= since)
        ]
        received = got.get(inbound.customer, Counter())
        if any(received[m["body"]] for m in replies):
            row.answered += 1
        else:
            row.lost += 1
    for customer, bodies in got.items():
        row.duplicated += sum(count - 1 for count in bodies.values() if count > 1)
        recorded = Counter(
            m["body"]
            for c in by_customer.get(customer, [])
            for m in c["messages"]
            if m["direction"] == "outbound" and m["status"] != "failed"
        )
        beyond_record += sum((bodies - recorded).values())  # received, recorded as not sent
    row.visible = traces(conversations, welcome)
    row.details = {
        "refused_webhooks": refused,
        "inbound_not_in_record": unrecorded,
        "received_not_recorded_as_sent": beyond_record,
        "handoff_reasons": dict(
            Counter(r for c in conversations for h in c["handoffs"] for r in h["reasons"])
        ),
        "outbound_statuses": dict(
            Counter(
                m["status"]
                for c in conversations
                for m in c["messages"]
                if m["direction"] == "outbound"
            )
        ),
        "errors": sorted(
            {str(m["error"]) for c in conversations for m in c["messages"] if m.get("error")}
        )[:5],
    }
    return row


def traces(conversations: list[dict[str, Any]], welcome: str) -> dict[str, int]:
    """How many conversations show each trace of a fault (TRACES)."""
    shown: Counter[str] = Counter()
    for conversation in conversations:
        found: set[str] = set()
        reasons = set(conversation.get("handoff_reasons") or [])
        reasons.update(r for h in conversation["handoffs"] for r in h["reasons"])
        if "error" in reasons:
            found.add("handoff error")
        if any(turn["attempts"] > 1 for turn in conversation.get("turns", [])):
            found.add("turn retried")
        for message in conversation["messages"]:
            if message["direction"] != "outbound":
                continue
            if message["status"] == "failed":
                found.add("failed send")
            if message.get("error"):
                found.add("error noted")
            if message_kind(message, welcome) == "failure_notice":
                found.add("failure notice")
            if message["body"] in APOLOGIES:
                found.add("apology")
        shown.update(found)
    return {name: shown[name] for name in TRACES}


def _at(message: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(message["created_at"])
