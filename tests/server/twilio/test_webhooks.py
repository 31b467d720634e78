"""The WhatsApp webhook: real signatures only, durable and idempotent inbox, clear 4xx."""

from __future__ import annotations

import pytest
from fakes.polling import wait_until
from fakes.twilio_server import FakeTwilio
from fastapi.testclient import TestClient
from pydantic import ValidationError
from twilio_support import CUSTOMER, PUBLIC_BASE_URL, Post, admin_get, form

from config.settings import Settings
from server.app import create_app
from server.channels.twilio_inbound import sign

HOOK = "/webhooks/whatsapp/demo"


def test_signed_message_is_acknowledged_with_empty_twiml_and_answered(
    post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    response = post(HOOK, form("SM1", "¿cuál es el horario de atención?"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response/>")
    sent = twilio.wait_for(2)
    assert [m.to for m in sent] == [CUSTOMER, CUSTOMER]
    assert "Tienda Luna" in sent[0].body  # the welcome, before the first answer
    assert "9:00" in sent[1].body
    assert sent[1].status_callback == f"{PUBLIC_BASE_URL}{HOOK}/status"
    conversations = admin_get(wa_client, "/admin/tenants/demo/conversations")["conversations"]
    assert [(c["customer"], c["channel"]) for c in conversations] == [
        ("+5215512345678", "whatsapp")
    ]
    path = f"/admin/tenants/demo/conversations/{conversations[0]['id']}"
    expected = [("inbound", "received"), ("outbound", "queued"), ("outbound", "queued")]
    wait_until(
        lambda: (
            [(m["direction"], m["status"]) for m in admin_get(wa_client, path)["messages"]]
            == expected
        )
    )


def test_forged_or_missing_signatures_are_refused(
    post: Post, wa_client: TestClient, twilio: FakeTwilio
) -> None:
    params = form("SM2", "hola")
    assert post(HOOK, params, token="not-the-token").status_code == 403
    assert wa_client.post(HOOK, data=params).status_code == 403
    signed_elsewhere = sign(twilio.auth_token, "https://evil.example.com" + HOOK, params)
    refused = wa_client.post(HOOK, data=params, headers={"X-Twilio-Signature": signed_elsewhere})
    assert refused.status_code == 403 and "Signature" in refused.json()["detail"]
    tampered = sign(twilio.auth_token, PUBLIC_BASE_URL + HOOK, params)
    changed = wa_client.post(
        HOOK, data={**params, "Body": "otra cosa"}, headers={"X-Twilio-Signature": tampered}
    )
    assert changed.status_code == 403
    assert admin_get(wa_client, "/admin/tenants/demo/conversations")["conversations"] == []
    assert twilio.messages == []


def test_signature_of_the_proxied_url_without_public_base_url(
    wa_settings: Settings, twilio: FakeTwilio
) -> None:
    settings = wa_settings.model_copy(update={"public_base_url": None})
    params = form("SM3", "hola")
    signature = sign(twilio.auth_token, "https://proxy.example.org" + HOOK, params)
    with TestClient(create_app(settings, admin_key="k")) as client:
        headers = {
            "X-Twilio-Signature": signature,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "proxy.example.org",
        }
        assert client.post(HOOK, data=params, headers=headers).status_code == 200
        assert (
            client.post(HOOK, data=params, headers={"X-Twilio-Signature": signature}).status_code
            == 403
        )


def test_replayed_delivery_is_acknowledged_and_answered_once(
    post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    params = form("SMreplay", "¿aceptan devoluciones?")
    for _ in range(3):
        response = post(HOOK, params)
        assert response.status_code == 200 and response.text.endswith("<Response/>")
    twilio.wait_for(2)
    conversation = admin_get(wa_client, "/admin/tenants/demo/conversations")["conversations"][0]
    path = f"/admin/tenants/demo/conversations/{conversation['id']}"
    wait_until(lambda: len(admin_get(wa_client, path)["messages"]) == 3)
    post(HOOK, params)  # a late retry, after the answer
    messages = admin_get(wa_client, path)["messages"]
    assert [m["direction"] for m in messages] == ["inbound", "outbound", "outbound"]
    assert len(twilio.messages) == 2


@pytest.mark.parametrize(
    ("content", "content_type", "status", "detail"),
    [
        (b'{"Body": "hola"}', "application/json", 415, "content type"),
        (b"", "application/x-www-form-urlencoded", 400, "missing form fields"),
        (b"Body=%FF%FE&From=x", "application/x-www-form-urlencoded", 400, "UTF-8"),
        (b"Body=\xff\xfe&From=x", "application/x-www-form-urlencoded", 400, "UTF-8"),
        (b"Body=" + b"a" * (1024 * 1024 + 1), "application/x-www-form-urlencoded", 413, "larger"),
    ],
)
def test_bad_input_gets_a_clear_4xx(
    wa_client: TestClient,
    twilio: FakeTwilio,
    content: bytes,
    content_type: str,
    status: int,
    detail: str,
) -> None:
    response = wa_client.post(
        HOOK,
        content=content,
        headers={
            "Content-Type": content_type,
            "X-Twilio-Signature": sign(twilio.auth_token, PUBLIC_BASE_URL + HOOK, {}),
        },
    )
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]
    assert wa_client.get("/health").status_code == 200


def test_unknown_and_disabled_tenants(post: Post, wa_client: TestClient) -> None:
    # signed with the deployment's token: the caller is Twilio (or holds the token)
    unknown = post("/webhooks/whatsapp/nope", form("SM4"))
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
    wa_client.patch(
        "/admin/tenants/demo",
        json={"enabled": False},
        headers={"Authorization": "Bearer test-admin-key"},
    )
    disabled = post(HOOK, form("SM5"))
    assert disabled.status_code == 403 and "disabled" in disabled.json()["detail"]
    forged = post(HOOK, form("SM5"), token="not-the-token")
    assert forged.status_code == 403 and "disabled" not in forged.json()["detail"]


@pytest.mark.parametrize("path", [HOOK, HOOK + "/status"])
def test_before_the_signature_an_unknown_tenant_looks_like_a_known_one(
    post: Post, wa_client: TestClient, path: str
) -> None:
    params = {**form("SM8"), "MessageStatus": "delivered"}
    elsewhere = path.replace("/demo", "/nope")
    for known, unknown in (
        (wa_client.post(path, data=params), wa_client.post(elsewhere, data=params)),
        (post(path, params, token="forged"), post(elsewhere, params, token="forged")),
    ):
        assert known.status_code == unknown.status_code == 403
        assert known.json() == unknown.json() == {"detail": "missing or wrong X-Twilio-Signature"}


def test_without_any_token_every_tenant_gets_the_same_403(
    wa_settings: Settings, twilio: FakeTwilio
) -> None:
    """No deployment token: a tenant with its own account and an unknown one look alike."""
    settings = wa_settings.model_copy(update={"twilio_auth_token": None, "worker_enabled": False})
    own = {"account_sid": "AC" + "1234abcd" * 4, "auth_token": "own-tenant-token-1234"}
    with TestClient(create_app(settings, admin_key="k")) as client:
        patched = client.patch(
            "/admin/tenants/demo", json={"whatsapp": own}, headers={"Authorization": "Bearer k"}
        )
        assert patched.status_code == 200, patched.text
        params = form("SM9")
        answers = [
            client.post(path, data=params, headers={"X-Twilio-Signature": signature})
            for path in (HOOK, "/webhooks/whatsapp/nope")
            for signature in ("", sign(twilio.auth_token, PUBLIC_BASE_URL + path, params))
        ]
        assert {(a.status_code, a.text) for a in answers} == {
            (403, '{"detail":"missing or wrong X-Twilio-Signature"}')
        }
        signed = sign(own["auth_token"], PUBLIC_BASE_URL + HOOK, params)
        accepted = client.post(HOOK, data=params, headers={"X-Twilio-Signature": signed})
        assert accepted.status_code == 200


def test_status_callbacks_only_move_forward(
    post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    post(HOOK, form("SM6", "¿hacen envíos a Monterrey?"))
    sid = twilio.wait_for(2)[1].sid
    conversation = admin_get(wa_client, "/admin/tenants/demo/conversations")["conversations"][0]
    path = f"/admin/tenants/demo/conversations/{conversation['id']}"

    def reply_status() -> str:
        return str(admin_get(wa_client, path)["messages"][-1]["status"])

    wait_until(lambda: reply_status() == "queued")
    status = HOOK + "/status"
    for reported in ("sent", "delivered", "delivered", "sent", "queued"):
        response = post(status, {"MessageSid": sid, "MessageStatus": reported})
        assert response.status_code == 200
    assert reply_status() == "delivered"
    assert post(status, {"MessageSid": sid, "MessageStatus": "read"}).status_code == 200
    assert reply_status() == "read"
    unknown = post(status, {"MessageSid": "SMnope", "MessageStatus": "delivered"})
    assert unknown.status_code == 404 and "SMnope" in unknown.json()["detail"]
    forged = post(status, {"MessageSid": sid, "MessageStatus": "failed"}, token="bad")
    assert forged.status_code == 403 and reply_status() == "read"
    assert post(status, {"MessageSid": sid}).status_code == 400


def test_validation_can_be_off_only_in_development(settings: Settings) -> None:
    with pytest.raises(ValidationError, match="WEBHOOK_VALIDATION"):
        Settings(_env_file=None, app_env="production", webhook_validation=False)  # type: ignore[call-arg]
    dev = settings.model_copy(update={"webhook_validation": False, "worker_enabled": False})
    with TestClient(create_app(dev, admin_key="k")) as client:
        assert client.post(HOOK, data=form("SM7")).status_code == 200
