"""Input adapter for Twilio's WhatsApp webhooks: read the form, check the signature, and
normalise the message (From, To, Body, MessageSid, NumMedia, MediaUrlN, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from server.channels.twilio_account import WHATSAPP_PREFIX

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_WEBHOOK_BYTES = 1024 * 1024
MAX_MEDIA = 10
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class BadWebhook(Exception):
    """A webhook request that can't be accepted: HTTP status, what the caller is told and,
    when the log may say more than the caller, why."""

    def __init__(self, status_code: int, detail: str, reason: str = "") -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.reason = reason


class FormParams(dict[str, list[str]]):
    """Form fields with every value kept (what RequestValidator signs)."""

    def getall(self, name: str) -> list[str]:
        return self[name]

    def first(self, name: str, default: str = "") -> str:
        values = self.get(name)
        return values[0] if values else default


@dataclass(frozen=True, slots=True)
class Media:
    url: str
    content_type: str


@dataclass(frozen=True, slots=True)
class WhatsAppInbound:
    """One customer message as Twilio delivered it."""

    message_sid: str
    sender: str
    """`From`: `whatsapp:+<number>`."""
    recipient: str
    """`To`: the tenant's WhatsApp number."""
    body: str
    media: tuple[Media, ...] = ()
    profile_name: str = ""
    wa_id: str = ""

    @property
    def address(self) -> str:
        """The customer's address without the channel prefix (`+5215512345678`)."""
        return self.sender.removeprefix(WHATSAPP_PREFIX)


@dataclass(frozen=True, slots=True)
class StatusCallback:
    """A delivery status report of an outbound message."""

    message_sid: str
    status: str
    error_code: str = ""


def parse_form(body: bytes, content_type: str | None) -> FormParams:
    """The url-encoded form fields; `BadWebhook` for another content type or bad bytes."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != FORM_CONTENT_TYPE:
        raise BadWebhook(415, f"content type must be {FORM_CONTENT_TYPE}, got {media_type!r}")
    if len(body) > MAX_WEBHOOK_BYTES:
        raise BadWebhook(413, f"request body larger than {MAX_WEBHOOK_BYTES} bytes")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=200)
    except UnicodeDecodeError as error:
        raise BadWebhook(400, f"request body is not valid UTF-8: {error.reason}") from None
    except ValueError as error:
        raise BadWebhook(400, f"unreadable form: {error}") from None
    params = FormParams()
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def _required(params: FormParams, names: tuple[str, ...]) -> None:
    missing = [name for name in names if not params.first(name).strip()]
    if missing:
        raise BadWebhook(400, f"missing form fields: {', '.join(missing)}")


def parse_message(params: FormParams) -> WhatsAppInbound:
    """The inbound message of a webhook form; `BadWebhook` when required fields lack."""
    _required(params, ("MessageSid", "From", "To"))
    count_text = params.first("NumMedia", "0") or "0"
    if not (count_text.isascii() and count_text.isdigit()):
        raise BadWebhook(400, "NumMedia must be a number")
    count = min(int(count_text), MAX_MEDIA)
    media = tuple(
        Media(params.first(f"MediaUrl{i}"), params.first(f"MediaContentType{i}"))
        for i in range(count)
        if params.first(f"MediaUrl{i}")
    )
    return WhatsAppInbound(
        message_sid=params.first("MessageSid").strip(),
        sender=params.first("From").strip(),
        recipient=params.first("To").strip(),
        body=params.first("Body"),
        media=media,
        profile_name=params.first("ProfileName"),
        wa_id=params.first("WaId"),
    )


def parse_status(params: FormParams) -> StatusCallback:
    """A status callback's message id and status."""
    _required(params, ("MessageSid", "MessageStatus"))
    return StatusCallback(
        message_sid=params.first("MessageSid").strip(),
        status=params.first("MessageStatus").strip().lower(),
        error_code=params.first("ErrorCode"),
    )


def public_url(
    path_and_query: str,
    headers: Mapping[str, str],
    *,
    scheme: str,
    public_base_url: str | None,
) -> str:
    """The URL Twilio called (and signed): PUBLIC_BASE_URL when set, else the one the
    client asked for, as a proxy reports it (X-Forwarded-Proto / X-Forwarded-Host)."""
    if public_base_url:
        return public_base_url.rstrip("/") + path_and_query
    proto = headers.get("x-forwarded-proto", "").split(",")[0].strip() or scheme
    host = headers.get("x-forwarded-host", "").split(",")[0].strip() or headers.get("host", "")
    return f"{proto}://{host}{path_and_query}"


def signature_valid(auth_token: str, url: str, params: FormParams, signature: str) -> bool:
    """Whether `signature` (X-Twilio-Signature) is Twilio's HMAC of this URL and form."""
    return bool(signature) and bool(RequestValidator(auth_token).validate(url, params, signature))


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The X-Twilio-Signature Twilio would send (for tests, benchmarks and tools)."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))
