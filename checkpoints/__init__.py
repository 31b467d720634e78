"""Persistence: the service tables, the LangGraph checkpointer and store, the data-folder lock.

Entry point: `checkpoints.persistence.open_persistence(settings)`.
"""
