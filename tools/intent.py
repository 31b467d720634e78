"""Does the customer ask for a person? Rules over words, Spanish and English, microseconds.

A request is a person noun ("agente", "asesor", "human", "representative", "someone")
governed, in the same clause and with only small words between them, by
- a talk verb: "hablar con un asesor", "pásame con alguien", "can I speak to someone",
  "transfer me to an agent", "contact a live agent";
- a wish (strong nouns only): "quiero un humano", "necesito una persona real", "get me a human";
- a question for one: "¿hay algún agente disponible?", "is there a human I can talk to?",
  "un humano que me atienda";
- nothing at all: the noun said alone ("agente", "humano por favor", "representative!").
Not a request: a negated wish or instruction ("no necesito un agente", "I don't want a human",
"no me pases con nadie"), other senses ("soy agente de viajes", "una persona me dijo",
"the agent who delivered my package", "human error", "precio por persona"), past contacts
("I spoke to an agent"), and asking what the bot is ("am I talking to a real person?").
Misspelt verbs and nouns one edit away are read as meant ("somneone", "speakign").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_FOLD = str.maketrans("áéíóúàèìòùâêîôûäëïöüñç’", "aeiouaeiouaeiouaeiounc'")
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+|[.,;:!?¿¡()]")
_REPEAT = re.compile(r"(.)\1{2,}")
_DOUBLE = re.compile(r"(.)\1")
PUNCTUATION = frozenset(".,;:!?¿¡()")
CLAUSE_BREAKS = PUNCTUATION | {"but", "pero", "and", "y", "because", "porque"}
MAX_GAP = 4


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text`."""
    return frozenset(text.split())


PERSON_NOUNS = _words(
    """
    agente agentes humano humana humanos persona personas asesor asesora asesores ejecutivo
    ejecutiva ejecutivos operador operadora operadores representante representantes encargado
    encargada supervisor supervisora gerente alguien empleado empleada especialista
    agent agents human humans person people operator operators representative representatives
    rep reps someone somebody anyone anybody assistant manager employee staff specialist
    advisor adviser reception receptionist concierge recepcion recepcionista
    """
)
"""Who can be asked for (the built-in vocabulary; a tenant's `keywords` replace it)."""

STRONG_NOUNS = _words(
    """
    agente humano humana asesor asesora ejecutivo ejecutiva operador operadora representante
    persona supervisor supervisora gerente encargado encargada
    agent human operator representative rep person manager supervisor
    """
)
"""Nouns that are a request after a mere wish ("quiero un asesor") or said alone."""

NOUN_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split())
    for phrase in (
        "ser humano",
        "persona real",
        "persona de verdad",
        "alguien real",
        "carne y hueso",
        "atencion humana",
        "servicio al cliente",
        "atencion al cliente",
        "soporte tecnico",
        "real person",
        "real human",
        "live person",
        "live agent",
        "live chat",
        "actual person",
        "human being",
        "customer service",
        "customer support",
        "customer care",
        "front desk",
    )
)
"""Several-word persons; they count as strong nouns."""

TALK_VERBS = _words(
    """
    hablar hablen platicar charlar conversar comunicar comunicarme comunicame comuniqueme
    comuniquenme comunicas comunicarias comunique comuniquen contactar contactarme contactame
    conectar conectarme conectame conecteme conectes pasar pasarme pasame paseme pasenme pasas
    pasen pasa pasarias pases pase transferir transferirme transfiereme transfieranme transfieras
    transfieran derivar derivarme derivame derivenme atender atienda atiendan comuniques llame
    llamen marque contacte contacten
    talk speak chat contact reach connect transfer put pass escalate forward get
    talking speaking chatting contacting reaching connecting transferring putting escalating
    """
)
"""Verbs that, before a person, ask to be put in touch ("hablar con", "speak to")."""

NEEDS_OBJECT = _words(
    """
    pasar pasas pasen pasa pasarias pases pase transferir transfieras transfieran conectar derivar
    comunicar comunicas comunicarias comunique comuniquen comuniques conectes llame llamen marque
    contacte contacten
    put pass transfer connect forward get putting transferring connecting
    """
)
"""Verbs that only ask for a person with "me"/"us" ("transfer me to", "me pasas con")."""

OBJECTS = frozenset({"me", "us", "nos"})
ASKING = (["can", "i"], ["could", "i"], ["may", "i"], ["can", "we"])

WISH_VERBS = _words(
    """
    quiero queremos quisiera necesito necesitamos ocupo requiero deseo busco exijo pido prefiero
    dame denme deme consigueme
    want wanna need require request requesting demand prefer gimme give get
    """
)
"""Wishes that, before a strong noun, are a request ("quiero un asesor", "I want a human")."""

GAP_WORDS = _words(
    """
    to with a an the some any one of your you me us real live actual proper human customer
    service support through for please now right away immediately another other different
    qualified competent fucking bloody damn freaking goddamn stupid this it can could i wth wiht
    wirh whit w ot
    con un una el la los las algun alguna uno de del al su tu me nos te le a real verdad otro
    otra ya ahora mismo por favor porfa porfavor inmediato humano que puedo pueda favor pinche
    """
)
"""Small words allowed between a request and its noun."""

NEGATORS = _words(
    "no not don't dont doesn't doesnt didn't didnt won't wont never nunca ni sin without"
)
CANCELLABLE = WISH_VERBS | TALK_VERBS | _words("hace falta es necesario bother have to")
NEGATION_BRIDGE = _words("me te nos lo la i we to really even que a")
"""Words between a negation and the wish it cancels ("no me pases", "I don't really want")."""

OTHER_SENSE_BEFORE = _words(
    """
    travel estate insurance secret free booking shipping customs border sales virtual google
    voice digital ai personal smart in per each every soy es era fue eres somos son
    """
)
"""A word before the noun that means another sense ("travel agent", "in person", "soy agente")."""

OTHER_SENSE_AFTER = _words(
    "error errors resources rights nature trafficking de who that which dijo dice me"
)
"""A word after the noun that means another sense ("human error", "agente de viajes")."""

FILLERS = _words(
    """
    please pls plz now a an the i want need un una el la por favor porfa porfavor xfa ya ahora
    quiero necesito real live hola hi hello urgente urgent
    """
)
"""What may surround a noun said on its own ("un agente por favor", "human please")."""

SELF_QUESTIONS = frozenset(
    {
        ("am", "i"),
        ("are", "you"),
        ("are", "we"),
        ("is", "this"),
        ("estoy",),
        ("estamos",),
        ("eres",),
    }
)
"""Openers of "am I talking to a person?": asking what the bot is, not for a person."""

NECESSITY_QUESTIONS = frozenset(
    {
        ("do", "i", "need", "to"),
        ("do", "i", "have", "to"),
        ("should", "i"),
        ("do", "you", "need", "to"),
    }
)
"""Openers of "do I need to speak to a representative to ...?": asking how things work."""

AVAILABILITY = frozenset({"disponible", "disponibles", "available", "online", "libre"})
FOLLOWING_REQUEST = frozenset({"atienda", "atiendan", "talk", "speak", "hablar", "chat"})
PLURALS = frozenset({"people", "personas", "humans", "humanos", "agents", "agentes", "staff"})
CALL_BACK = frozenset({"call", "contact", "llame", "llamen", "contacte", "contacten", "marque"})
"""After a person, with "me": "can someone call me?", "un asesor que me llame"."""

MIN_CORRECTION = 6
"""Shorter words are never spelling-corrected (too many real words are one edit apart)."""


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@lru_cache(maxsize=1)
def _typo_index() -> dict[str, str]:
    """Single-deletion keys of the verbs and nouns, for one-edit spelling correction."""
    index: dict[str, str] = {}
    for word in sorted(TALK_VERBS | PERSON_NOUNS):
        if len(word) >= 5:
            for key in _deletions(word) | {word}:
                index.setdefault(key, word)
    return index


@lru_cache(maxsize=4096)
def _correct(word: str, known: frozenset[str]) -> str:
    """The vocabulary word one edit from `word` (insertion, deletion, substitution, swap)."""
    if word in known or word in GAP_WORDS:
        return word
    single = _DOUBLE.sub(r"\1", word)
    if single in known:
        return single  # "talkk", "speeak"
    if len(word) < MIN_CORRECTION:
        return word
    index = _typo_index()
    if word in index:
        return index[word]
    for key in _deletions(word):
        if key in index and abs(len(index[key]) - len(word)) <= 1:
            return index[key]
    return word


def _tokens(text: str) -> list[str]:
    folded = _REPEAT.sub(r"\1", text.lower().translate(_FOLD))
    return _TOKEN.findall(folded)


@dataclass(frozen=True)
class Vocabulary:
    """Who can be asked for: the built-in persons, or exactly a tenant's keywords."""

    nouns: frozenset[str]
    """One-word persons ("agente", or a tenant's "vendedor")."""
    noun_phrases: dict[str, tuple[tuple[str, ...], ...]]
    """Several-word persons ("persona real"), by their first word."""
    phrases: tuple[tuple[str, ...], ...]
    """A tenant's several-word keywords: requests as they are ("hablar con ventas")."""
    known: frozenset[str]
    """Words never spelling-corrected."""


def _by_first_word(phrases: Iterable[tuple[str, ...]]) -> dict[str, tuple[tuple[str, ...], ...]]:
    grouped: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        grouped.setdefault(phrase[0], []).append(phrase)
    return {first: tuple(group) for first, group in grouped.items()}


BUILT_IN = Vocabulary(PERSON_NOUNS, _by_first_word(NOUN_PHRASES), (), PERSON_NOUNS | TALK_VERBS)


@lru_cache(maxsize=64)
def _vocabulary(keywords: tuple[str, ...] | None) -> Vocabulary:
    """The built-in vocabulary (`keywords` None), or exactly the tenant's `keywords`: one
    word is a person asked for as the built-in ones are, several words a request phrase."""
    if keywords is None:
        return BUILT_IN
    nouns: set[str] = set()
    phrases: list[tuple[str, ...]] = []
    for keyword in keywords:
        parts = tuple(_tokens(keyword))
        if len(parts) == 1:
            nouns.add(parts[0])
        elif parts:
            phrases.append(parts)
    return Vocabulary(frozenset(nouns), {}, tuple(phrases), frozenset(nouns) | TALK_VERBS)


def _clause_start(tokens: list[str], i: int) -> int:
    while i > 0 and tokens[i - 1] not in CLAUSE_BREAKS:
        i -= 1
    return i


def _strong(noun: str) -> bool:
    """A person asked for by a mere wish or by name alone: a strong built-in noun, or a
    tenant's own ("quiero un asesor", "vendedor!")."""
    return noun in STRONG_NOUNS or noun not in PERSON_NOUNS


def _noun_spans(tokens: list[str], vocabulary: Vocabulary) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        candidates = vocabulary.noun_phrases.get(tokens[i], ())
        length = next((len(p) for p in candidates if tuple(tokens[i : i + len(p)]) == p), 0)
        if length:
            spans.append((i, i + length))
            i += length
            continue
        if tokens[i] in vocabulary.nouns:
            spans.append((i, i + 1))
        i += 1
    return spans


def _negated(tokens: list[str], head: int, start: int) -> bool:
    """A negation cancels the wish or instruction at `head` ("don't want", "no me pases")."""
    j = head - 1
    while j >= start and head - j <= 5:
        if tokens[j] in NEGATORS:
            return True
        if tokens[j] not in CANCELLABLE and tokens[j] not in NEGATION_BRIDGE:
            return False
        j -= 1
    return False


def _not_a_request(tokens: list[str], start: int, verb: int) -> bool:
    """ "am I talking to a real person?", "¿estoy hablando con una persona?", "do I need to
    speak to a representative to change my pin?" """
    before = tuple(tokens[start:verb])
    return any(before[-len(opener) :] == opener for opener in SELF_QUESTIONS) or any(
        before[: len(opener)] == opener for opener in NECESSITY_QUESTIONS
    )


def _governing_request(tokens: list[str], noun: int, start: int, strong: bool) -> int | None:
    """Index of the talk verb (or, for strong nouns, wish) the noun at `noun` depends on."""
    j = noun - 1
    while j >= start and noun - j <= MAX_GAP + 1:
        word = tokens[j]
        if word in TALK_VERBS and (
            word not in NEEDS_OBJECT or OBJECTS & set(tokens[max(start, j - 3) : noun])
        ):
            return j
        if strong and word in WISH_VERBS and (word != "get" or tokens[j - 2 : j] in ASKING):
            return j  # "get" only in "can I get a human?"
        if word in TALK_VERBS or word not in GAP_WORDS:
            return None
        j -= 1
    return None


def _other_sense(tokens: list[str], start: int, end: int) -> bool:
    before = tokens[start - 1] if start else ""
    after = tokens[end] if end < len(tokens) else ""
    return before in OTHER_SENSE_BEFORE or after in OTHER_SENSE_AFTER


def _said_alone(tokens: list[str], spans: list[tuple[int, int]]) -> bool:
    """The message is just a person asked for: "agente", "un humano por favor", "operator!"."""
    covered = {k for start, end in spans for k in range(start, end)}
    rest = [t for k, t in enumerate(tokens) if k not in covered and t not in PUNCTUATION]
    strong = any(end - start > 1 or _strong(tokens[start]) for start, end in spans)
    return strong and len(rest) <= 4 and all(t in FILLERS for t in rest)


def _asked_for(tokens: list[str], start: int, end: int) -> bool:
    """ "¿hay algún asesor disponible?", "is there a human?", "un humano que me atienda" """
    before = tokens[max(0, start - 3) : start]
    after = tokens[end : end + 4]
    return (
        "hay" in before
        or ("there" in before and bool({"is", "are"} & set(before)))
        or bool(AVAILABILITY & set(after))
        or bool(FOLLOWING_REQUEST & set(after))
    )


def _calls_back(tokens: list[str], end: int) -> bool:
    """ "can someone call me back?", "que alguien me contacte" """
    after = tokens[end : end + 3]
    return bool(CALL_BACK & set(after)) and bool(OBJECTS & set(after))


def _to_talk_to(tokens: list[str], end: int) -> bool:
    """ "is there someone I can talk to?", "anyone to speak with", "alguien con quien hablar" """
    after = tokens[end : end + 5]
    if after[:2] == ["con", "quien"]:
        return True
    return any(
        word in FOLLOWING_REQUEST and after[k + 1 : k + 2] in (["to"], ["with"])
        for k, word in enumerate(after)
    )


def _requests(tokens: list[str], start: int, end: int) -> bool:
    """Whether the person at tokens[start:end] is asked for."""
    clause = _clause_start(tokens, start)
    noun = tokens[start]
    strong = end - start > 1 or _strong(noun)
    verb = _governing_request(tokens, start, clause, strong)
    if verb is not None:
        return not _not_a_request(tokens, clause, verb) and not _negated(tokens, verb, clause)
    if _negated(tokens, start, clause):
        return False
    if noun not in PLURALS and (_calls_back(tokens, end) or _to_talk_to(tokens, end)):
        return True
    return strong and not _other_sense(tokens, start, end) and _asked_for(tokens, start, end)


def _says_phrase(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    """A tenant's request phrase ("hablar con ventas"), not negated."""
    for i in range(len(tokens) - len(phrase) + 1):
        if tuple(tokens[i : i + len(phrase)]) == phrase and not _negated(
            tokens, i, _clause_start(tokens, i)
        ):
            return True
    return False


def asks_for_human(text: str, keywords: Iterable[str] | None = None) -> bool:
    """Whether `text` explicitly asks to be served by a person.

    Without `keywords` (None), the built-in Spanish and English vocabulary counts. A tenant's
    `keywords` replace it: exactly those count, one word as a person asked for ("vendedor":
    "quiero hablar con un vendedor", "vendedor por favor"), several words as a request
    phrase ("hablar con ventas"); an empty list means no words ask for a person.
    """
    vocabulary = _vocabulary(None if keywords is None else tuple(keywords))
    tokens = [_correct(token, vocabulary.known) for token in _tokens(text)]
    if any(_says_phrase(tokens, phrase) for phrase in vocabulary.phrases):
        return True
    spans = _noun_spans(tokens, vocabulary)
    if spans and _said_alone(tokens, spans):
        return True
    return any(_requests(tokens, start, end) for start, end in spans)
