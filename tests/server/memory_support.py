"""Helpers of the memory tests: the admin app with the memory routers, and a customer turn
run the way the server runs one once it passes the customer key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig

from checkpoints.memory import customer_key
from server.services import Services
from server.tenant_context import tenant_context
from server.turns import new_bot_messages


@dataclass(frozen=True)
class Turn:
    conversation_id: str
    reply: str
    values: dict[str, Any]


async def customer_turn(
    services: Services, tenant_id: str, channel: str, address: str, text: str
) -> Turn:
    """One turn as the server runs it once wired: the customer key in the input, one
    checkpoint per turn (`durability="exit"`), inbound and outbound recorded."""
    tenant = await services.store.get_tenant(tenant_id)
    assert tenant is not None
    conversation = await services.store.open_conversation(tenant_id, channel, address)
    await services.store.add_message(
        tenant_id, conversation.id, direction="inbound", author="customer", body=text
    )
    config: RunnableConfig = {"configurable": {"thread_id": conversation.id}}
    values = await services.graph.ainvoke(
        {"messages": [HumanMessage(text)], "customer": customer_key(channel, address)},
        config=config,
        context=tenant_context(tenant),
        durability="exit",
    )
    reply = "\n\n".join(m.text for m in new_bot_messages(values["messages"]) if m.text)
    await services.store.add_message(
        tenant_id,
        conversation.id,
        direction="outbound",
        author="bot",
        body=reply,
        status="recorded",
    )
    return Turn(conversation.id, reply, values)
