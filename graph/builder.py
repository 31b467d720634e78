"""`build_graph()`: sentiment -> handoff router -> retriever -> responder -> summarizer.

The module-level `graph` is compiled WITHOUT a checkpointer, for `langgraph.json`:
the server and `langgraph dev` each bring their own persistence.
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from graph.context import TenantContext
from graph.state import ConversationState
from nodes import handoff
from nodes.handoff import hand_over, handoff_router
from nodes.responder import responder
from nodes.retriever import retriever
from nodes.sentiment import sentiment
from nodes.summarizer import summarizer


# The routers as coroutines: LangGraph runs a plain-function router on a worker thread.
async def route_after_router(state: ConversationState) -> Literal["hand_over", "retriever"]:
    """`nodes.handoff.route_after_router`, on the event loop."""
    return handoff.route_after_router(state)


async def route_after_responder(
    state: ConversationState, runtime: Runtime[TenantContext]
) -> Literal["hand_over", "summarizer"]:
    """`nodes.handoff.route_after_responder`, on the event loop."""
    return handoff.route_after_responder(state, runtime)


def build_graph() -> StateGraph[ConversationState, TenantContext]:
    """The support state machine, not yet compiled."""
    builder = StateGraph(ConversationState, context_schema=TenantContext)
    builder.add_node("sentiment", sentiment)
    builder.add_node("handoff_router", handoff_router)
    builder.add_node("retriever", retriever)
    builder.add_node("responder", responder)
    builder.add_node("hand_over", hand_over)
    builder.add_node("summarizer", summarizer)
    builder.add_edge(START, "sentiment")
    builder.add_edge("sentiment", "handoff_router")
    builder.add_conditional_edges("handoff_router", route_after_router)
    builder.add_edge("retriever", "responder")
    builder.add_conditional_edges("responder", route_after_responder)
    builder.add_edge("hand_over", "summarizer")
    builder.add_edge("summarizer", END)
    return builder


graph = build_graph().compile(name="atiende")
