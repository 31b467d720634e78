"""Schemathesis hooks for `atiende eval api` (loaded by schemathesis, in its own venv).

A tenant body's business-hours ranges end after they start (documented in BusinessHoursIn;
JSON Schema cannot compare two parts of one string): a range that does not is given until
midnight before it is sent.

With ATIENDE_FUZZ_TWILIO_TOKEN set (the authenticated run), a webhook request that carries an
`X-Twilio-Signature` header gets a real signature of its URL and form, so the fuzzer reaches
past the signature check into the webhook's parsing and storage; a request whose header the
fuzzer left out stays unsigned.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any
from urllib.parse import parse_qsl, urlencode

import schemathesis
from requests.models import RequestEncodingMixin

TOKEN = os.environ.get("ATIENDE_FUZZ_TWILIO_TOKEN", "")
PUBLIC_URL = os.environ.get("ATIENDE_FUZZ_PUBLIC_URL", "")
SIGNATURE = "X-Twilio-Signature"


def twilio_signature(token: str, url: str, params: dict[str, list[str]]) -> str:
    """What Twilio sends: base64 HMAC-SHA1 of the URL and the sorted form fields."""
    signed = url + "".join(
        name + value for name in sorted(params) for value in sorted(set(params[name]))
    )
    digest = hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.operation.path.startswith("/admin/tenants"):
        _repair_schedule(case.body)
    if not TOKEN or not case.operation.path.startswith("/webhooks/"):
        return
    if not case.headers or SIGNATURE not in case.headers or not isinstance(case.body, dict):
        return
    try:
        encoded = RequestEncodingMixin._encode_params(case.body)
        params: dict[str, list[str]] = {}
        for name, value in parse_qsl(encoded, keep_blank_values=True):
            params.setdefault(name, []).append(value)
        query = f"?{urlencode(case.query, doseq=True)}" if case.query else ""
        case.headers[SIGNATURE] = twilio_signature(
            TOKEN, PUBLIC_URL + case.formatted_path + query, params
        )
    except (UnicodeError, ValueError, TypeError):
        return  # a form requests cannot encode either: sent unsigned


def _ending_after_start(line: object) -> object:
    """A schedule line whose hours ranges end after they start: the rule the pattern cannot
    say (a range that does not is given until midnight)."""
    if not isinstance(line, str) or " " not in line:
        return line
    days, ranges = line.rsplit(" ", 1)
    fixed = []
    for hours in ranges.split(","):
        start, _, end = hours.partition("-")
        fixed.append(f"{start}-{end if end > start else '24:00'}")  # HH:MM compares as text
    return f"{days} {','.join(fixed)}"


def _repair_schedule(body: object) -> None:
    handoff = body.get("handoff") if isinstance(body, dict) else None
    hours = handoff.get("business_hours") if isinstance(handoff, dict) else None
    schedule = hours.get("schedule") if isinstance(hours, dict) else None
    if isinstance(hours, dict) and isinstance(schedule, list):
        hours["schedule"] = [_ending_after_start(line) for line in schedule]
