from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from nodes.window import MODEL_WINDOW, model_window


def conversation(turns: int) -> list:  # type: ignore[type-arg]
    messages: list = []  # type: ignore[type-arg]
    for n in range(turns):
        messages += [HumanMessage(f"q{n}"), AIMessage(f"a{n}")]
    return messages


def test_the_model_sees_the_last_ten_messages() -> None:
    messages = conversation(30)
    window = model_window(messages)
    assert len(window) == MODEL_WINDOW == 10
    assert window == messages[-10:]
    assert model_window(conversation(2)) == conversation(2)


def test_no_orphan_tool_messages() -> None:
    call = AIMessage("", tool_calls=[{"name": "track", "args": {"id": "4411"}, "id": "c1"}])
    messages = [
        *conversation(4),
        HumanMessage("¿y mi pedido?"),
        call,
        ToolMessage("en camino", tool_call_id="c1"),
        ToolMessage("llega mañana", tool_call_id="c1"),
        AIMessage("Llega mañana."),
        HumanMessage("gracias"),
        AIMessage("¡De nada!"),
    ]
    window = model_window(messages, limit=6)
    # The last 6 would start at a tool message whose call is cut off: start at the next human.
    assert window == messages[-2:]
    window = model_window(messages, limit=8)
    assert window[0] == HumanMessage("¿y mi pedido?") and window[1] is call


def test_the_current_turn_is_never_cut() -> None:
    long_turn = [HumanMessage("¿y mi pedido?"), *[AIMessage(f"parte {n}") for n in range(12)]]
    assert model_window([*conversation(3), *long_turn]) == long_turn


def test_a_system_message_is_kept() -> None:
    messages = [SystemMessage("sé breve"), *conversation(10)]
    window = model_window(messages)
    assert window[0] == messages[0] and len(window) == 9 and window[1].type == "human"
