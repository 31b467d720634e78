"""Business hours of a tenant: time zone, weekly schedule, holidays; "when will someone answer".

A schedule is a list of lines `"<days> <HH:MM>-<HH:MM>[, <HH:MM>-<HH:MM>]"`, days as a
range or a comma list of English or Spanish abbreviations: `"mon-fri 09:00-18:00"`,
`"sat 10:00-14:00"`, `"lun,mie 09:00-13:00, 15:00-19:00"`. `24:00` ends a day; a range may
not cross midnight (write two lines). Holidays are ISO dates (`"2025-12-25"`), closed all
day. No schedule at all means always open.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES: dict[str, int] = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    "lun": 0, "mar": 1, "mie": 2, "jue": 3, "vie": 4, "sab": 5, "dom": 6,
}  # fmt: skip
_LINE = re.compile(r"^\s*(?P<days>[a-zé,\s-]+?)\s+(?P<ranges>\d.*)$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_SEARCH_DAYS = 400
"""How far ahead to look for the next opening (a year of holidays, at most)."""

Interval = tuple[int, int]
"""Opening minutes since local midnight: [start, end)."""

WEEKDAYS = {
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}  # fmt: skip


class InvalidBusinessHours(ValueError):
    """A schedule line, time zone or holiday that cannot be read."""


@dataclass(frozen=True)
class BusinessHours:
    """When a tenant's people answer (empty `schedule`: always)."""

    timezone: str = field(
        default="UTC", metadata={"description": "IANA time zone, e.g. America/Mexico_City."}
    )
    schedule: tuple[str, ...] = field(
        default=(),
        metadata={
            "description": 'Weekly opening hours, e.g. "mon-fri 09:00-18:00", '
            '"sat 10:00-14:00"; empty means always open.'
        },
    )
    holidays: tuple[str, ...] = field(
        default=(), metadata={"description": "Closed days, ISO dates (2025-12-25)."}
    )

    @property
    def always_open(self) -> bool:
        return not self.schedule

    def is_open(self, at: datetime) -> bool:
        """Whether someone answers at `at` (an aware datetime)."""
        return self.open_since(at) is not None

    def open_since(self, at: datetime) -> datetime | None:
        """Start of the opening period `at` falls in (UTC; the earliest datetime when always
        open), or None when closed then."""
        if self.always_open:
            return datetime.min.replace(tzinfo=UTC)
        local = _aware(at).astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        for start, end in self._intervals(local.date()):
            if start <= minute < end:
                opened = datetime.combine(local.date(), _clock(start), self.zone)
                return opened.astimezone(UTC)
        return None

    def next_opening(self, at: datetime) -> datetime | None:
        """The first moment after `at` when someone answers (UTC); `at` itself when open."""
        if self.is_open(at):
            return _aware(at)
        local = _aware(at).astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        for offset in range(_SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            for start, _ in self._intervals(day):
                if offset or start > minute:
                    return datetime.combine(day, _clock(start), self.zone).astimezone(UTC)
        return None

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def validate(self) -> BusinessHours:
        """Self, after checking every part can be read (raises `InvalidBusinessHours`)."""
        _zone(self.timezone)
        _weekly(self.schedule)
        _holidays(self.holidays)
        return self

    def _intervals(self, day: date) -> tuple[Interval, ...]:
        if day in _holidays(self.holidays):
            return ()
        return _weekly(self.schedule)[day.weekday()]

    @classmethod
    def from_settings(cls, data: Mapping[str, Any] | None) -> BusinessHours:
        """From a tenant's JSON (`{"timezone", "schedule": [...], "holidays": [...]}`)."""
        if not data:
            return cls()
        return cls(
            timezone=str(data.get("timezone") or "UTC"),
            schedule=tuple(str(line) for line in data.get("schedule") or ()),
            holidays=tuple(str(day) for day in data.get("holidays") or ()),
        ).validate()


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidBusinessHours(f"unknown time zone {name!r}") from exc


def _days(spec: str) -> set[int]:
    days: set[int] = set()
    for part in spec.replace(" ", "").lower().replace("é", "e").replace("á", "a").split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise InvalidBusinessHours(f"unknown day in {spec!r} (use mon..sun or lun..dom)")
        start, end = DAY_NAMES[first], DAY_NAMES[last or first]
        span = (end - start) % 7
        days.update((start + i) % 7 for i in range(span + 1))
    return days


def _ranges(spec: str) -> list[Interval]:
    intervals: list[Interval] = []
    for part in spec.split(","):
        match = _RANGE.match(part.strip())
        if not match:
            raise InvalidBusinessHours(f"cannot read hours {part.strip()!r} (use 09:00-18:00)")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or end <= start:
            raise InvalidBusinessHours(f"hours {part.strip()!r} must be a range within one day")
        intervals.append((start, end))
    return intervals


@lru_cache(maxsize=256)
def _weekly(lines: tuple[str, ...]) -> tuple[tuple[Interval, ...], ...]:
    week: list[list[Interval]] = [[] for _ in range(7)]
    for line in lines:
        match = _LINE.match(line)
        if not match:
            raise InvalidBusinessHours(f"cannot read schedule line {line!r}")
        ranges = _ranges(match.group("ranges"))
        for day in _days(match.group("days")):
            week[day].extend(ranges)
    return tuple(tuple(sorted(day)) for day in week)


@lru_cache(maxsize=256)
def _holidays(days: tuple[str, ...]) -> frozenset[date]:
    try:
        return frozenset(date.fromisoformat(day) for day in days)
    except ValueError as exc:
        raise InvalidBusinessHours(f"holidays must be ISO dates (2025-12-25): {exc}") from exc


def _time_text(at: datetime, language: str) -> str:
    if language == "en":
        return at.strftime("%I:%M %p").lstrip("0")
    return f"{at.hour}:{at.minute:02d}"


def _day_text(opening: datetime, now: datetime, language: str) -> str:
    days = (opening.date() - now.date()).days
    if days == 0:
        return "today" if language == "en" else "hoy"
    if days == 1:
        return "tomorrow" if language == "en" else "mañana"
    weekday = WEEKDAYS[language][opening.weekday()]
    if days < 7:
        return f"on {weekday}" if language == "en" else f"el {weekday}"
    month = MONTHS[language][opening.month - 1]
    if language == "en":
        return f"on {weekday}, {month} {opening.day}"
    return f"el {weekday} {opening.day} de {month}"


def when_someone_answers(hours: BusinessHours, at: datetime, language: str) -> str:
    """A sentence saying when a person will answer; "" when the business is open at `at`."""
    language = "en" if language == "en" else "es"
    if hours.is_open(at):
        return ""
    opening = hours.next_opening(at)
    if opening is None:
        if language == "en":
            return "We are closed right now; someone will answer as soon as we are back."
        return "Ahora estamos fuera de horario; te responderán en cuanto volvamos."
    local_now, local_opening = _aware(at).astimezone(hours.zone), opening.astimezone(hours.zone)
    day = _day_text(local_opening, local_now, language)
    clock = _time_text(local_opening, language)
    if language == "en":
        return f"We are closed right now; someone will answer you {day} from {clock}."
    return f"Ahora estamos fuera de horario; te responderán {day} a partir de las {clock}."
