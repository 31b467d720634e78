"""The worker that runs queued turns.

It polls the inbox for conversations with work (and is nudged by the webhook), claims
one conversation at a time across every server process (`checkpoints.claims`), delivers
what its outbox holds that is due, waits for a burst to end (the tenant's quiet window, at
most `debounce_cap_seconds` after the burst's first message), runs one turn over the whole
burst, records the outbound messages, sends them, and marks the turn done. Messages that
arrive while a turn runs stay pending for the next turn. Whatever a killed process left
unfinished is resumed by the next claimant (on start, that is this process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from checkpoints.claims import Claim
from checkpoints.database import utc_now
from checkpoints.inbox import ConversationWork, Inbox, QueuedConversation
from checkpoints.records import ConversationRecord, MessageRecord, TenantRecord, TurnRecord
from server.channels.tenant_cache import TenantCache
from server.channels.twilio_account import twilio_account
from server.handoff_open import open_handoff
from server.outbox import deliver_in_order
from server.queued_turns import THROTTLE_WINDOW, TurnPlan, plan_turn, restore_thread
from server.services import Services

log = logging.getLogger(__name__)

MAX_DEBOUNCE_SECONDS = 15.0
FAILURE_BACKOFF_SECONDS = 1.0
STOP_GRACE_SECONDS = 10.0
MIN_POLL_FRACTION = 0.25


def quiet_window(tenant: TenantRecord, default: float) -> float:
    """The tenant's `debounce_seconds` setting (else `default`), within [0, 15] s."""
    value = tenant.settings.get("debounce_seconds", default)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = default
    return min(max(seconds, 0.0), MAX_DEBOUNCE_SECONDS)


def burst_due_at(first_at: datetime, last_at: datetime, quiet: float, cap: float) -> datetime:
    """When a burst is answered: after `quiet` s of silence, at most `cap` s after it began."""
    return min(last_at + timedelta(seconds=quiet), first_at + timedelta(seconds=max(cap, quiet)))


class Worker:
    """Runs queued turns until stopped; one per server process."""

    def __init__(self, services: Services):
        self.services = services
        self.settings = services.settings
        self._wake = asyncio.Event()
        self._active: dict[str, asyncio.Task[None]] = {}
        self._retry_at: dict[str, datetime] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._tenants = TenantCache(self.settings.webhook_tenant_cache_seconds)
        # what the last poll found, reused until the next poll is due or a message arrives
        self._backlog: list[QueuedConversation] = []
        self._backlog_until = 0.0

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="atiende-worker")

    def nudge(self, tenant: TenantRecord) -> None:
        """A message of `tenant` just arrived: look for work now when its quiet window is
        shorter than the poll interval (otherwise the next poll is soon enough)."""
        self._backlog_until = 0.0  # the next schedule looks at the inbox again
        quiet = quiet_window(tenant, self.settings.debounce_seconds)
        if quiet < self.settings.worker_poll_seconds:
            self._wake.set()

    async def stop(self) -> None:
        """Stop polling; give running turns a moment, then cancel them (they resume later)."""
        self._stopping = True
        if self._loop_task:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        running = list(self._active.values())
        if running:
            _, late = await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _run(self) -> None:
        poll = self.settings.worker_poll_seconds
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            began, wait = loop.time(), poll
            try:
                wait = await self.schedule()
            except Exception:
                log.exception("worker_poll_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.001, min(wait, poll)))
            # woken early (turns finishing, messages arriving): batch them, a few per poll
            await asyncio.sleep(max(0.0, began + poll * MIN_POLL_FRACTION - loop.time()))

    async def schedule(self) -> float:
        """Start a task for every due conversation; seconds until the next one is due."""
        next_in = self.settings.worker_poll_seconds
        if len(self._active) >= self.settings.worker_concurrency:
            return next_in  # busy: a finishing turn wakes the loop
        clock = asyncio.get_running_loop().time()
        if not self._backlog or clock >= self._backlog_until:
            self._backlog = await self.services.inbox.queued()
            self._backlog_until = clock + next_in
        now = utc_now()
        for item in list(self._backlog):
            if item.conversation_id in self._active:
                continue
            if len(self._active) >= self.settings.worker_concurrency:
                break
            retry_at = self._retry_at.get(item.conversation_id)
            if retry_at and retry_at > now:
                continue
            if not item.unfinished:
                tenant = await self._tenants.get(item.tenant_id, self.services.store.get_tenant)
                if tenant is None:
                    continue
                due = self._due_at(tenant, item)
                if due > now:
                    next_in = min(next_in, (due - now).total_seconds())
                    continue
            self._spawn(item)
        return next_in

    def _due_at(self, tenant: TenantRecord, item: QueuedConversation) -> datetime:
        """When the conversation next has something to do: its burst is over, or its
        oldest unsent message is due."""
        due = [item.outbox_due_at] if item.outbox_due_at is not None else []
        if item.first_at is not None and item.last_at is not None:
            quiet = quiet_window(tenant, self.settings.debounce_seconds)
            cap = self.settings.debounce_cap_seconds
            due.append(burst_due_at(item.first_at, item.last_at, quiet, cap))
        return min(due)

    def _spawn(self, item: QueuedConversation) -> None:
        task = asyncio.create_task(self._claim(item.tenant_id, item.conversation_id))
        self._active[item.conversation_id] = task
        with contextlib.suppress(ValueError):
            self._backlog.remove(item)

    async def _claim(self, tenant_id: str, conversation_id: str) -> None:
        try:
            since = utc_now() - THROTTLE_WINDOW
            reads = ConversationWork.reads(tenant_id, conversation_id, since)
            async with self.services.claims.hold(conversation_id, reads) as held:
                if held:
                    await self.work(tenant_id, conversation_id, held)
            if held:
                self._retry_at.pop(conversation_id, None)
            else:  # another process has it: look again after a poll interval
                self._retry_at[conversation_id] = utc_now() + timedelta(
                    seconds=self.settings.worker_poll_seconds
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "turn_failed", extra={"tenant_id": tenant_id, "conversation_id": conversation_id}
            )
            self._retry_at[conversation_id] = utc_now() + timedelta(seconds=FAILURE_BACKOFF_SECONDS)
        finally:
            self._active.pop(conversation_id, None)
            # what the backlog said about it is stale now
            self._backlog = [i for i in self._backlog if i.conversation_id != conversation_id]
            self._wake.set()

    async def work(self, tenant_id: str, conversation_id: str, claim: Claim) -> None:
        """With the conversation claimed: deliver its due unsent messages, then finish its
        unfinished turn or run a due burst (the turn's bookkeeping goes through the claim's
        connection when it has one)."""
        inbox = Inbox(claim.db) if claim.db else self.services.inbox
        tenant = await self._tenants.get(tenant_id, self.services.store.get_tenant)
        if tenant is None:
            return
        if claim.rows:
            found = ConversationWork.from_rows(claim.rows)
        else:
            found = await inbox.work(tenant_id, conversation_id, utc_now() - THROTTLE_WINDOW)
        conversation, turn = found.conversation, found.unfinished
        if conversation is None:
            return
        delivered = await deliver_in_order(self.services, inbox, tenant, conversation, found.unsent)
        if turn is not None and turn.status == "replied":  # its messages were in the outbox
            await restore_thread(self.services, conversation, await inbox.turn_messages(turn.id))
            await inbox.finish_turn(turn.id)
            return
        inbound: list[MessageRecord] | None = None
        if turn is not None:
            turn = await inbox.retry_turn(turn)
            log.info("turn_resumed", extra=_ids(turn))
            inbound = [m for m in await inbox.turn_messages(turn.id) if m.direction == "inbound"]
        else:
            pending = found.pending
            if not pending or not self._burst_over(tenant, pending):
                return
            turn = await inbox.start_turn(tenant_id, conversation_id, [m.id for m in pending])
            inbound = pending  # all still pending: this process holds the conversation
        await self._complete(inbox, tenant, conversation, turn, inbound, found, delivered)

    def _burst_over(self, tenant: TenantRecord, pending: list[MessageRecord]) -> bool:
        first, last = pending[0].created_at, max(m.created_at for m in pending)
        item = QueuedConversation(tenant.id, pending[0].conversation_id, first, last, False)
        return self._due_at(tenant, item) <= utc_now()

    async def _complete(
        self,
        inbox: Inbox,
        tenant: TenantRecord,
        conversation: ConversationRecord,
        turn: TurnRecord,
        inbound: list[MessageRecord],
        found: ConversationWork,
        outbox_clear: bool,
    ) -> None:
        """Run the turn, send what it says as soon as it is known (after the outbox, when
        earlier messages wait there: then the new ones wait behind them), then, once the
        summary is written too, mark the turn done and open its handoff."""
        if not twilio_account(tenant, self.settings).can_send:
            status = "recorded"
        else:  # "submitting" at once: were the process killed before the send finished,
            # the next attempt asks Twilio whether it went out before sending it again
            status = "submitting" if outbox_clear else "pending"

        async def send(plan: TurnPlan) -> None:
            outbound = await inbox.record_outbound(
                turn, plan.drafts, status=status, handoff_reasons=plan.handoff_reasons
            )
            unsent = [m for m in outbound if m.status == "submitting"]
            await deliver_in_order(self.services, inbox, tenant, conversation, unsent, fresh=True)

        plan = await plan_turn(
            self.services,
            tenant,
            conversation,
            turn,
            inbound,
            utc_now(),
            found.recent_inbound,
            send,
        )
        await inbox.finish_turn(turn.id)
        if plan.handoff_reasons:
            await open_handoff(self.services, tenant, conversation.id, plan.handoff_reasons)
        log.info("turn_done", extra=_ids(turn))


@asynccontextmanager
async def run_worker(services: Services) -> AsyncIterator[Worker]:
    """Start the process's worker; stop it on exit."""
    worker = Worker(services)
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


def _ids(turn: TurnRecord) -> dict[str, str]:
    return {"tenant_id": turn.tenant_id, "conversation_id": turn.conversation_id}
