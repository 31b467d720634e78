"""Output adapter: send WhatsApp messages through Twilio's REST API with the twilio client.

The client is synchronous, so every call runs on a dedicated thread pool, never on the
event loop. 429 and 5xx answers (and network errors) are retried with exponential backoff;
other errors fail at once. `TWILIO_API_BASE_URL` points the client at another host.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from server.channels.twilio_account import TwilioAccount, whatsapp_address

log = logging.getLogger(__name__)
# The client logs every request (bodies included) at INFO: message bodies stay out of logs.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

HTTP_TIMEOUT_SECONDS = 15.0
SEND_THREADS = 32
RECONCILE_WINDOW = timedelta(minutes=5)


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
    """Rate limits, server errors and network failures may succeed later."""
    if isinstance(error, TwilioRestException):
        return error.status == 429 or error.status >= 500
    return isinstance(error, requests.RequestException | TwilioException)


class TwilioSender:
    """Sends through any number of Twilio accounts (one cached client each)."""

    def __init__(self, attempts: int = 5, retry_base_seconds: float = 0.5) -> None:
        self.attempts = max(1, attempts)
        self.retry_base_seconds = retry_base_seconds
        self._clients: dict[tuple[str, str, str], Client] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="twilio")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _client(self, account: TwilioAccount) -> Client:
        assert account.account_sid and account.auth_token
        key = (account.account_sid, account.auth_token, account.api_base_url)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                http = TwilioHttpClient(timeout=HTTP_TIMEOUT_SECONDS)
                client = Client(account.account_sid, account.auth_token, http_client=http)
                client.api.base_url = account.api_base_url
                self._clients[key] = client
            return client

    def _create(
        self, account: TwilioAccount, to: str, body: str, callback: str | None
    ) -> SendResult:
        extra = {"status_callback": callback} if callback else {}
        message = self._client(account).messages.create(
            to=whatsapp_address(to), from_=account.whatsapp_number, body=body, **extra
        )
        return SendResult(str(message.sid), str(message.status or "queued"))

    async def _call(self, fn: partial[SendResult]) -> SendResult:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def send(
        self, account: TwilioAccount, to: str, body: str, status_callback: str | None = None
    ) -> SendResult:
        """Send one message; retried on 429/5xx/network errors, a failed result otherwise."""
        for attempt in range(1, self.attempts + 1):
            try:
                return await self._call(partial(self._create, account, to, body, status_callback))
            except Exception as error:
                described = describe(error)
                if not retryable(error) or attempt == self.attempts:
                    log.warning("twilio_send_failed", extra={"error": described})
                    return SendResult(None, "failed", described)
                log.info("twilio_send_retry", extra={"error": described})
            await asyncio.sleep(self.retry_base_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _find(
        self, account: TwilioAccount, to: str, body: str, since: datetime
    ) -> list[SendResult]:
        recent = self._client(account).messages.list(
            to=whatsapp_address(to), from_=account.whatsapp_number, limit=50
        )
        return [
            SendResult(str(message.sid), str(message.status or "queued"))
            for message in recent
            if message.body == body
            and (message.date_created is None or message.date_created >= since - RECONCILE_WINDOW)
        ]

    async def find_sent(
        self, account: TwilioAccount, to: str, body: str, since: datetime
    ) -> list[SendResult]:
        """Messages with this body sent to `to` since about `since`, newest first (after a
        crash during a send, to tell "sent, answer lost" from "never sent"); raises when
        Twilio can't say."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(self._find, account, to, body, since))


def describe(error: Exception) -> str:
    if isinstance(error, TwilioRestException):
        return f"twilio {error.status} (code {error.code}): {error.msg}"[:300]
    return f"{type(error).__name__}: {error}"[:300]
