"""Answer generation: the LiteLLM router as a LangChain chat model, and the offline extractive mode."""

from tools.llm.router import LiteLLMRouterChat, get_chat_model, llm_enabled

__all__ = ["LiteLLMRouterChat", "get_chat_model", "llm_enabled"]
