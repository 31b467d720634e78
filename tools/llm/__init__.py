"""Answer generation: the LiteLLM router as a LangChain chat model, and the offline extractive mode.

Importing this package does not import litellm (see `tools.llm.router`). Nodes call
`tools.llm.get_chat_model(...)` through the package, the one seam tests replace.
"""

from tools.llm.config import llm_enabled
from tools.llm.router import LiteLLMRouterChat, close_llm_clients, get_chat_model, warm_up_llm

__all__ = ["LiteLLMRouterChat", "close_llm_clients", "get_chat_model", "llm_enabled", "warm_up_llm"]
