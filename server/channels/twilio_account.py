"""Which Twilio account and WhatsApp number serve a tenant: its own, else the global one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checkpoints.records import TenantRecord
from config.settings import PLACEHOLDER_SECRETS, Settings

TWILIO_API_BASE_URL = "https://api.twilio.com"
WHATSAPP_PREFIX = "whatsapp:"


@dataclass(frozen=True)
class TwilioAccount:
    """Credentials and sender number (`whatsapp:+...`) of one Twilio account."""

    account_sid: str | None
    auth_token: str | None
    whatsapp_number: str | None
    api_base_url: str = TWILIO_API_BASE_URL

    @property
    def can_send(self) -> bool:
        """A real account is configured (otherwise outbound messages are recorded only)."""
        return bool(self.account_sid and self.auth_token and self.whatsapp_number)

    def __repr__(self) -> str:  # never show the token
        return f"TwilioAccount({self.account_sid!r}, number={self.whatsapp_number!r})"


def whatsapp_address(number: str) -> str:
    """`whatsapp:+1...` for a bare or prefixed number."""
    number = number.strip()
    return number if number.startswith(WHATSAPP_PREFIX) else f"{WHATSAPP_PREFIX}{number}"


def _real(value: str | None) -> str | None:
    return None if value is None or value.strip() in PLACEHOLDER_SECRETS else value.strip()


def twilio_account(tenant: TenantRecord, settings: Settings) -> TwilioAccount:
    """The tenant's own Twilio account and number (`settings.twilio`: account_sid +
    auth_token, whatsapp_number), else the global ones; placeholder values count as unset.

    The credentials go as a pair: a tenant with its own account_sid uses its own token.
    """
    own: dict[str, Any] = tenant.settings.get("twilio") or {}
    if _real(own.get("account_sid")):
        sid, token = _real(own.get("account_sid")), _real(own.get("auth_token"))
    else:
        secret = settings.twilio_auth_token
        sid = _real(settings.twilio_account_sid)
        token = _real(secret.get_secret_value() if secret else None)
    number = _real(own.get("whatsapp_number")) or _real(settings.twilio_whatsapp_number)
    return TwilioAccount(
        account_sid=sid,
        auth_token=token,
        whatsapp_number=whatsapp_address(number) if number else None,
        api_base_url=(settings.twilio_api_base_url or TWILIO_API_BASE_URL).rstrip("/"),
    )
