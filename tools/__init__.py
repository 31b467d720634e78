"""Adapters to the outside world that nodes call (LLM, embeddings, knowledge, sentiment)."""
