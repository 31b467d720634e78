from __future__ import annotations

import pytest

from tools.memory_facts import CustomerFacts, OrderNumber, extract_facts, facts_from_turns


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hola, soy Ana López y mi pedido no llega", "Ana López"),
        ("me llamo juan pérez", "Juan Pérez"),
        ("Mi nombre es María", "María"),
        ("Hi, my name is john smith, thanks", "John Smith"),
        ("This is Carlos from the office", "Carlos"),
        ("soy cliente desde hace años", ""),
        ("I'm waiting for my order", ""),
        ("call me after 6pm please", ""),
    ],
)
def test_names(text: str, name: str) -> None:
    assert extract_facts(text).name == name


@pytest.mark.parametrize(
    ("text", "orders"),
    [
        ("¿dónde está mi pedido 4411?", [OrderNumber("order", "4411")]),
        ("Mi número de pedido es A-55821", [OrderNumber("order", "A-55821")]),
        ("order #12345 hasn't arrived", [OrderNumber("order", "12345")]),
        ("tengo la reserva 7788 para el 2024-05-12", [OrderNumber("booking", "7788")]),
        ("booking ref: ABC123", [OrderNumber("booking", "ABC123")]),
        ("my booking is XK-9981", [OrderNumber("booking", "XK-9981")]),
        ("quiero el pedido de 200 pesos", []),
        ("el pedido del 12 de mayo", []),
        ("order 12 is late", []),
    ],
)
def test_order_numbers(text: str, orders: list[OrderNumber]) -> None:
    assert list(extract_facts(text).orders) == orders


@pytest.mark.parametrize(
    ("text", "language", "contact_time"),
    [
        ("¿me pueden responder en inglés?", "en", ""),
        ("please answer in spanish", "es", ""),
        ("prefiero que me llamen por la tarde", "", "por la tarde"),
        ("llámenme entre las 9 y las 11 am", "", "entre las 9 y las 11 am"),
        ("call me after 6pm please", "", "after 6pm"),
        ("the best time to reach me is in the morning", "", "in the morning"),
        ("hola, ¿qué tal?", "", ""),
    ],
)
def test_language_and_contact_time(text: str, language: str, contact_time: str) -> None:
    facts = extract_facts(text)
    assert (facts.language, facts.contact_time) == (language, contact_time)


def test_issues_in_both_languages() -> None:
    assert extract_facts("mi pedido llegó roto, quiero un reembolso").issues == (
        "refund",
        "damaged",
    )
    assert extract_facts("my package still hasn't arrived").issues == ("delivery",)
    assert extract_facts("me cobraron doble").issues == ("payment",)
    assert extract_facts("¿cuál es el horario?").issues == ()


def test_newest_value_wins_and_numbers_accumulate() -> None:
    facts = facts_from_turns(
        [
            ("customer", "soy Ana, mi pedido 4411 no llega"),
            ("bot", "Lo reviso."),
            ("customer", "perdón, me llamo Ana María; también tengo el pedido 5520"),
            ("customer", "mi pedido 4411 sigue sin llegar"),
        ]
    )
    assert facts.name == "Ana María"
    assert facts.orders == (OrderNumber("order", "4411"), OrderNumber("order", "5520"))
    assert facts.issues == ("delivery",)


def test_bare_number_after_the_bot_asked_for_it() -> None:
    asked = facts_from_turns([("bot", "¿Me compartes tu número de pedido?"), ("customer", "4411")])
    assert asked.orders == (OrderNumber("order", "4411"),)
    not_asked = facts_from_turns([("bot", "¿Cuántas piezas quieres?"), ("customer", "4411")])
    assert not_asked.orders == ()


def test_merged_keeps_older_values_the_newer_lack() -> None:
    older = CustomerFacts(name="Ana", contact_time="por la tarde")
    assert older.merged(CustomerFacts(name="Ana María")) == CustomerFacts(
        name="Ana María", contact_time="por la tarde"
    )
    assert not CustomerFacts() and older
