"""`RecordingChat`: a fake chat model that records every prompt it is sent.

Summary prompts (the summarizer node's) get `summary` (or fail when `fail_summaries`);
every other prompt gets the next of `replies` (`NO_ANSWER` when they run out).
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

SUMMARY_PROMPT_START = "Summarize this customer-support conversation"


class RecordingChat(BaseChatModel):
    """A fake chat model that records every prompt; summaries and replies are scripted."""

    replies: list[str] = Field(default_factory=list)
    summary: str = ""
    fail_summaries: bool = False
    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "recording"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.prompts.append(list(messages))
        if self.is_summary(messages):
            if self.fail_summaries:
                raise ConnectionError("summarizer provider down")
            text = self.summary
        else:
            text = self.replies.pop(0) if self.replies else "NO_ANSWER"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])

    @staticmethod
    def is_summary(messages: list[BaseMessage]) -> bool:
        return bool(messages) and messages[0].text.startswith(SUMMARY_PROMPT_START)

    def responder_prompts(self) -> list[str]:
        """Every non-summary prompt, as one text each."""
        return [
            "\n".join(m.text for m in prompt)
            for prompt in self.prompts
            if not self.is_summary(prompt)
        ]
