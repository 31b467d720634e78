"""How the fault suite counts: handed over before answered, a reply counts only when Twilio
got it, a welcome or a notice is no answer, and a second copy at Twilio is a duplicate."""

from __future__ import annotations

from typing import Any

from fakes.twilio_server import SentMessage
from fault_record import Inbound, count_fault

from server.channels.notices import notice

WELCOME = "¡Hola! Bienvenido."
T0, T1 = "2026-01-01T10:00:00+00:00", "2026-01-01T10:00:05+00:00"


def message(direction: str, body: str, at: str = T1, status: str = "queued") -> dict[str, Any]:
    author = "customer" if direction == "inbound" else "bot"
    return {"direction": direction, "author": author, "body": body, "status": status,
            "created_at": at}  # fmt: skip


def conversation(cid: str, customer: str, *messages: dict[str, Any], reasons: tuple[str, ...] = ()
                 ) -> dict[str, Any]:  # fmt: skip
    handoffs = [{"reasons": list(reasons)}] if reasons else []
    return {"id": cid, "customer": customer, "handoff_reasons": list(reasons),
            "messages": list(messages), "handoffs": handoffs}  # fmt: skip


def twilio(to: str, body: str, n: int) -> SentMessage:
    return SentMessage(sid=f"SM{n}", to=f"whatsapp:{to}", from_="whatsapp:+1", body=body,
                       status_callback=None)  # fmt: skip


def test_each_message_is_answered_handed_over_or_lost_and_copies_are_duplicates() -> None:
    sent = [
        Inbound("+1", "q1", True),  # answered (welcome + reply at Twilio)
        Inbound("+2", "q2", True),  # handed over (in the queue), though its reply went out
        Inbound("+3", "q3", True),  # reply recorded, never reached Twilio: lost
        Inbound("+4", "q4", True),  # only the failure notice: lost
        Inbound("+5", "q5", True),  # the reply reached Twilio twice: answered, 1 duplicate
        Inbound("+6", "q6", False),  # refused by the webhook: not sent
    ]
    failure = notice("failure_notice", "es")
    conversations = [
        conversation("c1", "+1", message("inbound", "q1", T0), message("outbound", WELCOME),
                     message("outbound", "a1")),
        conversation("c2", "+2", message("inbound", "q2", T0), message("outbound", "a2"),
                     reasons=("error",)),
        conversation("c3", "+3", message("inbound", "q3", T0),
                     message("outbound", "a3", status="failed")),
        conversation("c4", "+4", message("inbound", "q4", T0), message("outbound", failure)),
        conversation("c5", "+5", message("inbound", "q5", T0), message("outbound", "a5")),
    ]  # fmt: skip
    delivered = [
        twilio("+1", WELCOME, 1), twilio("+1", "a1", 2), twilio("+2", "a2", 3),
        twilio("+4", failure, 4), twilio("+5", "a5", 5), twilio("+5", "a5", 6),
    ]  # fmt: skip

    row = count_fault("f", sent, conversations, {"c2"}, delivered, WELCOME)

    assert (row.sent, row.answered, row.handed_over, row.lost) == (5, 2, 1, 2)
    assert row.duplicated == 1
    assert not row.ok
    assert row.details["refused_webhooks"] == 1
    assert row.visible["handoff error"] == 1
    assert row.visible["failed send"] == 1
    assert row.visible["failure notice"] == 1


def test_a_reply_recorded_before_the_message_does_not_answer_it() -> None:
    conversations = [
        conversation("c1", "+1", message("outbound", "old", T0), message("inbound", "q1", T1))
    ]
    row = count_fault(
        "f", [Inbound("+1", "q1", True)], conversations, set(), [twilio("+1", "old", 1)], WELCOME
    )
    assert (row.answered, row.lost) == (0, 1)


def test_the_api_kind_wins_over_the_text() -> None:
    reply = {**message("outbound", "Perdón, un problema"), "kind": "failure_notice"}
    conversations = [conversation("c1", "+1", message("inbound", "q1", T0), reply)]
    row = count_fault(
        "f", [Inbound("+1", "q1", True)], conversations, set(),
        [twilio("+1", "Perdón, un problema", 1)], WELCOME,
    )  # fmt: skip
    assert (row.answered, row.lost) == (0, 1)
    assert row.visible["failure notice"] == 1
