from __future__ import annotations

import dataclasses

import pytest

from tools.sentiment import (
    Calibration,
    OfflineSentimentAnalyzer,
    Sentiment,
    SentimentAnalyzer,
    get_sentiment_analyzer,
)


@pytest.fixture(scope="module")
def analyzer() -> OfflineSentimentAnalyzer:
    return OfflineSentimentAnalyzer()


def score(analyzer: OfflineSentimentAnalyzer, text: str, language: str = "es") -> float:
    return analyzer.score(text, language).score


# --- anchors the handoff threshold (-0.5) relies on -------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Pésimo servicio, ya van 3 veces que les escribo y nadie me responde 😡", "es"),
        ("me tienen harta, es una porquería", "es"),
        ("ESTO ES UNA ESTAFA, QUIERO MI DINERO", "es"),
        ("pinche servicio chafa, no sirve para nada", "es"),
        ("This is the worst service ever, I want a refund now", "en"),
        ("still waiting for my refund, this is ridiculous", "en"),
        ("I hate this company, total scam", "en"),
        ("unacceptable!! nobody answers and my order never arrived", "en"),
    ],
)
def test_angry_complaints_fall_below_the_handoff_threshold(
    analyzer: OfflineSentimentAnalyzer, text: str, language: str
) -> None:
    result = analyzer.score(text, language)
    assert result.score < -0.5
    assert result.label == "negative"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("no me llegó el pedido", "es"),
        ("qué onda con mi pedido", "es"),
        ("me urge mi pedido", "es"),
        ("la app no funciona", "es"),
        ("where is my order?", "en"),
        ("my package hasn't arrived yet", "en"),
    ],
)
def test_mild_problems_are_negative_but_above_the_threshold(
    analyzer: OfflineSentimentAnalyzer, text: str, language: str
) -> None:
    assert -0.5 < score(analyzer, text, language) < 0


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("muchas gracias, excelente atención", "es"),
        ("me encantó, súper recomendado 😍", "es"),
        ("la neta está bien chido", "es"),
        ("thanks, that was really helpful", "en"),
        ("love it!! 😍", "en"),
    ],
)
def test_praise_is_positive(analyzer: OfflineSentimentAnalyzer, text: str, language: str) -> None:
    result = analyzer.score(text, language)
    assert result.score > 0.3
    assert result.label == "positive"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("¿tienen envío a Monterrey?", "es"),
        ("quiero saber el horario de la tienda", "es"),
        ("Bueno, quería saber cuánto cuesta el envío", "es"),
        ("what are your opening hours?", "en"),
        ("ok", "es"),
    ],
)
def test_plain_questions_are_neutral(
    analyzer: OfflineSentimentAnalyzer, text: str, language: str
) -> None:
    assert analyzer.score(text, language) == Sentiment(score=0.0, label="neutral")


# --- rules -------------------------------------------------------------------------------------


def test_negation_flips_a_positive_word(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "es bueno") > 0 > score(analyzer, "no es bueno")
    assert score(analyzer, "I like it", "en") > 0 > score(analyzer, "I don't like it", "en")
    assert score(analyzer, "it's good", "en") > 0 > score(analyzer, "it's not good", "en")


def test_negation_reaches_past_clitics(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "no me lo han enviado") < 0
    assert score(analyzer, "nunca llegó") < score(analyzer, "llegó") == 0


def test_negated_complaint_is_at_most_faintly_positive(analyzer: OfflineSentimentAnalyzer) -> None:
    assert 0 < score(analyzer, "no está mal") < score(analyzer, "está bien")
    assert 0 < score(analyzer, "not bad", "en") < 0.3


def test_no_solo_is_not_a_negation(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "no solo es bueno, es excelente") > 0.3
    assert score(analyzer, "not only good but excellent", "en") > 0.3


def test_negation_scope_ends_at_punctuation(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "no, está excelente") > 0.3


@pytest.mark.parametrize(
    ("plain", "boosted"),
    [
        ("es bueno", "es muy bueno"),
        ("es malo", "es demasiado malo"),
        ("está bueno", "está re bueno"),
        ("está rico", "está bien rico"),
        ("it is good", "it is very good"),
        ("it is bad", "it is extremely bad"),
        ("that was good", "that was so good"),
    ],
)
def test_intensifiers_strengthen(
    analyzer: OfflineSentimentAnalyzer, plain: str, boosted: str
) -> None:
    language = "en" if plain.startswith(("it", "that")) else "es"
    assert abs(score(analyzer, boosted, language)) > abs(score(analyzer, plain, language)) > 0


def test_diminishers_weaken(analyzer: OfflineSentimentAnalyzer) -> None:
    assert 0 > score(analyzer, "un poco lento") > score(analyzer, "lento")
    assert 0 > score(analyzer, "a bit slow", "en") > score(analyzer, "slow", "en")


def test_poco_negates(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "poco amable") < 0 < score(analyzer, "amable")


def test_caps_and_exclamations_emphasise(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "esto es TERRIBLE") < score(analyzer, "esto es terrible") < 0
    assert score(analyzer, "esto es terrible!!!") < score(analyzer, "esto es terrible")
    assert score(analyzer, "NO ME HA LLEGADO NADA") < score(analyzer, "no me ha llegado nada") < 0


def test_elongation_is_read_and_emphasised(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "graciassss") > score(analyzer, "gracias") > 0
    assert score(analyzer, "nooo me gusta") < 0
    assert score(analyzer, "sooo goooood", "en") > score(analyzer, "good", "en") > 0


def test_chat_spelling(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "q onda con mi pedido") == score(analyzer, "qué onda con mi pedido") < 0
    assert score(analyzer, "nada q ver con lo que pedí") < 0
    assert score(analyzer, "xq no me responden") < 0
    assert score(analyzer, "tmb me llegó roto") < 0
    assert score(analyzer, "grax, todo bien") > 0


def test_accents_are_folded(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "pesimo servicio") == score(analyzer, "pésimo servicio") < -0.5


@pytest.mark.parametrize("text", ["😡", "🤬", "😠", "😤", "👎", "💩", "😭", "😢", ":(", ":'("])
def test_negative_emoji_alone(analyzer: OfflineSentimentAnalyzer, text: str) -> None:
    assert analyzer.score(text, "es").label == "negative"


@pytest.mark.parametrize("text", ["😀", "😊", "👍", "❤️", "😍", "🙌", ":)", ":D", "<3"])
def test_positive_emoji_alone(analyzer: OfflineSentimentAnalyzer, text: str) -> None:
    assert analyzer.score(text, "en").label == "positive"


def test_repeated_angry_emoji_cross_the_threshold(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "😡😡😡") < -0.5 < score(analyzer, "😡")


def test_emoji_with_skin_tone_or_variation_selector(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "👍🏽") == score(analyzer, "👍") > 0
    assert score(analyzer, "❤️") == score(analyzer, "❤") > 0


def test_pero_gives_the_last_clause_more_weight(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "la ropa es bonita pero el envío fue pésimo") < -0.3
    assert score(analyzer, "tardó un poco pero me encantó") > 0.3
    assert score(analyzer, "the food was good but the service was terrible", "en") < -0.3


def test_mixed_label_when_both_sides_are_strong(analyzer: OfflineSentimentAnalyzer) -> None:
    assert analyzer.score("me encanta el producto, odio el envío", "es").label == "mixed"


def test_positive_words_count_less_in_a_question(analyzer: OfflineSentimentAnalyzer) -> None:
    assert 0 < score(analyzer, "¿es bueno?") < score(analyzer, "es bueno")
    assert score(analyzer, "¿por qué nadie me responde?") < 0


def test_capitalised_names_carry_no_sentiment(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "I am watching Bad Blood tonight", "en") == 0
    assert score(analyzer, "I am watching a bad movie tonight", "en") < 0


def test_mixed_language_message(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "el producto está great, me encantó") > 0.3
    assert score(analyzer, "the delivery was pésimo, worst ever", "en") < -0.5


def test_other_language_code_is_detected(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "pésimo servicio", "pt") == score(analyzer, "pésimo servicio", "es")


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "...", "1234", "@user", "https://x.co/a"])
def test_empty_or_contentless_text_is_neutral(
    analyzer: OfflineSentimentAnalyzer, text: str
) -> None:
    assert analyzer.score(text, "es") == Sentiment(score=0.0, label="neutral")


def test_long_text_is_scored_within_bounds(analyzer: OfflineSentimentAnalyzer) -> None:
    text = ("el pedido llegó tarde y roto, pésimo servicio. " * 500)[:20_000]
    result = analyzer.score(text, "es")
    assert -1.0 <= result.score < -0.9 and result.label == "negative"


def test_scores_stay_in_range(analyzer: OfflineSentimentAnalyzer) -> None:
    for text in ["😍" * 200, "😡" * 200, "excelente " * 300, "NOOOO!!!!!!!!!!"]:
        assert -1.0 <= score(analyzer, text) <= 1.0


def test_calibration_changes_the_scale() -> None:
    gentle = OfflineSentimentAnalyzer(Calibration(alpha=15.0))
    strict = OfflineSentimentAnalyzer(Calibration(alpha=60.0))
    assert gentle.score("terrible", "en").score < strict.score("terrible", "en").score < 0


async def test_async_analyze_matches_score(analyzer: OfflineSentimentAnalyzer) -> None:
    text = "no sirve, quiero mi dinero"
    assert await analyzer.analyze(text, "es") == analyzer.score(text, "es")


def test_sentiment_is_frozen() -> None:
    result = Sentiment(score=0.5, label="positive")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 0.1  # type: ignore[misc]


def test_configured_analyzer(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import get_settings

    get_sentiment_analyzer.cache_clear()
    get_settings.cache_clear()
    analyzer: SentimentAnalyzer = get_sentiment_analyzer()
    assert isinstance(analyzer, OfflineSentimentAnalyzer)
    assert get_sentiment_analyzer() is analyzer

    monkeypatch.setenv("SENTIMENT_PROVIDER", "nope")
    get_sentiment_analyzer.cache_clear()
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="sentiment_provider"):  # refused by the settings
            get_sentiment_analyzer()
    finally:
        monkeypatch.delenv("SENTIMENT_PROVIDER")
        get_sentiment_analyzer.cache_clear()
        get_settings.cache_clear()


# --- rules added for issue 6 (tweets, chat) ----------------------------------------------------


def test_negation_skips_copulas_but_reaches_only_two_words(
    analyzer: OfflineSentimentAnalyzer,
) -> None:
    assert score(analyzer, "no es tan divertido") < 0 < score(analyzer, "es tan divertido")
    assert score(analyzer, "nunca lo pensé pero es genial") > 0.3  # "nunca" is too far back


def test_falta_de_and_lack_of_negate(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "falta de humildad") < 0 < score(analyzer, "humildad")
    assert score(analyzer, "a lack of kindness", "en") < 0 < score(analyzer, "kindness", "en")


def test_nothing_but_is_not_a_negation(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "I wish you nothing but the best", "en") > 0.2


def test_a_phrase_with_its_own_negation_is_not_negated_again(
    analyzer: OfflineSentimentAnalyzer,
) -> None:
    assert score(analyzer, "like no this is not ok", "en") < -0.3
    assert score(analyzer, "no no sirve para nada") < -0.3


def test_drawn_out_no_alone_voices_dismay(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "noooo!!") < 0
    assert score(analyzer, "nooo 😭") < score(analyzer, "😭") < 0
    assert score(analyzer, "Nooo, no la han eliminado") > 0  # a reply that goes on
    assert score(analyzer, "no.") == 0


def test_te_quiero_before_an_infinitive_is_wanting(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "te quiero mucho") > 0.3
    assert score(analyzer, "te queremos contar una novedad") == 0


def test_false_friends_are_not_borrowed(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "UPS has my package", "en") == 0  # not Spanish "ups"
    assert score(analyzer, "my IRA account", "en") == 0  # not Spanish "ira"
    assert score(analyzer, "te lo diré mañana, dire") == 0  # not English "dire"


def test_ordinals_fill_number_slots(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "por tercera vez") < score(analyzer, "por segunda vez") == 0
    assert score(analyzer, "for the umpteenth time", "en") < 0
    assert score(analyzer, "watching it for the 1st time", "en") == 0


def test_idioms_of_praise_with_a_negation(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "I couldn't be happier", "en") > 0.3
    assert score(analyzer, "no puedo estar más feliz") > 0.3
    assert score(analyzer, "no está nada mal") > 0.2


def test_like_after_a_verb_of_seeming_is_not_liking(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "it doesn't look like rain", "en") == 0
    assert score(analyzer, "I don't like rain", "en") < 0


def test_swearing_intensifier_alone_is_neutral(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "front fucking row", "en") == 0
    assert score(analyzer, "fucking awesome", "en") > score(analyzer, "awesome", "en") > 0


def test_emoticon_right_after_a_word(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "I can't:(", "en") < 0
    assert score(analyzer, "listo:)") > 0
    assert score(analyzer, "ganamos 2:3") == score(analyzer, "ganamos 2 3")  # not ":3"
    assert score(analyzer, "Delhi (ANI): the minister said", "en") == 0  # not "):"


@pytest.mark.parametrize("text", [":,(", ";(", "T_T", ":S"])
def test_more_negative_emoticons(analyzer: OfflineSentimentAnalyzer, text: str) -> None:
    assert analyzer.score(text, "es").label == "negative"


@pytest.mark.parametrize("text", [":3", ":*", "^-^", "*_*"])
def test_more_positive_emoticons(analyzer: OfflineSentimentAnalyzer, text: str) -> None:
    assert analyzer.score(text, "es").score > 0


@pytest.mark.parametrize("text", ["jsjsjs", "ajajaja", "jajsjajs", "ahahah"])
def test_laughter_spellings(analyzer: OfflineSentimentAnalyzer, text: str) -> None:
    assert score(analyzer, text) == score(analyzer, "jajaja") > 0


def test_a_dash_standing_alone_ends_a_clause(analyzer: OfflineSentimentAnalyzer) -> None:
    assert score(analyzer, "no - qué servicio de mierda") < -0.5


def test_praise_in_the_same_message_tempers_a_complaint() -> None:
    text = "la comida excelente, pero el servicio pésimo y el mesero grosero"
    tempered = OfflineSentimentAnalyzer().score(text, "es").score
    untempered = OfflineSentimentAnalyzer(Calibration(mixed_tempering=0.0)).score(text, "es")
    assert untempered.score < tempered < 0


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("la app se cuelga cada rato", "es"),
        ("me dejó en visto", "es"),
        ("estoy en la miseria", "es"),
        ("the app is laggy and buggy", "en"),
        ("so dissapointed", "en"),  # a common misspelling
    ],
)
def test_everyday_chat_complaints(
    analyzer: OfflineSentimentAnalyzer, text: str, language: str
) -> None:
    assert score(analyzer, text, language) < 0
