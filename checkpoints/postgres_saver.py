"""`InlinePostgresSaver`: LangGraph's `AsyncPostgresSaver`, (de)serialising on the event loop.

The stock saver hands every msgpack dump and load of a checkpoint to a worker thread. A
turn's checkpoint is small (the messages channel stores deltas), so the thread hop costs
more than the work and makes the event loop wait for the GIL; this saver does it in place.
The SQL and the stored format are the stock saver's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_serializable_checkpoint_metadata,
)
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb


class InlinePostgresSaver(AsyncPostgresSaver):
    """`AsyncPostgresSaver` without thread hops (same tables, same SQL)."""

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        configurable = config["configurable"]
        thread_id, checkpoint_ns = configurable["thread_id"], configurable["checkpoint_ns"]
        copy = checkpoint.copy()
        copy["channel_values"] = copy["channel_values"].copy()
        blob_values = {}  # primitive values stay inline in the checkpoint row
        for key, value in checkpoint["channel_values"].items():
            if isinstance(value, _DeltaSnapshot):
                blob_values[key] = copy["channel_values"].pop(key)
                copy["channel_values"][key] = True
            elif not (value is None or isinstance(value, str | int | float | bool)):
                blob_values[key] = copy["channel_values"].pop(key)
        blob_versions = {k: v for k, v in new_versions.items() if k in blob_values}
        async with self._cursor(pipeline=True) as cur:
            if blob_versions:
                await cur.executemany(
                    self.UPSERT_CHECKPOINT_BLOBS_SQL,
                    self._dump_blobs(thread_id, checkpoint_ns, blob_values, blob_versions),
                )
            await cur.execute(
                self.UPSERT_CHECKPOINTS_SQL,
                (
                    thread_id,
                    checkpoint_ns,
                    checkpoint["id"],
                    configurable.get("checkpoint_id"),
                    Jsonb(copy),
                    Jsonb(get_serializable_checkpoint_metadata(config, metadata)),
                ),
            )
        return {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": checkpoint_ns,
                "checkpoint_id": checkpoint["id"],
            }
        }

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        query = (
            self.UPSERT_CHECKPOINT_WRITES_SQL
            if all(w[0] in WRITES_IDX_MAP for w in writes)
            else self.INSERT_CHECKPOINT_WRITES_SQL
        )
        configurable = config["configurable"]
        params = self._dump_writes(
            configurable["thread_id"],
            configurable["checkpoint_ns"],
            configurable["checkpoint_id"],
            task_id,
            task_path,
            writes,
        )
        async with self._cursor(pipeline=True) as cur:
            await cur.executemany(query, params)

    async def _load_checkpoint_tuple(self, value: DictRow) -> CheckpointTuple:
        def config(checkpoint_id: str) -> RunnableConfig:
            return {
                "configurable": {
                    "thread_id": value["thread_id"],
                    "checkpoint_ns": value["checkpoint_ns"],
                    "checkpoint_id": checkpoint_id,
                }
            }

        parent = value["parent_checkpoint_id"]
        stored = value["checkpoint"]
        channel_values = {
            **(stored.get("channel_values") or {}),
            **self._load_blobs(value["channel_values"]),
        }
        checkpoint = cast(Checkpoint, {**stored, "channel_values": channel_values})
        return CheckpointTuple(
            config(value["checkpoint_id"]),
            checkpoint,
            value["metadata"],
            config(parent) if parent else None,
            self._load_writes(value["pending_writes"]),
        )
