"""Tenants and knowledge endpoints, including their error cases."""

from __future__ import annotations

from fastapi.testclient import TestClient

from checkpoints.database import utc_now
from checkpoints.memory import CustomerMemory
from config.settings import Settings


def test_admin_requires_bearer_key(client: TestClient) -> None:
    assert client.get("/admin/tenants").status_code == 401
    wrong = client.get("/admin/tenants", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "admin key" in wrong.json()["detail"]


def test_demo_tenant_exists_in_development(client: TestClient, admin: dict[str, str]) -> None:
    tenants = client.get("/admin/tenants", headers=admin).json()["tenants"]
    assert [t["id"] for t in tenants] == ["demo"]
    assert tenants[0]["handoff"]["sentiment_threshold"] == -0.5
    assert tenants[0]["handoff"]["max_fallbacks"] == 2


def test_tenant_crud(client: TestClient, admin: dict[str, str]) -> None:
    body = {"id": "acme", "name": "Acme", "company_name": "Acme Corp", "welcome_message": "Hola!"}
    created = client.post("/admin/tenants", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["company_name"] == "Acme Corp"
    assert client.post("/admin/tenants", json=body, headers=admin).status_code == 409
    patched = client.patch(
        "/admin/tenants/acme",
        json={"persona": "Formal", "handoff": {"max_fallbacks": 4}},
        headers=admin,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["persona"] == "Formal"
    assert patched.json()["handoff"]["max_fallbacks"] == 4
    assert patched.json()["handoff"]["sentiment_threshold"] == -0.5
    again = client.patch(
        "/admin/tenants/acme", json={"handoff": {"sentiment_threshold": -0.7}}, headers=admin
    )
    assert again.json()["handoff"]["max_fallbacks"] == 4, "a PATCH keeps the other handoff rules"
    assert client.get("/admin/tenants/acme", headers=admin).json()["persona"] == "Formal"
    assert client.delete("/admin/tenants/acme", headers=admin).status_code == 204
    assert client.get("/admin/tenants/acme", headers=admin).status_code == 404


def test_tenant_bad_bodies_are_422(client: TestClient, admin: dict[str, str]) -> None:
    for body in (
        {"id": "Bad Id!", "name": "x"},
        {"name": "no id"},
        {"id": "x", "name": "x", "nope": 1},
    ):
        response = client.post("/admin/tenants", json=body, headers=admin)
        assert response.status_code == 422, body
        assert response.json()["errors"]
    invalid_json = client.post(
        "/admin/tenants",
        content=b"{not json",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert invalid_json.status_code == 422
    assert (
        client.patch(
            "/admin/tenants/demo", json={"handoff": {"max_fallbacks": -1}}, headers=admin
        ).status_code
        == 422
    )


def test_unknown_tenant_is_404_everywhere(client: TestClient, admin: dict[str, str]) -> None:
    for method, path, body in (
        ("GET", "/admin/tenants/ghost", None),
        ("PATCH", "/admin/tenants/ghost", {"name": "x"}),
        ("DELETE", "/admin/tenants/ghost", None),
        ("POST", "/admin/tenants/ghost/knowledge", {"documents": ["x"]}),
        ("POST", "/admin/tenants/ghost/knowledge/search", {"query": "x"}),
        ("GET", "/admin/tenants/ghost/conversations", None),
        ("POST", "/admin/tenants/ghost/chat", {"customer": "c", "text": "hola"}),
    ):
        response = client.request(method, path, json=body, headers=admin)
        assert response.status_code == 404, (method, path)
        assert "ghost" in response.json()["detail"]


def test_knowledge_ingest_and_search(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/admin/tenants", json={"id": "acme", "name": "Acme"}, headers=admin)
    documents = [
        "Las clases de yoga son los martes y jueves a las 7 de la tarde.",
        {"id": "precios", "title": "Precios", "text": "La mensualidad cuesta 500 pesos."},
    ]
    ingested = client.post(
        "/admin/tenants/acme/knowledge", json={"documents": documents}, headers=admin
    )
    assert ingested.status_code == 201, ingested.text
    assert "precios" in ingested.json()["document_ids"]
    found = client.post(
        "/admin/tenants/acme/knowledge/search",
        json={"query": "¿cuánto cuesta el mes?", "limit": 2},
        headers=admin,
    )
    assert found.status_code == 200
    results = found.json()["results"]
    assert results[0]["document_id"] == "precios"
    assert {"document_id", "text", "score", "title"} <= results[0].keys()


def test_knowledge_bad_input(client: TestClient, admin: dict[str, str]) -> None:
    for body in (
        {"documents": []},
        {"documents": [""]},
        {"documents": [{"title": "no text"}]},
        {"query": "x"},
    ):
        response = client.post("/admin/tenants/demo/knowledge", json=body, headers=admin)
        assert response.status_code == 422, body
    duplicated = {"documents": [{"id": "a", "text": "uno"}, {"id": "a", "text": "dos"}]}
    assert (
        client.post("/admin/tenants/demo/knowledge", json=duplicated, headers=admin).status_code
        == 422
    )
    assert (
        client.post(
            "/admin/tenants/demo/knowledge/search", json={"query": ""}, headers=admin
        ).status_code
        == 422
    )


def test_health(client: TestClient, settings: Settings) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/health/live").status_code == 200
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == ("postgres" if settings.uses_postgres else "sqlite")


def test_ready_names_what_failed(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    services.knowledge.close()
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert "qdrant" in ready.json()["failed"]


def test_deleting_a_tenant_erases_its_memory_and_threads(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert client.post("/admin/tenants", json={"id": "gone", "name": "G"}, headers=admin).is_success
    turn = client.post(
        "/admin/tenants/gone/chat",
        json={"customer": "ana", "text": "Hola, soy Ana López"},
        headers=admin,
    )
    assert turn.status_code == 200, turn.text
    services = client.app.state.services  # type: ignore[attr-defined]
    assert client.portal is not None
    memory = CustomerMemory(services.persistence.store)
    [thread] = client.portal.call(services.store.conversation_ids, "gone")
    config = {"configurable": {"thread_id": thread}}
    client.portal.call(
        lambda: memory.remember_facts(
            "gone", "cli:ana", conversation_id=thread, observed_at=utc_now(), facts={"name": "Ana"}
        )
    )
    assert client.portal.call(memory.customers, "gone") == ["cli:ana"]
    assert client.portal.call(services.persistence.checkpointer.aget_tuple, config) is not None
    assert client.delete("/admin/tenants/gone", headers=admin).status_code == 204
    assert client.portal.call(memory.customers, "gone") == []
    assert client.portal.call(services.persistence.checkpointer.aget_tuple, config) is None
