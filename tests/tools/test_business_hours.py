"""Business hours: time zones, weekly schedules, holidays, DST, and the "when" sentence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tools.business_hours import BusinessHours, InvalidBusinessHours, when_someone_answers

MEXICO = BusinessHours(
    "America/Mexico_City",
    ("mon-fri 09:00-14:00, 16:00-19:00", "sat 10:00-14:00"),
    ("2025-12-25",),
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        ("2025-12-22T15:00", True),  # Mon 09:00 in Mexico City (UTC-6)
        ("2025-12-22T14:59", False),  # Mon 08:59
        ("2025-12-22T20:30", False),  # Mon 14:30: lunch break
        ("2025-12-22T22:00", True),  # Mon 16:00
        ("2025-12-23T01:00", False),  # Mon 19:00: closed (ends are exclusive)
        ("2025-12-25T17:00", False),  # Christmas: a holiday
        ("2025-12-27T17:00", True),  # Sat 11:00
        ("2025-12-28T17:00", False),  # Sunday
    ],
)
def test_is_open(at: str, open_: bool) -> None:
    assert MEXICO.is_open(utc(at)) is open_


def test_next_opening_skips_breaks_weekends_and_holidays() -> None:
    assert MEXICO.next_opening(utc("2025-12-22T20:30")) == utc("2025-12-22T22:00")
    assert MEXICO.next_opening(utc("2025-12-24T02:00")) == utc("2025-12-24T15:00")
    assert MEXICO.next_opening(utc("2025-12-25T01:30")) == utc("2025-12-26T15:00")  # holiday
    assert MEXICO.next_opening(utc("2025-12-27T21:00")) == utc("2025-12-29T15:00")  # Sat pm
    assert MEXICO.next_opening(utc("2025-12-22T15:30")) == utc("2025-12-22T15:30")  # open now


def test_open_since() -> None:
    assert MEXICO.open_since(utc("2025-12-22T23:00")) == utc("2025-12-22T22:00")
    assert MEXICO.open_since(utc("2025-12-22T21:00")) is None


def test_daylight_saving_time_is_followed() -> None:
    madrid = BusinessHours("Europe/Madrid", ("lun-vie 09:00-18:00",))
    assert madrid.next_opening(utc("2025-03-28T20:00")) == utc("2025-03-31T07:00")  # CEST
    assert madrid.next_opening(utc("2025-10-24T20:00")) == utc("2025-10-27T08:00")  # CET


def test_no_schedule_is_always_open_and_a_day_can_end_at_midnight() -> None:
    assert BusinessHours().is_open(utc("2025-12-25T03:00"))
    late = BusinessHours("UTC", ("dom 20:00-24:00",))
    assert late.is_open(utc("2025-12-28T23:59"))
    assert not late.is_open(utc("2025-12-29T00:00"))


def test_spanish_days_and_wrapping_ranges() -> None:
    weekend = BusinessHours("UTC", ("vie-lun 10:00-12:00", "mié 10:00-11:00"))
    open_days = {d for d in range(22, 29) if weekend.is_open(utc(f"2025-12-{d}T10:30"))}
    assert open_days == {22, 24, 26, 27, 28}  # Mon, Wed, Fri, Sat, Sun


@pytest.mark.parametrize(
    "hours",
    [
        BusinessHours("Mars/Olympus", ("mon 09:00-10:00",)),
        BusinessHours("UTC", ("someday 09:00-10:00",)),
        BusinessHours("UTC", ("mon 9-10",)),
        BusinessHours("UTC", ("mon 18:00-09:00",)),
        BusinessHours("UTC", ("mon 09:00-25:00",)),
        BusinessHours("UTC", ("mon 09:00-10:00",), ("25/12/2025",)),
    ],
)
def test_unreadable_hours_are_refused(hours: BusinessHours) -> None:
    with pytest.raises(InvalidBusinessHours):
        hours.validate()


def test_from_settings() -> None:
    hours = BusinessHours.from_settings(
        {"timezone": "America/Bogota", "schedule": ["mon-fri 08:00-17:00"], "holidays": []}
    )
    assert hours == BusinessHours("America/Bogota", ("mon-fri 08:00-17:00",), ())
    assert BusinessHours.from_settings(None).always_open
    with pytest.raises(InvalidBusinessHours):
        BusinessHours.from_settings({"timezone": "Nowhere/City"})


@pytest.mark.parametrize(
    ("at", "spanish", "english"),
    [
        ("2025-12-22T15:30", "", ""),
        ("2025-12-22T20:30", "hoy a partir de las 16:00", "today from 4:00 PM"),
        ("2025-12-23T02:00", "mañana a partir de las 9:00", "tomorrow from 9:00 AM"),
        ("2025-12-27T21:00", "el lunes a partir de las 9:00", "on Monday from 9:00 AM"),
    ],
)
def test_when_someone_answers(at: str, spanish: str, english: str) -> None:
    es = when_someone_answers(MEXICO, utc(at), "es")
    en = when_someone_answers(MEXICO, utc(at), "en")
    if not spanish:
        assert es == en == ""
        return
    assert es.startswith("Ahora estamos fuera de horario") and spanish in es
    assert en.startswith("We are closed right now") and english in en


def test_when_far_ahead_names_the_date() -> None:
    august = BusinessHours(
        "UTC", ("mon-fri 09:00-17:00",), tuple(f"2025-08-{d:02d}" for d in range(1, 32))
    )
    text = when_someone_answers(august, utc("2025-07-31T18:00"), "es")
    assert "el lunes 1 de septiembre a partir de las 9:00" in text
    assert "on Monday, September 1 from 9:00 AM" in when_someone_answers(
        august, utc("2025-07-31T18:00"), "en"
    )


def test_never_opening_schedule_still_gives_a_sentence() -> None:
    start = date(2025, 12, 29)  # a Monday; every Monday for two years is a holiday
    mondays = tuple((start + timedelta(weeks=w)).isoformat() for w in range(110))
    never = BusinessHours("UTC", ("mon 09:00-10:00",), mondays)
    assert never.next_opening(utc("2025-12-30T12:00")) is None
    assert when_someone_answers(never, utc("2025-12-30T12:00"), "es") == (
        "Ahora estamos fuera de horario; te responderán en cuanto volvamos."
    )
