"""Spanish verbs are found conjugated from their infinitive; laughter is never negated."""

from __future__ import annotations

import pytest

from tools.sentiment import OfflineSentimentAnalyzer
from tools.sentiment.offline import SPANISH


@pytest.mark.parametrize(
    ("word", "infinitive"),
    [
        ("angustio", "angustiar"),
        ("molesten", "molestar"),
        ("agobiaba", "agobiar"),
        ("duele", "doler"),  # ue -> o
        ("pierdo", "perder"),  # ie -> e
        ("quejarme", "quejar"),  # clitic
        ("disfrutando", "disfrutar"),
        ("adoramos", "adorar"),
    ],
)
def test_conjugated_verbs_take_the_infinitives_valence(word: str, infinitive: str) -> None:
    assert SPANISH.lookup(word) == SPANISH.lookup(infinitive) != None  # noqa: E711


def test_unknown_and_short_words_stay_unknown() -> None:
    assert SPANISH.lookup("como") is None
    assert SPANISH.lookup("sueno") == 0.0  # "sueño": sleep as often as dream
    assert SPANISH.lookup("suena") == 0.0


def test_laughter_is_not_negated() -> None:
    analyzer = OfflineSentimentAnalyzer()
    assert analyzer.score("nunca cambies jajaja", "es").score > 0  # was negated before
    assert SPANISH.lookup("odiarte") is not None and SPANISH.lookup("odiarte") < -2
    assert analyzer.score("me angustio muchísimo con esto", "es").label == "negative"
