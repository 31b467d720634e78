from __future__ import annotations

import json
from importlib import resources

import pytest

from tools.sentiment.lexicon import load_lexicon, parse_lexicon
from tools.sentiment.text import fold, tokenize


@pytest.mark.parametrize("language", ["es", "en"])
def test_shipped_lexicon_is_well_formed(language: str) -> None:
    raw = json.loads(
        resources.files("tools.sentiment").joinpath(f"lexicon_{language}.json").read_text("utf-8")
    )
    seen: dict[str, str] = {}
    for section in ("valence", "negated"):
        for valence, entries in raw[section].items():
            assert -4.0 <= float(valence) <= 4.0
            for entry in entries:
                key = f"{section}:{fold(entry)}"
                assert key not in seen, f"{entry!r} listed under {seen.get(key)} and {valence}"
                seen[key] = valence
    assert 1000 <= sum(len(v) for v in raw["valence"].values()) <= 3500


def valence(language: str, word: str) -> float:
    value = load_lexicon(language).lookup(word)
    assert value is not None, word
    return value


def test_lookup_handles_inflection_and_prefixes() -> None:
    assert valence("es", "pesimas") == valence("es", "pesimo") < 0
    assert valence("es", "malisimo") < valence("es", "malo") < 0  # a superlative adds weight
    assert valence("es", "lindita") == valence("es", "linda") > 0  # a diminutive does not
    assert valence("es", "frustradisimos") < 0  # prefix entry "frustrad*"
    assert valence("en", "hated") == valence("en", "hate") < 0
    assert valence("en", "loves") == valence("en", "love") > 0
    assert load_lexicon("en").lookup("table") is None


def test_parse_lexicon_builds_words_prefixes_phrases_and_negations() -> None:
    lexicon = parse_lexicon(
        "es",
        {
            "valence": {"-3": ["Pésimo", "estafa*", "me tienen harto"], "2": ["bueno"]},
            "negated": {"-2": ["sirve"]},
        },
    )
    assert lexicon.exact("pesimo") == -3.0
    assert lexicon.lookup("estafadores") == -3.0
    assert lexicon.phrases["me"] == [(("me", "tienen", "harto"), -3.0)]
    assert lexicon.negated == {"sirve": -2.0}
    assert lexicon.knows("buenos")


def test_tokenizer_normalises_chat_text() -> None:
    tokens = tokenize("Graciasss @user!! 😡 :( http://x.co/a #Pésimo xq", lambda w: w == "gracias")
    assert [t.norm for t in tokens] == ["gracias", "!!", "😡", ":(", "pesimo", "porque"]
    assert tokens[0].elongated and tokens[0].title
    assert [t.kind for t in tokens] == ["word", "punct", "emoji", "emoji", "word", "word"]


def test_spanish_superlatives_augmentatives_and_adverbs() -> None:
    assert valence("es", "feisimo") < valence("es", "feo") < 0  # short stem
    assert valence("es", "amabilisimo") > valence("es", "amable") > 0  # -ble -> -bil-
    assert valence("es", "felicisimo") > valence("es", "feliz") > 0  # -z -> -c-
    assert valence("es", "grandisimo") == valence("es", "grande") == 0  # no weight from nothing
    assert valence("es", "buenazo") > valence("es", "bueno") > 0  # augmentative
    assert valence("es", "bonitote") > valence("es", "bonito") > 0
    assert valence("es", "felizmente") == valence("es", "feliz")  # -mente adverb
    assert valence("es", "malamente") == valence("es", "mala") < 0
    assert valence("es", "cansao") == valence("es", "cansado") < 0  # spoken "-ao"
    assert valence("es", "aburrio") == valence("es", "aburrido") < 0  # spoken "-ío"
