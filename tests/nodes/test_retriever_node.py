from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from graph.context import TenantContext
from graph.state import ConversationState
from nodes.retriever import retriever

pytestmark = pytest.mark.usefixtures("knowledge")


async def test_finds_the_passage_that_answers(runtime: Runtime[TenantContext]) -> None:
    update = await retriever(
        ConversationState(messages=[HumanMessage("¿cuánto cuesta el envío?")]), runtime
    )
    assert update["passages"][0]["document_id"] == "envios"
    assert update["nothing_relevant"] is False


async def test_flags_nothing_relevant(runtime: Runtime[TenantContext]) -> None:
    update = await retriever(
        ConversationState(messages=[HumanMessage("¿quién ganó el mundial de 1986?")]), runtime
    )
    assert update["nothing_relevant"] is True


async def test_only_the_tenants_knowledge(runtime: Runtime[TenantContext]) -> None:
    other = Runtime(context=TenantContext(tenant_id="other"))
    update = await retriever(
        ConversationState(messages=[HumanMessage("¿cuánto cuesta el envío?")]), other
    )
    assert update["passages"] == [] and update["nothing_relevant"] is True
