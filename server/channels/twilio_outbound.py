"""Output adapter: send WhatsApp messages through Twilio's REST API with the twilio client.

The client's asynchronous flavour (one aiohttp session for every account) runs on the event
loop without blocking it: no thread per request. 429 and 5xx answers (and network errors,
timeouts) are retried with exponential backoff; other errors fail at once.
`TWILIO_API_BASE_URL` points the client at another host.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
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
    """What Twilio said: the message SID and status, or why it failed."""

    sid: str | None
    status: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.sid is not None


def retryable(error: Exception) -> bool:
    """Rate limits, server errors, network failures and timeouts may succeed later."""
    if isinstance(error, TwilioRestException):
        return error.status == 429 or error.status >= 500
    return isinstance(error, aiohttp.ClientError | TimeoutError | TwilioException)


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
        self, account: TwilioAccount, to: str, body: str, status_callback: str | None = None
    ) -> SendResult:
        """Send one message; retried on 429/5xx/network errors, a failed result otherwise."""
        for attempt in range(1, self.attempts + 1):
            try:
                return await self._create(account, to, body, status_callback)
            except Exception as error:
                described = describe(error)
                if not retryable(error) or attempt == self.attempts:
                    log.warning("twilio_send_failed", extra={"error": described})
                    return SendResult(None, "failed", described)
                log.info("twilio_send_retry", extra={"error": described})
            await asyncio.sleep(self.retry_base_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def find_sent(
        self, account: TwilioAccount, to: str, body: str, since: datetime
    ) -> list[SendResult]:
        """Messages with this body sent to `to` since about `since`, newest first (after a
        crash during a send, to tell "sent, answer lost" from "never sent"); raises when
        Twilio can't say."""
        recent = await self._call(
            lambda: self._client(account).messages.list_async(
                to=whatsapp_address(to), from_=account.whatsapp_number, limit=50
            )
        )
        return [
            SendResult(str(message.sid), str(message.status or "queued"))
            for message in recent
            if message.body == body
            and (message.date_created is None or message.date_created >= since - RECONCILE_WINDOW)
        ]


def describe(error: Exception) -> str:
    if isinstance(error, TwilioRestException):
        return f"twilio {error.status} (code {error.code}): {error.msg}"[:300]
    return f"{type(error).__name__}: {error}"[:300]
