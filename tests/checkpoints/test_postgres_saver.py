"""`InlinePostgresSaver` keeps the stock `AsyncPostgresSaver`'s stored format: a thread
written by either one reads back the same through the other, delta snapshots included."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import psycopg
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import _messages_delta_reducer
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from checkpoints.postgres_saver import InlinePostgresSaver

SNAPSHOT_EVERY = 4


@dataclass
class ChatState:
    """`ConversationState`'s channel kinds: delta messages, plain values, a list of records."""

    messages: Annotated[
        list[AnyMessage], DeltaChannel(_messages_delta_reducer, snapshot_frequency=SNAPSHOT_EVERY)
    ] = field(default_factory=list)
    sentiment_score: float = 0.0
    sources: list[dict[str, Any]] = field(default_factory=list)


async def reply(state: ChatState) -> dict[str, Any]:
    said = state.messages[-1].content
    return {
        "messages": [AIMessage(content=f"re: {said}")],
        "sentiment_score": len(state.messages),
        "sources": [{"document_id": "faq", "score": 0.5}],
    }


def compiled(saver: AsyncPostgresSaver) -> Any:
    builder = StateGraph(ChatState)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder.compile(checkpointer=saver)


async def test_threads_read_the_same_through_either_saver(fresh_postgres_url: str) -> None:
    config: RunnableConfig = {"configurable": {"thread_id": "t1"}}
    kwargs = {
        "autocommit": True,
        "prepare_threshold": 0,
        "row_factory": dict_row,
    }
    pool: AsyncConnectionPool[psycopg.AsyncConnection[DictRow]] = AsyncConnectionPool(
        fresh_postgres_url, kwargs=kwargs, open=False
    )
    async with pool:
        inline, stock = InlinePostgresSaver(conn=pool), AsyncPostgresSaver(conn=pool)
        await stock.setup()
        by_inline, by_stock = compiled(inline), compiled(stock)

        turns = 3 * SNAPSHOT_EVERY + 1  # crosses a snapshot of the messages channel
        for n in range(turns):
            writer = by_inline if n % 2 == 0 else by_stock
            await writer.ainvoke({"messages": [HumanMessage(content=f"hola {n} 😀")]}, config)

        read_inline = await by_inline.aget_state(config)
        read_stock = await by_stock.aget_state(config)
        assert read_inline.values == read_stock.values
        messages = read_inline.values["messages"]
        assert [m.content for m in messages[-2:]] == [
            f"hola {turns - 1} 😀",
            f"re: hola {turns - 1} 😀",
        ]
        assert len(messages) == 2 * turns
        assert read_inline.values["sentiment_score"] == 2 * turns - 1
        history_inline = [s.config for s in [s async for s in by_inline.aget_state_history(config)]]
        history_stock = [s.config for s in [s async for s in by_stock.aget_state_history(config)]]
        assert history_inline == history_stock
