"""The Twilio channel adapters on their own: splitting, parsing, accounts, the REST sender."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes.twilio_server import FakeTwilio
from pydantic import SecretStr

from checkpoints.records import TenantRecord
from config.settings import Settings
from server.channels.split import WHATSAPP_MAX_CHARS, split_message
from server.channels.twilio_account import TwilioAccount, twilio_account
from server.channels.twilio_inbound import (
    BadWebhook,
    parse_form,
    parse_message,
    public_url,
    sign,
    signature_valid,
)
from server.channels.twilio_outbound import TwilioSender

FORM = "application/x-www-form-urlencoded"


def test_short_text_is_one_part() -> None:
    assert split_message("  Hola, ¿qué tal?  ") == ["Hola, ¿qué tal?"]
    assert split_message("") == []


def test_long_text_is_cut_at_sentence_ends_within_the_limit() -> None:
    sentences = [f"Frase número {i}, con algo de texto para rellenar." for i in range(120)]
    text = " ".join(sentences)
    parts = split_message(text)
    assert len(parts) > 1 and all(len(p) <= WHATSAPP_MAX_CHARS for p in parts)
    assert all(p.endswith("rellenar.") for p in parts)
    assert " ".join(parts) == text


def test_quotes_stay_with_their_sentence_and_lines_are_boundaries() -> None:
    text = "Dijo «ya llegó.» Luego " + "x " * 10 + "\nOtra línea aquí"
    assert split_message(text, limit=30)[0] == "Dijo «ya llegó.»"
    assert split_message("a" * 25 + "\n" + "b" * 10, limit=30) == ["a" * 25, "b" * 10]


def test_without_sentence_ends_it_cuts_at_spaces_then_inside_words() -> None:
    words = "palabra " * 400
    parts = split_message(words)
    assert all(len(p) <= WHATSAPP_MAX_CHARS and not p.endswith(" ") for p in parts)
    assert " ".join(parts) == words.strip()
    assert split_message("a" * 3500) == ["a" * 1600, "a" * 1600, "a" * 300]


def test_parse_message_reads_twilio_fields_and_media() -> None:
    body = (
        "MessageSid=SM1&From=whatsapp%3A%2B5215512345678&To=whatsapp%3A%2B14155238886"
        "&Body=hola+%C2%BFqu%C3%A9+tal%3F&NumMedia=2&MediaUrl0=https%3A%2F%2Fm%2F0"
        "&MediaContentType0=image%2Fjpeg&MediaUrl1=https%3A%2F%2Fm%2F1"
        "&MediaContentType1=audio%2Fogg&ProfileName=Ana&WaId=5215512345678"
    )
    message = parse_message(parse_form(body.encode(), f"{FORM}; charset=utf-8"))
    assert message.address == "+5215512345678" and message.body == "hola ¿qué tal?"
    assert [(m.url, m.content_type) for m in message.media] == [
        ("https://m/0", "image/jpeg"),
        ("https://m/1", "audio/ogg"),
    ]
    assert (message.profile_name, message.wa_id) == ("Ana", "5215512345678")


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"From=x", "application/json", 415),
        (b"From=x", None, 415),
        (b"Body=%FF", FORM, 400),
        (b"MessageSid=SM1&From=x", FORM, 400),
        (b"MessageSid=SM1&From=x&To=y&NumMedia=dos", FORM, 400),
    ],
)
def test_bad_forms_are_refused(body: bytes, content_type: str | None, status: int) -> None:
    with pytest.raises(BadWebhook) as refused:
        parse_message(parse_form(body, content_type))
    assert refused.value.status_code == status


def test_signatures_and_the_public_url() -> None:
    params = {"MessageSid": "SM1", "Body": "hola"}
    url = "https://bot.example.com/webhooks/whatsapp/acme"
    form = parse_form(b"MessageSid=SM1&Body=hola", FORM)
    assert signature_valid("token", url, form, sign("token", url, params))
    assert not signature_valid("token", url, form, sign("other", url, params))
    assert not signature_valid("token", url, form, "")
    path = "/webhooks/whatsapp/acme"
    headers = {
        "host": "10.0.0.5:8000",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "bot.example.com",
    }
    assert public_url(path, headers, scheme="http", public_base_url=None) == url
    assert public_url(path, {"host": "a:1"}, scheme="http", public_base_url=None) == (
        "http://a:1" + path
    )
    assert public_url(path, headers, scheme="http", public_base_url="https://x.io/") == (
        "https://x.io" + path
    )


def test_accounts_fall_back_to_the_global_one_and_ignore_placeholders() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        twilio_account_sid="ACglobal",
        twilio_auth_token=SecretStr("global-token"),
        twilio_whatsapp_number="+14155238886",
    )
    plain = twilio_account(TenantRecord(id="a", name="A"), settings)
    assert (plain.account_sid, plain.auth_token, plain.whatsapp_number) == (
        "ACglobal",
        "global-token",
        "whatsapp:+14155238886",
    )
    assert plain.can_send and "global-token" not in repr(plain)
    own = TenantRecord(
        id="b", name="B", settings={"twilio": {"account_sid": "ACown", "auth_token": "own"}}
    )
    assert (
        twilio_account(own, settings).account_sid,
        twilio_account(own, settings).auth_token,
    ) == (
        "ACown",
        "own",
    )
    number_only = TenantRecord(id="c", name="C", settings={"twilio": {"whatsapp_number": "+1555"}})
    assert twilio_account(number_only, settings).whatsapp_number == "whatsapp:+1555"
    placeholders = Settings(  # type: ignore[call-arg]
        _env_file=None, twilio_account_sid="your_sid", twilio_auth_token=SecretStr("your_token")
    )
    assert not twilio_account(TenantRecord(id="a", name="A"), placeholders).can_send


async def test_sender_retries_server_errors_then_gives_up_and_reconciles() -> None:
    with FakeTwilio() as twilio:
        account = TwilioAccount(
            twilio.account_sid, twilio.auth_token, "whatsapp:+14155238886", twilio.url
        )
        sender = TwilioSender(attempts=3, retry_base_seconds=0.01)
        try:
            twilio.fail_next(500, 429)
            sent = await sender.send(account, "+5215500000000", "hola", "https://cb")
            assert sent.ok and twilio.requests == 3 and len(twilio.messages) == 1
            assert twilio.messages[0].status_callback == "https://cb"
            since = datetime.now(UTC)
            found = await sender.find_sent(account, "+5215500000000", "hola", since)
            assert found is not None and found.sid == sent.sid
            assert await sender.find_sent(account, "+5215500000000", "otra", since) is None

            async def taken(sid: str) -> bool:
                return sid == sent.sid

            assert await sender.find_sent(account, "+5215500000000", "hola", since, taken) is None
            twilio.fail_next(500, 500, 500)
            failed = await sender.send(account, "+5215500000000", "x")
            assert not failed.ok and "500" in (failed.error or "") and not failed.final
            twilio.fail_next(400)
            refused = await sender.send(account, "+5215500000000", "x")
            assert not refused.ok and refused.final and twilio.requests == 7  # 400: no retry
            wrong = TwilioAccount(twilio.account_sid, "wrong", "whatsapp:+1", twilio.url)
            assert "401" in ((await sender.send(wrong, "+1", "x")).error or "")
        finally:
            await sender.close()


@pytest.mark.parametrize("fault", ["drop", "hang", 502])
async def test_a_message_accepted_before_the_call_failed_is_not_sent_again(
    fault: str | int,
) -> None:
    """Twilio took the message, then the connection dropped / hung / answered 5xx: the
    sender looks it up before posting again, and the customer gets it once."""
    with FakeTwilio() as twilio:
        twilio.hang_seconds = 3.0
        account = TwilioAccount(
            twilio.account_sid, twilio.auth_token, "whatsapp:+14155238886", twilio.url
        )
        sender = TwilioSender(attempts=3, retry_base_seconds=0.01, timeout_seconds=0.5)
        try:
            twilio.accept_then(fault)
            sent = await sender.send(account, "+5215500000000", "su pedido salió hoy")
            assert sent.ok
            assert twilio.bodies() == ["su pedido salió hoy"]
            assert sent.sid == twilio.messages[0].sid
        finally:
            await sender.close()


async def test_a_send_while_twilio_is_down_is_left_for_later_then_sent_once() -> None:
    with FakeTwilio() as twilio:
        account = TwilioAccount(
            twilio.account_sid, twilio.auth_token, "whatsapp:+14155238886", twilio.url
        )
        sender = TwilioSender(attempts=2, retry_base_seconds=0.01, timeout_seconds=0.5)
        try:
            twilio.go_down(60)
            later = await sender.send(account, "+5215500000000", "hola")
            assert not later.ok and not later.final and twilio.bodies() == []
            twilio.go_down(0)
            since = datetime.now(UTC)
            sent = await sender.send(account, "+5215500000000", "hola", sent_since=since)
            assert sent.ok and twilio.bodies() == ["hola"]
            again = await sender.send(account, "+5215500000000", "hola", sent_since=since)
            assert again.sid == sent.sid and twilio.bodies() == ["hola"]  # found, not re-sent
        finally:
            await sender.close()
