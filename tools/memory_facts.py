"""Offline extraction of facts a customer tells about themselves (Spanish and English).

Rules, not a model: the customer's name, an explicitly preferred language, a preferred
contact time, the order or booking numbers they give and the kinds of issue they raise.
`facts_from_turns` reads a conversation oldest first, so for single-valued facts the newest
statement wins; numbers and issues accumulate (first mention first, no repeats).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

OrderKind = Literal["order", "booking"]
Role = Literal["customer", "bot"]
MAX_NAME_WORDS = 3

_LETTERS = r"[^\W\d_]+"
# Triggers after which any words are a name ("me llamo ana") ...
_NAME_STRONG = re.compile(
    r"\b(?:me\s+llamo|mi\s+nombre\s+es|my\s+name\s+is|my\s+name's)\s+|\b(?:name|nombre):\s*",
    re.IGNORECASE,
)
# ... and after which only capitalised words are ("Soy Ana", not "soy cliente").
_NAME_WEAK = re.compile(
    r"\b(?:soy|habla|le\s+escribe|les\s+escribe|te\s+escribe|i\s+am|i'm|im|this\s+is|it's)\s+",
    re.IGNORECASE,
)
# Words that end a name ("soy Ana y ...") or show it was not one ("soy cliente").
_NAME_STOP_WORDS = """
a about al also am an and because but calling clienta cliente con customer de del desde
e el en estoy for from glad happy have hello here hi hola is just la las looking los mi
my necesito need new not nueva nuevo o of or para pero por porque que quien quiero
really so sobre sorry soy still su tengo the to trying tu user usuaria usuario very
waiting want was who with writing y your
"""
_NAME_STOP = frozenset(_NAME_STOP_WORDS.split())
_WORD = re.compile(_LETTERS)

_LANGUAGE = re.compile(
    r"\b(?:prefer\w*|please|por\s+favor|h[aá]bl\w*|escr[ií]b\w*|resp[oó]nd\w*|contest\w*|"
    r"answer\w*|repl\w*|writ\w*|speak\w*|talk\w*)\b"
    r"[^.?!\n]{0,30}?\b(?:(?:en|in)\s+)?(ingl[eé]s|english|espa[nñ]ol|spanish|castellano)\b",
    re.IGNORECASE,
)
_LANGUAGE_CODES = {"ingles": "en", "inglés": "en", "english": "en"}

_CONTACT_TIME = re.compile(
    r"\b(?:ll[aá]m(?:e|en|a)me|cont[aá]ct(?:e|en|a)me|escr[ií]b(?:e|an)me|marc(?:a|en)me|"
    r"(?:me\s+)?pueden\s+(?:llamar|contactar|escribir)(?:me)?|me\s+pueden\s+(?:llamar|contactar)|"
    r"prefiero\s+que\s+me\s+(?:llamen|contacten|escriban)|mejor\s+(?:ll[aá]menme|cont[aá]ctenme)|"
    r"(?:call|contact|reach|text|message|phone)\s+me|best\s+time\s+(?:to\s+\w+\s+me\s+)?is|"
    r"i\s+prefer\s+(?:to\s+be\s+(?:called|contacted))?|prefiero\s+(?:ser\s+contactad[oa]\s+)?)"
    r"[^.?!\n]{0,40}?"
    r"((?:por|en|durante)\s+la\s+(?:ma[nñ]ana|tarde|noche)|(?:en|por)\s+las\s+(?:ma[nñ]anas|tardes|noches)|"
    r"(?:antes|despu[eé]s)\s+de\s+las\s+\d{1,2}(?::\d{2})?(?:\s*(?:am|pm|hrs|h)\b)?|"
    r"(?:entre|a)\s+las\s+\d{1,2}(?::\d{2})?(?:\s*(?:y|a)\s+(?:las\s+)?\d{1,2}(?::\d{2})?)?(?:\s*(?:am|pm|hrs|h)\b)?|"
    r"(?:los\s+)?(?:fines\s+de\s+semana|lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bados?|domingos?)|"
    r"in\s+the\s+(?:morning|afternoon|evening)|(?:after|before|at|around)\s+\d{1,2}(?::\d{2})?\s*(?:am|pm)?|"
    r"(?:on\s+)?weekends?|(?:on\s+)?(?:mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays)|"
    r"mornings|afternoons|evenings)",
    re.IGNORECASE,
)

_CODE = r"([A-Z]{0,4}-?\d[\w-]{2,19})"
_ORDER = re.compile(
    r"\b(?:n[uú]mero\s+de\s+)?(pedido|orden|compra|order|reserva(?:ci[oó]n)?|booking|reservation|folio)"
    r"(?:\s+(?:n[uú]mero|number|no\.?|nro\.?|num\.?|n[°º]|id|es|is|was|era|ref\.?|reference|referencia|code|c[oó]digo|#)[:.]?)*\s*[#:]?\s*"
    + _CODE
    + r"\b",
    re.IGNORECASE,
)
_BARE_CODE = re.compile(r"^\W*#?\s*" + _CODE + r"\W*$", re.IGNORECASE)
_ASKS_FOR_NUMBER = re.compile(
    r"\b(?:n[uú]mero\s+de\s+(?:pedido|orden|reserva(?:ci[oó]n)?|folio)|order\s+number|"
    r"booking\s+(?:number|reference)|reservation\s+number)\b",
    re.IGNORECASE,
)
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$|^\d{1,2}-\d{1,2}-\d{2,4}$")
_BOOKING_WORDS = ("reserva", "booking", "reservation")

ISSUE_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "delivery": r"no\s+(?:me\s+)?ha\s+llegado|no\s+(?:me\s+)?(?:llega|lleg[oó])|retras|demora|"
        r"d[oó]nde\s+est[aá]\s+mi\s+(?:pedido|paquete|orden|compra|env[ií]o)|sigo\s+esperando|"
        r"hasn'?t\s+arrived|has\s+not\s+arrived|didn'?t\s+arrive|never\s+arrived|late\s+delivery|"
        r"delayed|where\s+is\s+my\s+(?:order|package|parcel)|still\s+waiting",
        "refund": r"reembolso|devoluci[oó]n|devolver|(?:regres|devuelv)\w*\s+(?:el|mi)\s+dinero|"
        r"refund|money\s+back|\breturn\b",
        "damaged": r"da[nñ]ad[oa]|\brot[oa]\b|defectuos[oa]|no\s+funciona|lleg[oó]\s+mal|broken|"
        r"damaged|defective|doesn'?t\s+work|not\s+working",
        "payment": r"cobr\w*\s+(?:doble|dos\s+veces)|cargo\s+(?:doble|no\s+reconocido)|"
        r"pago\s+rechazado|(?:no\s+pasa|rechaz\w*)\s+(?:mi|la)\s+tarjeta|charged\s+twice|"
        r"double\s+charge|payment\s+(?:failed|declined)|card\s+(?:was\s+)?(?:declined|rejected)",
        "wrong_item": r"producto\s+equivocado|me\s+lleg[oó]\s+otr[oa]|no\s+es\s+lo\s+que\s+ped[ií]|"
        r"wrong\s+(?:item|product|size|color)|not\s+what\s+i\s+ordered",
        "account": r"contrase[nñ]a|no\s+puedo\s+(?:entrar|iniciar\s+sesi[oó]n)|password|"
        r"can'?t\s+log\s*in|cannot\s+log\s*in|login",
    }.items()
}


@dataclass(frozen=True, slots=True)
class OrderNumber:
    """An order or booking number the customer gave."""

    kind: OrderKind
    value: str


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What a customer said about themselves; empty strings are unknown."""

    name: str = ""
    language: str = ""
    """A language the customer asked for (`es` or `en`), not the one they wrote in."""
    contact_time: str = ""
    orders: tuple[OrderNumber, ...] = ()
    """First mention first."""
    issues: tuple[str, ...] = ()
    """Issue kinds (keys of `ISSUE_PATTERNS`), first mention first."""

    def __bool__(self) -> bool:
        return bool(self.name or self.language or self.contact_time or self.orders or self.issues)

    def merged(self, newer: CustomerFacts) -> CustomerFacts:
        """These facts updated by `newer` ones: newest value wins, lists accumulate."""
        return replace(
            self,
            name=newer.name or self.name,
            language=newer.language or self.language,
            contact_time=newer.contact_time or self.contact_time,
            orders=tuple(dict.fromkeys((*self.orders, *newer.orders))),
            issues=tuple(dict.fromkeys((*self.issues, *newer.issues))),
        )


def _name_after(text: str, start: int, strong: bool) -> str:
    """The name words right after a trigger ending at `start` (stops at punctuation)."""
    words: list[str] = []
    end = start
    for word in _WORD.finditer(text, start):
        value = word.group()
        if text[end : word.start()].strip() or value.lower() in _NAME_STOP:
            break
        if not strong and not value[0].isupper():
            break
        words.append(value.capitalize())
        end = word.end()
        if len(words) == MAX_NAME_WORDS:
            break
    name = " ".join(words)
    return name if len(name) > 1 else ""


def _name(text: str) -> str:
    """The last name the customer gave in `text` (capitalised), or ''."""
    found: list[tuple[int, str]] = []
    for pattern, strong in ((_NAME_STRONG, True), (_NAME_WEAK, False)):
        for match in pattern.finditer(text):
            name = _name_after(text, match.end(), strong)
            if name:
                found.append((match.start(), name))
    return max(found)[1] if found else ""


def _language(text: str) -> str:
    found = ""
    for match in _LANGUAGE.finditer(text):
        found = _LANGUAGE_CODES.get(match.group(1).lower(), "es")
    return found


def _contact_time(text: str) -> str:
    found = ""
    for match in _CONTACT_TIME.finditer(text):
        found = " ".join(match.group(1).split())
    return found


def _order(word: str, code: str) -> OrderNumber | None:
    value = code.upper().strip("-")
    if _DATE.match(value) or not any(c.isdigit() for c in value) or len(value) < 3:
        return None
    kind: OrderKind = "booking" if word.lower().startswith(_BOOKING_WORDS) else "order"
    return OrderNumber(kind, value)


def _orders(text: str) -> list[OrderNumber]:
    found = (_order(m.group(1), m.group(2)) for m in _ORDER.finditer(text))
    return [order for order in found if order is not None]


def _issues(text: str) -> list[str]:
    return [name for name, pattern in ISSUE_PATTERNS.items() if pattern.search(text)]


def extract_facts(text: str) -> CustomerFacts:
    """The facts stated in one customer message."""
    return CustomerFacts(
        name=_name(text),
        language=_language(text),
        contact_time=_contact_time(text),
        orders=tuple(dict.fromkeys(_orders(text))),
        issues=tuple(_issues(text)),
    )


def facts_from_turns(turns: Iterable[tuple[Role, str]]) -> CustomerFacts:
    """The facts of a conversation, oldest message first (newest statement wins).

    A bare number right after the bot asked for an order or booking number counts as one.
    """
    facts = CustomerFacts()
    asked = ""
    for role, text in turns:
        if role == "bot":
            match = _ASKS_FOR_NUMBER.search(text)
            asked = match.group() if match else ""
            continue
        found = extract_facts(text)
        bare = _BARE_CODE.match(text) if asked and not found.orders else None
        if bare:
            word = "reserva" if any(w in asked.lower() for w in _BOOKING_WORDS) else "pedido"
            order = _order(word, bare.group(1))
            if order:
                found = replace(found, orders=(order,))
        facts = facts.merged(found)
        asked = ""
    return facts


def facts_from_texts(texts: Sequence[str]) -> CustomerFacts:
    """The facts of customer messages, oldest first."""
    return facts_from_turns(("customer", text) for text in texts)
