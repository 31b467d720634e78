"""Customers' long-term memory in the LangGraph store, on SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checkpoints.memory import (
    ConversationSummary,
    CustomerMemory,
    customer_key,
    memory_namespace,
)
from checkpoints.persistence import Persistence

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
ANA = customer_key("whatsapp", "+5215512345678")


@pytest.fixture
def memory(persistence: Persistence) -> CustomerMemory:
    return CustomerMemory(persistence.store)


async def test_facts_newest_wins_whatever_the_write_order(memory: CustomerMemory) -> None:
    await memory.remember_facts(
        "acme",
        ANA,
        conversation_id="c2",
        observed_at=T0 + timedelta(days=1),
        facts={"name": "Ana María", "contact_time": "por la tarde"},
    )
    # An older conversation remembered late (a retried job) does not overwrite newer facts.
    await memory.remember_facts(
        "acme", ANA, conversation_id="c1", observed_at=T0, facts={"name": "Ana", "language": "es"}
    )
    profile = await memory.profile("acme", ANA)
    assert {k: f.value for k, f in profile.facts.items()} == {
        "name": "Ana María",
        "contact_time": "por la tarde",
        "language": "es",
    }
    assert profile.facts["name"].conversation_id == "c2"


async def test_orders_newest_first_and_recurring_issues(memory: CustomerMemory) -> None:
    await memory.remember_facts(
        "acme",
        ANA,
        conversation_id="c1",
        observed_at=T0,
        orders=[("order", "4411")],
        issues=["delivery", "refund"],
    )
    await memory.remember_facts(
        "acme",
        ANA,
        conversation_id="c2",
        observed_at=T0 + timedelta(hours=1),
        orders=[("booking", "R-77"), ("order", "5520")],
        issues=["delivery"],
    )
    # The same issue said twice in one conversation counts once.
    await memory.remember_facts(
        "acme", ANA, conversation_id="c2", observed_at=T0 + timedelta(hours=2), issues=["delivery"]
    )
    profile = await memory.profile("acme", ANA)
    assert [o.value for o in profile.orders][-1] == "4411"
    assert {o.value: o.kind for o in profile.orders} == {
        "4411": "order",
        "R-77": "booking",
        "5520": "order",
    }
    assert profile.issues == {"delivery": 2, "refund": 1}
    assert profile.recurring_issues == ["delivery"]


async def test_summaries_replace_per_conversation_newest_first(memory: CustomerMemory) -> None:
    await memory.put_summary("acme", ANA, ConversationSummary("c1", "running", T0))
    await memory.put_summary(
        "acme",
        ANA,
        ConversationSummary("c1", "final", T0 + timedelta(minutes=5), "es", 3, True, "idle"),
    )
    await memory.put_summary(
        "acme", ANA, ConversationSummary("c2", "second", T0 + timedelta(days=2))
    )
    found = await memory.summaries("acme", ANA)
    assert [(s.conversation_id, s.text) for s in found] == [("c2", "second"), ("c1", "final")]
    assert found[1].closed and found[1].close_reason == "idle" and found[1].turns == 3


async def test_tenants_and_customers_share_nothing(memory: CustomerMemory) -> None:
    await memory.remember_facts(
        "acme", ANA, conversation_id="c1", observed_at=T0, facts={"name": "Ana"}
    )
    # Same phone at another tenant; a customer whose key extends Ana's; a key with periods.
    assert not await memory.profile("other", ANA)
    assert not await memory.profile("acme", ANA + "9")
    dotted = customer_key("cli", "ana.lopez")
    await memory.remember_facts(
        "acme", dotted, conversation_id="c9", observed_at=T0, facts={"name": "X"}
    )
    assert (await memory.profile("acme", ANA)).facts["name"].value == "Ana"
    assert await memory.customers("acme") == sorted([ANA, dotted])
    assert await memory.customers("other") == []


async def test_export_and_erase(memory: CustomerMemory, persistence: Persistence) -> None:
    await memory.remember_facts(
        "acme",
        ANA,
        conversation_id="c1",
        observed_at=T0,
        facts={"name": "Ana"},
        orders=[("order", "4411")],
        issues=["delivery"],
    )
    for n in range(120):  # more than a page of the store's search
        await memory.put_summary("acme", ANA, ConversationSummary(f"c{n}", f"s{n}", T0))
    await memory.remember_facts(
        "acme", "cli:bob", conversation_id="b1", observed_at=T0, facts={"name": "Bob"}
    )
    exported = await memory.export("acme", ANA)
    assert len(exported) == 123
    by_key = {item["key"]: item["value"] for item in exported}
    assert by_key["fact.name"]["value"] == "Ana" and by_key["order.4411"]["order_kind"] == "order"
    assert await memory.erase("acme", ANA) == 123
    assert await persistence.store.asearch(memory_namespace("acme", ANA), limit=10) == []
    assert await memory.export("acme", ANA) == []
    assert (await memory.profile("acme", "cli:bob")).facts["name"].value == "Bob"


def test_keys_and_namespaces_are_checked() -> None:
    with pytest.raises(ValueError):
        customer_key("", "+52")
    with pytest.raises(ValueError):
        memory_namespace("acme", "")
    assert memory_namespace("acme", "cli:a.b") == ("memory", "acme", "cli:a%2Eb")
