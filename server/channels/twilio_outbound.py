"""Output adapter: send WhatsApp messages through Twilio's REST API with the twilio client.

The client's asynchronous flavour (one aiohttp session for every account) runs on the event
loop without blocking it: no thread per request. 429 and 5xx answers (and network errors,
timeouts) are retried with exponential backoff; other errors fail at once. A message is
never posted twice: after a failure that may have let it through (a timeout, a dropped
connection, a 5xx), it is looked up at Twilio before it is posted again.
`TWILIO_API_BASE_URL` points the client at another host.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from server.channels.twilio_account import TwilioAccount, whatsapp_address

log = logging.getLogger(__name__)
# The client logs every request (bodies included) at INFO: message bodies stay out of logs.
logging.getLogger("twilio.async_http_client").setLevel(logging.WARNING)

HTTP_TIMEOUT_SECONDS = 15.0
RECONCILE_WINDOW = timedelta(minutes=5)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SendResult:
    """What Twilio said: the message SID and status, or why it was not sent (or, when it was
    sent after trouble, what happened)."""

    sid: str | None
    status: str
    error: str | None = None
    final: bool = True
    """False: not sent, and it may succeed later (a later attempt looks it up first)."""

    @property
    def ok(self) -> bool:
        return self.sid is not None


IsOther = Callable[[str], Awaitable[bool]]
"""Whether a Twilio message SID belongs to another recorded message."""


def retryable(error: Exception) -> bool:
    """Rate limits, server errors, network failures and timeouts may succeed later."""
    if isinstance(error, TwilioRestException):
        return error.status == 429 or error.status >= 500
    return isinstance(error, aiohttp.ClientError | TimeoutError | TwilioException)


def outcome_unknown(error: Exception) -> bool:
    """Twilio may have accepted the message although the call failed: a timeout, a connection
    lost after the request went out, a 5xx. Not a 429 or a connection that never opened."""
    if isinstance(error, TwilioRestException):
        return error.status >= 500
    return not isinstance(error, aiohttp.ClientConnectorError)


class TwilioSender:
    """Sends through any number of Twilio accounts (one cached client each, one session)."""

    def __init__(
        self,
        attempts: int = 5,
        retry_base_seconds: float = 0.5,
        timeout_seconds: float = HTTP_TIMEOUT_SECONDS,
    ) -> None:
        self.attempts = max(1, attempts)
        self.retry_base_seconds = retry_base_seconds
        self.timeout_seconds = timeout_seconds
        self._clients: dict[tuple[str, str, str], Client] = {}
        self._http: AsyncTwilioHttpClient | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._clients.clear()

    def _client(self, account: TwilioAccount) -> Client:
        assert account.account_sid and account.auth_token
        key = (account.account_sid, account.auth_token, account.api_base_url)
        client = self._clients.get(key)
        if client is None:
            if self._http is None:  # created on the running loop, on first use
                self._http = AsyncTwilioHttpClient()
            client = Client(account.account_sid, account.auth_token, http_client=self._http)
            client.api.base_url = account.api_base_url
            self._clients[key] = client
        return client

    async def _call(self, request: Callable[[], Awaitable[T]]) -> T:
        async with asyncio.timeout(self.timeout_seconds):  # the async client sets none
            return await request()

    async def _create(
        self, account: TwilioAccount, to: str, body: str, callback: str | None
    ) -> SendResult:
        extra = {"status_callback": callback} if callback else {}
        message = await self._call(
            lambda: self._client(account).messages.create_async(
                to=whatsapp_address(to), from_=account.whatsapp_number, body=body, **extra
            )
        )
        return SendResult(str(message.sid), str(message.status or "queued"))

    async def send(
        self,
        account: TwilioAccount,
        to: str,
        body: str,
        status_callback: str | None = None,
        *,
        sent_since: datetime | None = None,
        is_other: IsOther | None = None,
    ) -> SendResult:
        """Send one message exactly once, retrying 429s, 5xx, network errors and timeouts
        with backoff. After a failure whose outcome is unknown, and before the first post
        when `sent_since` says an earlier attempt (from then on) may have sent it, the
        message is looked up at Twilio (`find_sent`) and posted only when it is not there.
        Out of attempts: a result that is not `final` (try again later)."""
        unsure = sent_since is not None
        since = sent_since or datetime.now(UTC)
        error = "an earlier attempt was cut short"
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self.retry_base_seconds * 2 ** (attempt - 2))
            try:
                if unsure:
                    earlier = await self.find_sent(account, to, body, since, is_other)
                    if earlier is not None:
                        log.info("twilio_send_found_earlier", extra={"error": error})
                        note = f"{error}; found at Twilio, not sent again"
                        return replace(earlier, error=note[:300])
                return await self._create(account, to, body, status_callback)
            except Exception as failure:
                error = describe(failure)
                if not retryable(failure):
                    log.warning("twilio_send_failed", extra={"error": error})
                    return SendResult(None, "failed", error)
                unsure = unsure or outcome_unknown(failure)
                log.info("twilio_send_retry", extra={"error": error})
        log.warning("twilio_send_unsettled", extra={"error": error})
        return SendResult(None, "submitting" if unsure else "pending", error, final=False)

    async def find_sent(
        self,
        account: TwilioAccount,
        to: str,
        body: str,
        since: datetime,
        is_other: IsOther | None = None,
    ) -> SendResult | None:
        """The message with this body sent to `to` since about `since` that no other recorded
        message owns (`is_other`), newest first; None when there is none. Raises when
        Twilio can't say."""
        recent = await self._call(
            lambda: self._client(account).messages.list_async(
                to=whatsapp_address(to), from_=account.whatsapp_number, limit=50
            )
        )
        for message in recent:
            if message.body != body or (
                message.date_created is not None and message.date_created < since - RECONCILE_WINDOW
            ):
                continue
            sid = str(message.sid)
            if is_other is None or not await is_other(sid):
                return SendResult(sid, str(message.status or "queued"))
        return None


def describe(error: Exception) -> str:
    if isinstance(error, TwilioRestException):
        return f"twilio {error.status} (code {error.code}): {error.msg}"[:300]
    if isinstance(error, TimeoutError):
        return "TimeoutError: no answer in time"
    return f"{type(error).__name__}: {error}"[:300]
