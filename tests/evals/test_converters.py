"""The converters on tiny files laid out like the original data sets (made up text)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from evals.converters import handoff, sentiment


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for language, folder in (("es", "spanish"), ("en", "english")):
        umsab = root / "umsab-xlmt-sentiment" / folder
        umsab.mkdir(parents=True)
        (umsab / "train_text.txt").write_text(f"malo {language}\nnormal\nbueno", encoding="utf-8")
        (umsab / "train_labels.txt").write_text("0\n1\n2\n", encoding="utf-8")
        (umsab / "val_text.txt").write_text("otro\n", encoding="utf-8")
        (umsab / "val_labels.txt").write_text("1\n", encoding="utf-8")
        (umsab / "test_text.txt").write_text("prueba\n", encoding="utf-8")
        (umsab / "test_labels.txt").write_text("2\n", encoding="utf-8")
        emoevent = root / "emoevent" / language
        emoevent.mkdir(parents=True)
        header = "id\tevent\ttweet\toffensive\temotion\n"
        (emoevent / "train.tsv").write_text(
            header
            + 'a\tE\t"qué rabia" USER\tOFF\tanger\n'
            + "b\tE\tqué alegría\tNO\tjoy\n"
            + "c\tE\tnoticia\tNO\tothers\n"
            + "d\tE\t¡no puede ser!\tNO\tsurprise\n",
            encoding="utf-8",
        )
        (emoevent / "dev.tsv").write_text(
            header + "e\tE\tqué pena\tNO\tsadness\n", encoding="utf-8"
        )
    airline = root / "twitter-us-airline-sentiment"
    airline.mkdir(parents=True)
    with (airline / "Tweets.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tweet_id", "airline_sentiment", "airline_sentiment_confidence", "text"])
        writer.writerow(["1", "negative", "1", "@air worst,\nflight ever"])
        writer.writerow(["2", "positive", "0.6", "@air thanks!"])
        writer.writerow(["3", "neutral", "0.9", "@air what time?"])

    bitext = root / "bitext-customer-support-intents"
    bitext.mkdir(parents=True)
    for name, rows in (
        (
            "Training",
            [("talk to a human", "contact_human_agent"), ("cancel order", "cancel_order")],
        ),
        ("Validation", [("call customer service", "contact_customer_service")]),
        ("Testing", [("operator please", "contact_human_agent")]),
    ):
        path = bitext / f"Bitext_Sample_Customer_Service_{name}_Dataset.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["utterance", "intent", "category"])
            writer.writerows([(text, intent, "X") for text, intent in rows])
    clinc = root / "clinc150"
    clinc.mkdir()
    (clinc / "data_dev.json").write_text(
        json.dumps(
            {
                "train": [["set an alarm", "alarm"]],
                "val": [["set an alarm", "alarm"]],
                "oos_train": [["tell me a joke", "oos"]],
                "oos_val": [],
                "test": [["x", "y"]],
            }
        ),
        encoding="utf-8",
    )
    banking = root / "banking77"
    banking.mkdir()
    (banking / "train.csv").write_text(
        "text,category\nmy card is lost,lost_card\n", encoding="utf-8"
    )
    nlupp = root / "nlupp" / "hotels"
    nlupp.mkdir(parents=True)
    (nlupp / "fold0.json").write_text(
        json.dumps(
            [
                {"text": "let me talk to a real person", "intents": ["handoff"]},
                {"text": "book a room", "intents": ["make_open_apply_setup_get_activate"]},
                {"text": "hi", "slots": {}},
            ]
        ),
        encoding="utf-8",
    )
    return root


def test_umsab_dev_is_train_plus_validation(data_dir: Path) -> None:
    rows = list(sentiment.examples("umsab-es", data_dir, "dev"))
    assert rows == [
        {"text": "malo es", "label": "negative", "lang": "es"},
        {"text": "normal", "label": "neutral", "lang": "es"},
        {"text": "bueno", "label": "positive", "lang": "es"},
        {"text": "otro", "label": "neutral", "lang": "es"},
    ]
    assert [r["text"] for r in sentiment.examples("umsab-en", data_dir, "test")] == ["prueba"]


def test_umsab_rejects_misaligned_files(data_dir: Path) -> None:
    folder = data_dir / "umsab-xlmt-sentiment" / "spanish"
    (folder / "val_labels.txt").write_text("1\n2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="1 texts but 2 labels"):
        list(sentiment.examples("umsab-es", data_dir, "val"))


def test_emoevent_emotions_become_polarities(data_dir: Path) -> None:
    rows = list(sentiment.examples("emoevent-en", data_dir, "dev"))
    assert [(r["text"], r["label"]) for r in rows] == [
        ('"qué rabia" USER', "negative"),  # quotes kept: the files are read without quoting
        ("qué alegría", "positive"),
        ("noticia", "neutral"),
        ("qué pena", "negative"),  # surprise ("¡no puede ser!") is left out
    ]


def test_airline_tweets_and_confidence(data_dir: Path) -> None:
    rows = list(sentiment.examples("airline", data_dir))
    assert [r["label"] for r in rows] == ["negative", "positive", "neutral"]
    assert rows[0]["text"] == "@air worst,\nflight ever" and rows[0]["lang"] == "en"
    confident = sentiment.airline_examples(data_dir, min_confidence=0.7)
    assert [r["label"] for r in confident] == ["negative", "neutral"]


def test_unknown_source() -> None:
    with pytest.raises(ValueError, match="unknown source"):
        sentiment.examples("imdb", Path("."))
    with pytest.raises(ValueError, match="unknown source"):
        handoff.examples("imdb", Path("."))


def test_sentiment_cli_writes_jsonl(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "umsab.jsonl"
    args = [
        "--source",
        "umsab-es",
        "--split",
        "train",
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
    ]
    assert sentiment.main(args) == 0
    assert [r["label"] for r in read_jsonl(out)] == ["negative", "neutral", "positive"]
    assert "malo es" in out.read_text(encoding="utf-8")  # unescaped UTF-8, one object a line


def test_bitext_positives_negatives_and_left_out_intent(data_dir: Path) -> None:
    assert list(handoff.examples("bitext", data_dir, "dev")) == [
        {"text": "talk to a human", "handoff": True},
        {"text": "cancel order", "handoff": False},
    ]
    assert list(handoff.examples("bitext", data_dir, "test")) == [
        {"text": "operator please", "handoff": True}
    ]


def test_clinc_banking_and_nlupp(data_dir: Path) -> None:
    assert list(handoff.examples("clinc150", data_dir, "dev")) == [
        {"text": "set an alarm", "handoff": False},  # duplicates dropped
        {"text": "tell me a joke", "handoff": False},
    ]
    assert list(handoff.examples("clinc150", data_dir, "test")) == [{"text": "x", "handoff": False}]
    assert list(handoff.examples("banking77", data_dir, "dev")) == [
        {"text": "my card is lost", "handoff": False}
    ]
    assert list(handoff.examples("nlupp", data_dir)) == [
        {"text": "let me talk to a real person", "handoff": True},
        {"text": "book a room", "handoff": False},
        {"text": "hi", "handoff": False},
    ]


def test_handoff_cli_merges_sources(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "handoff.jsonl"
    args = [
        "--source",
        "bitext",
        "--source",
        "banking77",
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
    ]
    assert handoff.main(args) == 0
    assert [r["handoff"] for r in read_jsonl(out)] == [True, False, False]
