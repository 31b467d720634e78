"""Long-term memory of a customer, in the LangGraph store, per (tenant, customer).

Namespace `("memory", tenant_id, customer)`, where `customer` is the customer key
`channel:address` (periods escaped: the store forbids them in namespace labels). Items:

- `fact.name`, `fact.language`, `fact.contact_time`: one value each; a write only replaces
  a value observed no later than itself (newest value wins, whoever writes last).
- `order.<number>`: an order or booking number the customer gave (a set, no overwrites).
- `issue.<kind>.<conversation id>`: the customer raised this kind of issue in that
  conversation; a kind seen in two or more conversations is a recurring issue.
- `summary.<conversation id>`: the summary of one conversation (refreshed while it runs,
  final when it is closed).

Every value carries `kind` (`fact`, `order`, `issue`, `summary`) and `observed_at` (ISO 8601).
The same phone at two tenants is two namespaces: nothing is shared across tenants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

from langgraph.store.base import BaseStore, GetOp, Item, PutOp, SearchItem, SearchOp

MEMORY_ROOT = "memory"
FACT_NAMES = ("name", "language", "contact_time")
RECURRING_AFTER = 2
PAGE = 100
ItemKind = Literal["fact", "order", "issue", "summary"]


def customer_key(channel: str, address: str) -> str:
    """The customer key of (channel, address): `whatsapp:+5215512345678`, `cli:ana`."""
    if not channel or not address:
        raise ValueError("a customer needs a channel and an address")
    return f"{channel}:{address}"


def _label(value: str) -> str:
    """A namespace label for any string (escapes `%`, `.` and NUL reversibly)."""
    return value.replace("%", "%25").replace(".", "%2E").replace("\x00", "%00")


def _unlabel(label: str) -> str:
    return label.replace("%00", "\x00").replace("%2E", ".").replace("%25", "%")


def memory_namespace(tenant_id: str, customer: str) -> tuple[str, str, str]:
    """Where the memory of `customer` at `tenant_id` lives."""
    if not tenant_id or not customer:
        raise ValueError("memory needs a tenant and a customer")
    return (MEMORY_ROOT, _label(tenant_id), _label(customer))


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(str(value)) if value else datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Fact:
    """One remembered value and when the customer said it."""

    value: str
    observed_at: datetime
    conversation_id: str


@dataclass(frozen=True, slots=True)
class OrderFact:
    """An order (`order`) or booking (`booking`) number the customer gave."""

    kind: str
    value: str
    observed_at: datetime
    conversation_id: str


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """The summary of one of the customer's conversations."""

    conversation_id: str
    text: str
    observed_at: datetime
    language: str = ""
    turns: int = 0
    closed: bool = False
    close_reason: str = ""


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    """The customer's facts, orders (newest first) and issue counts (per conversation)."""

    facts: dict[str, Fact] = field(default_factory=dict)
    orders: list[OrderFact] = field(default_factory=list)
    issues: dict[str, int] = field(default_factory=dict)

    @property
    def recurring_issues(self) -> list[str]:
        """Issue kinds raised in at least two conversations, most frequent first."""
        often = [k for k, n in self.issues.items() if n >= RECURRING_AFTER]
        return sorted(often, key=lambda k: (-self.issues[k], k))

    def __bool__(self) -> bool:
        return bool(self.facts or self.orders or self.issues)


class CustomerMemory:
    """Reads and writes customers' long-term memory in a LangGraph `BaseStore`."""

    def __init__(self, store: BaseStore) -> None:
        self.store = store

    async def remember_facts(
        self,
        tenant_id: str,
        customer: str,
        *,
        conversation_id: str,
        observed_at: datetime,
        facts: Mapping[str, str] | None = None,
        orders: Iterable[tuple[str, str]] = (),
        issues: Iterable[str] = (),
    ) -> None:
        """Record what the customer said in a conversation, as of `observed_at`.

        `facts` maps names of `FACT_NAMES` to values (empty values are ignored); `orders`
        are (kind, number) pairs; `issues` are issue kinds. A stored fact or order observed
        later than `observed_at` is kept: an old conversation replayed late changes nothing.
        """
        namespace = memory_namespace(tenant_id, customer)
        wanted: dict[str, dict[str, Any]] = {}
        when = _iso(observed_at)
        observed_at = _when(when)
        for name, value in (facts or {}).items():
            if name not in FACT_NAMES:
                raise ValueError(f"unknown fact {name!r}; known: {', '.join(FACT_NAMES)}")
            if value:
                wanted[f"fact.{name}"] = {"kind": "fact", "name": name, "value": value}
        for kind, number in orders:
            wanted[f"order.{number}"] = {"kind": "order", "order_kind": kind, "value": number}
        for issue in issues:
            wanted[f"issue.{issue}.{conversation_id}"] = {"kind": "issue", "issue": issue}
        if not wanted:
            return
        keys = list(wanted)
        current = await self.store.abatch(
            [GetOp(namespace, key, refresh_ttl=False) for key in keys]  # memory has no TTL
        )
        puts: list[PutOp] = []
        for key, existing in zip(keys, current, strict=True):
            if (
                isinstance(existing, Item)
                and _when(existing.value.get("observed_at")) > observed_at
            ):
                continue
            fields = {**wanted[key], "observed_at": when, "conversation_id": conversation_id}
            puts.append(PutOp(namespace, key, fields, index=False))
        if puts:
            await self.store.abatch(puts)

    async def put_summary(
        self, tenant_id: str, customer: str, summary: ConversationSummary
    ) -> None:
        """Store (or replace) the summary of one conversation."""
        value = {
            **asdict(summary),
            "kind": "summary",
            "observed_at": _iso(summary.observed_at),
        }
        await self.store.aput(
            memory_namespace(tenant_id, customer),
            f"summary.{summary.conversation_id}",
            value,
            index=False,
        )

    async def items(
        self, tenant_id: str, customer: str, kind: ItemKind | None = None
    ) -> list[Item]:
        """Every stored item of the customer (of one kind), oldest key first."""
        namespace = memory_namespace(tenant_id, customer)
        found: list[Item] = []
        offset = 0
        while True:
            # abatch, not asearch: the store's batching task would queue this behind the
            # other turns' store calls, one batch at a time; no TTL to refresh
            kinds = {"kind": kind} if kind else None
            search = SearchOp(namespace, kinds, PAGE, offset, refresh_ttl=False)
            [result] = await self.store.abatch([search])
            page = cast(list[SearchItem], result)
            offset += len(page)
            found.extend(item for item in page if tuple(item.namespace) == namespace)
            if len(page) < PAGE:
                return sorted(found, key=lambda item: item.key)

    async def profile(self, tenant_id: str, customer: str) -> CustomerProfile:
        """The customer's facts, orders and issue counts."""
        return _profile(await self.items(tenant_id, customer))

    async def summaries(self, tenant_id: str, customer: str) -> list[ConversationSummary]:
        """The customer's conversation summaries, newest first."""
        return _summaries(await self.items(tenant_id, customer, "summary"))

    async def recollection(
        self, tenant_id: str, customer: str
    ) -> tuple[CustomerProfile, list[ConversationSummary]]:
        """`profile()` and `summaries()` from one read of the customer's items."""
        items = await self.items(tenant_id, customer)
        return _profile(items), _summaries(items)

    async def export(self, tenant_id: str, customer: str) -> list[dict[str, Any]]:
        """Every stored item, as JSON-ready dicts (key, value, created_at, updated_at)."""
        return [
            {
                "key": item.key,
                "value": item.value,
                "created_at": _iso(item.created_at),
                "updated_at": _iso(item.updated_at),
            }
            for item in await self.items(tenant_id, customer)
        ]

    async def erase(self, tenant_id: str, customer: str) -> int:
        """Delete everything remembered about the customer; how many items there were."""
        namespace = memory_namespace(tenant_id, customer)
        deleted = 0
        while items := await self.items(tenant_id, customer):
            await self.store.abatch([PutOp(namespace, item.key, None) for item in items])
            deleted += len(items)
        return deleted

    async def erase_tenant(self, tenant_id: str) -> int:
        """Delete everything remembered about every customer of the tenant; how many items."""
        return sum([await self.erase(tenant_id, c) for c in await self.customers(tenant_id)])

    async def customers(self, tenant_id: str) -> list[str]:
        """The customer keys that have memory at `tenant_id`."""
        found: list[str] = []
        offset = 0
        while True:
            page = await self.store.alist_namespaces(
                prefix=(MEMORY_ROOT, _label(tenant_id)), max_depth=3, limit=PAGE, offset=offset
            )
            offset += len(page)
            found.extend(_unlabel(namespace[2]) for namespace in page if len(namespace) == 3)
            if len(page) < PAGE:
                return sorted(set(found))


def _profile(items: list[Item]) -> CustomerProfile:
    profile = CustomerProfile()
    for item in items:
        value = item.value
        kind = value.get("kind")
        if kind == "fact":
            profile.facts[value["name"]] = Fact(
                value["value"], _when(value["observed_at"]), value["conversation_id"]
            )
        elif kind == "order":
            profile.orders.append(
                OrderFact(
                    value["order_kind"],
                    value["value"],
                    _when(value["observed_at"]),
                    value["conversation_id"],
                )
            )
        elif kind == "issue":
            profile.issues[value["issue"]] = profile.issues.get(value["issue"], 0) + 1
    profile.orders.sort(key=lambda order: order.observed_at, reverse=True)
    return profile


def _summaries(items: list[Item]) -> list[ConversationSummary]:
    """The summary items, newest first."""
    found = [
        ConversationSummary(
            conversation_id=item.value["conversation_id"],
            text=item.value["text"],
            observed_at=_when(item.value["observed_at"]),
            language=item.value.get("language", ""),
            turns=int(item.value.get("turns", 0)),
            closed=bool(item.value.get("closed", False)),
            close_reason=item.value.get("close_reason", ""),
        )
        for item in items
        if item.value.get("kind") == "summary"
    ]
    return sorted(found, key=lambda s: s.observed_at, reverse=True)
