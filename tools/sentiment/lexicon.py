"""The hand-written valence lexicons (`lexicon_es.json`, `lexicon_en.json`) and their lookup.

File layout: `{"valence": {"-3": [entries...], ...}, "negated": {"-2": [words...], ...}}`.
An entry is a word, a prefix ending in `*` ("decepcion*") or a phrase of several words
("me tienen harto", "ya van # veces", where `#` stands for any number). `negated` gives the
valence a word takes after a negation when that is not simply its opposite ("no sirve",
"nadie responde", "never arrived").
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from tools.sentiment.text import fold

MIN_PREFIX = 4

_SUPERLATIVE_STEMS = (("bil", "ble"), ("c", "z"), ("gu", "go"), ("qu", "co"))
"""Spelling changes before "-ísimo": amabilísimo, felicísimo, larguísimo, poquísimo."""


def _spanish_variants(word: str) -> Iterable[tuple[str, float]]:
    """Base forms of a Spanish word with the extra magnitude its suffix carries."""
    for suffix in ("isimos", "isimas", "isimo", "isima"):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            stem = word[: -len(suffix)]
            yield stem + "o", 0.5
            yield stem + "e", 0.5
            yield stem, 0.5
            for spelled, base in _SUPERLATIVE_STEMS:  # "amabil" -> "amable", "felic" -> "feliz"
                if stem.endswith(spelled):
                    yield stem[: -len(spelled)] + base, 0.5
    if word.endswith("s"):
        yield word[:-1], 0.0
        if word.endswith("es"):
            yield word[:-2], 0.0
        if word.endswith("as"):
            yield word[:-2] + "o", 0.0
    if word.endswith("ao") and len(word) > 4:  # spoken "cansao", "jodío": "cansado", "jodido"
        yield word[:-2] + "ado", 0.0
    if word.endswith("io") and len(word) > 4:
        yield word[:-2] + "ido", 0.0
    if word.endswith("mente") and len(word) > 8:  # "felizmente", "rapidamente" -> "rapido"
        yield word[:-5], 0.0
        if word.endswith("amente"):
            yield word[:-6] + "o", 0.0
    if word.endswith("a"):
        yield word[:-1] + "o", 0.0
    stem = word[:-1] if word.endswith("s") else word
    # Augmentatives add weight: "besazo" -> "beso", "abrazote" -> "abrazo", "grandote".
    for suffix in ("azo", "aza", "ote", "ota"):
        if stem.endswith(suffix) and len(stem) > len(suffix) + 2:
            root = stem[: -len(suffix)]
            for ending in ("o", "a", "e"):
                yield root + ending, 0.5
    # Diminutives: "lindita" -> "linda"/"lindo", "pobrecito" -> "pobre", "poquito" -> "poco".
    for suffix, endings in (
        ("cito", ("", "e")),
        ("cita", ("", "e")),
        ("ito", ("o", "a", "")),
        ("ita", ("a", "o", "")),
    ):
        if stem.endswith(suffix) and len(stem) > len(suffix) + 2:
            root = stem[: -len(suffix)]
            for ending in endings:
                yield root + ending, 0.0
            if root.endswith("qu"):
                yield root[:-2] + "co", 0.0


def _english_variants(word: str) -> Iterable[tuple[str, float]]:
    """Base forms of an English word (plural, past, gerund, adverb)."""
    if word.endswith("s"):
        yield word[:-1], 0.0
        if word.endswith("es"):
            yield word[:-2], 0.0
        if word.endswith("ies"):
            yield word[:-3] + "y", 0.0
    if word.endswith("ed"):
        yield word[:-1], 0.0
        yield word[:-2], 0.0
        if word.endswith("ied"):
            yield word[:-3] + "y", 0.0
    if word.endswith("ing"):
        yield word[:-3], 0.0
        yield word[:-3] + "e", 0.0
    if word.endswith("ily"):
        yield word[:-3] + "y", 0.0
    if word.endswith("ly"):
        yield word[:-2], 0.0
        yield word[:-1] + "e", 0.0


VARIANTS = {"es": _spanish_variants, "en": _english_variants}

_VERB_ENDINGS_TEXT = """
    o as a amos ais an e es emos eis en aste asteis aron aba abas abamos aban ado ada ados adas
    ando ara aras aramos aran are ase asen aria arias ariamos arian aremos
    i imos iste isteis io ieron ia ias iamos ian ido ida idos idas iendo iera ieras ieramos ieran
    iese iesen eria erias eriamos erian iria irias iriamos irian era eras eremos eran ire iremos
    iran ar er ir
"""
_SPANISH_VERB_ENDINGS = sorted(set(_VERB_ENDINGS_TEXT.split()), key=len, reverse=True)
"""Regular Spanish verb endings (accent-folded), longest first."""

_CLITICS = ("nos", "los", "las", "les", "me", "te", "se", "lo", "la", "le")
_INFINITIVE_ENDINGS = ("ar", "er", "ir")


def _spanish_verb_stems(word: str) -> Iterable[str]:
    """Stems of a conjugated Spanish verb ("molesten" -> "molest", "duele" -> "dol", "odiarte"
    -> "odi"), with the stem-changing vowels (ue -> o, ie -> e) undone."""
    forms = [word]
    for clitic in _CLITICS:  # "quejarme", "ayudandome", "odiarte"
        if word.endswith(clitic) and word[: -len(clitic)].endswith(("ar", "er", "ir", "ndo")):
            forms.append(word[: -len(clitic)])
    for form in forms:
        for ending in _SPANISH_VERB_ENDINGS:
            stem = form[: -len(ending)]
            if form.endswith(ending) and len(stem) >= 3:
                yield stem
                if "ue" in stem[1:]:
                    yield stem[::-1].replace("eu", "o", 1)[::-1]
                if "ie" in stem[1:]:
                    yield stem[::-1].replace("ei", "e", 1)[::-1]


@dataclass
class Lexicon:
    """One language's valences: words, prefixes, phrases, and negated readings."""

    language: str
    words: dict[str, float] = field(default_factory=dict)
    prefixes: dict[str, float] = field(default_factory=dict)
    phrases: dict[str, list[tuple[tuple[str, ...], float]]] = field(default_factory=dict)
    negated: dict[str, float] = field(default_factory=dict)

    def add(self, entry: str, valence: float) -> None:
        """Add one lexicon entry (word, `prefix*` or phrase)."""
        key = fold(entry.strip())
        if " " in key:
            words = tuple(key.split())
            bucket = self.phrases.setdefault(words[0], [])
            bucket.append((words, valence))
            bucket.sort(key=lambda item: len(item[0]), reverse=True)
        elif key.endswith("*"):
            self.prefixes[key[:-1]] = valence
        else:
            self.words[key] = valence

    def exact(self, word: str) -> float | None:
        """The valence of exactly this word, if listed."""
        return self.words.get(word)

    def lookup(self, word: str) -> float | None:
        """Valence of a word, trying inflected forms and prefixes; None when unknown."""
        value = self.words.get(word)
        if value is not None:
            return value
        for base, extra in VARIANTS[self.language](word):
            value = self.words.get(base)
            if value is not None:
                return value + math.copysign(extra, value) if value else value
        for end in range(len(word), MIN_PREFIX - 1, -1):
            value = self.prefixes.get(word[:end])
            if value is not None:
                return value
        if self.language == "es" and len(word) >= MIN_PREFIX:
            for stem in _spanish_verb_stems(word):
                for ending in _INFINITIVE_ENDINGS:
                    value = self.words.get(stem + ending)
                    if value is not None:
                        return value
        return None

    def knows(self, word: str) -> bool:
        """Whether the word is a listed word or a phrase start (for undoing elongations)."""
        return word in self.words or word in self.phrases or self.lookup(word) is not None


def parse_lexicon(language: str, data: dict[str, dict[str, list[str]]]) -> Lexicon:
    """Build a `Lexicon` from the JSON structure described in the module docstring."""
    lexicon = Lexicon(language)
    for valence, entries in data.get("valence", {}).items():
        for entry in entries:
            lexicon.add(entry, float(valence))
    for valence, entries in data.get("negated", {}).items():
        for entry in entries:
            lexicon.negated[fold(entry)] = float(valence)
    return lexicon


@cache
def load_lexicon(language: str) -> Lexicon:
    """The shipped lexicon of `language` ("es" or "en"), parsed once per process."""
    path = resources.files("tools.sentiment").joinpath(f"lexicon_{language}.json")
    return parse_lexicon(language, json.loads(path.read_text(encoding="utf-8")))
