"""Spanish or English? A stop-word vote, fast enough to run on every message."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+")
_SPANISH_MARKS = frozenset("¿¡ñáéíóúü")
_CONTRACTION = re.compile(r"[a-z]['’](?:t|s|m|re|ve|ll|d)\b")


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text`."""
    return frozenset(text.split())


SPANISH_WORDS = _words(
    """
    de la que el en y los se del las un por con no una su para es al lo como más o pero sus le ya
    este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos
    durante todos uno les ni contra otros ese eso ante ellos e esto mí antes algunos qué unos yo otro
    otras otra él tanto esa estos mucho quienes nada muchos cual poco ella estar estas algunas algo
    nosotros mi mis tú te ti tu tus ellas nosotras vosotros os mío mía tuyo suyo nuestro vuestro
    esos esas estoy estás está estamos están esté soy eres somos son era fue fui ha he has han hemos
    hola gracias buenas buenos días tardes noches favor quiero necesito tengo tiene pedido cuánto
    cuanto cómo donde dónde cuándo vale pues bueno bien mal aquí ahí allá ahora hoy mañana ayer
    usted ustedes vos q xq pq porq tmb tb k pa pos nomas nomás ahorita oye oiga puedo puede pueden
    hacer hace hizo llegó llega todavía aún sigo sigue dinero compra precio envío cuenta ayuda
    """
)

ENGLISH_WORDS = _words(
    """
    the be to of and in that have i it for not on with as you do at this but his by from they we
    say her she or an will my one all would there their what so up out if about who get which go
    when make can like time just him know take people into year your good some could them see
    other than then now look only its over think also back after use two how our work first well
    way even new want because any these give day most us is are was were been has had am does did
    hi hello hey
    thanks thank please order still waiting where why should need help money account card refund
    yes yeah got never really very no me u ur pls plz thx lol omg
    """
)


def _votes(text: str) -> tuple[float, float]:
    spanish = english = 0.0
    for word in _WORD.findall(text.lower()):
        if word in SPANISH_WORDS:
            spanish += 1.0
        if word in ENGLISH_WORDS:
            english += 1.0
    marks = sum(1 for ch in text.lower() if ch in _SPANISH_MARKS)
    spanish += min(marks, 3) * 0.75
    # Apostrophe contractions ("don't", "I'm") are English; the word pattern splits them.
    english += len(_CONTRACTION.findall(text.lower())) * 0.75
    return spanish, english


def detect_language(text: str, default: str = "es") -> str:
    """`"es"` or `"en"`; `default` when the text gives no clear signal (short, emoji only, tie)."""
    spanish, english = _votes(text)
    if spanish == english or max(spanish, english) < 1.0:
        return default
    return "es" if spanish > english else "en"
