"""A turn's reply as soon as the graph has it, before the summary.

The responder (or, on a handoff, `hand_over`) speaks to the customer; the summarizer runs
after it. `run_turn` streams the run and hands the speaking node's update to the caller the
moment that node is done, so the reply can go out while the summary is still to come.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

REPLY_NODES = ("responder", "hand_over")
"""The nodes that speak to the customer (the responder stays silent when it hands over)."""

OnReply = Callable[[dict[str, Any]], Awaitable[None]]


def reply_update(chunk: dict[str, Any]) -> dict[str, Any] | None:
    """The update of a node that has just answered the customer, from one step's updates."""
    for node in REPLY_NODES:
        update = chunk.get(node)
        if isinstance(update, dict) and update.get("messages"):
            return update
    return None


async def run_turn(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    turn_input: dict[str, Any],
    *,
    config: RunnableConfig,
    context: Any,
    on_reply: OnReply | None = None,
) -> dict[str, Any]:
    """Run one turn (one checkpoint, written at the end); the state values at the end.

    `on_reply(update)` is awaited as soon as a node has answered the customer: the rest of
    the graph (the summarizer) waits for it.
    """
    values: dict[str, Any] = {}
    async for mode, chunk in graph.astream(
        turn_input,
        config=config,
        context=context,
        durability="exit",
        stream_mode=["updates", "values"],
    ):
        assert isinstance(chunk, dict)
        if mode == "values":
            values = chunk
        elif on_reply is not None and (update := reply_update(chunk)) is not None:
            await on_reply(update)
    return values
