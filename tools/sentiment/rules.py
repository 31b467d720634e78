"""Closed word classes of the offline analyzer: negators, intensifiers, emoji, chat spelling.

Words are accent-folded lower case (see `tools.sentiment.text.fold`). Values follow VADER's
scale: a lexicon valence is in [-4, 4]; an intensifier adds (a diminisher removes) about 0.3
of magnitude; a negation multiplies by `NEGATION_SCALAR`.
"""

from __future__ import annotations

NEGATION_SCALAR = -0.74
"""Multiplier of a negated sentiment word ("not good" is mildly negative)."""

NEGATED_NEGATIVE_SCALAR = -0.3
"""Multiplier of a negated negative word: "not bad" is only faintly positive, and in
complaints a negated problem word rarely turns into praise ("I don't know why it's late")."""

NEGATION_WINDOW = 2
"""How many preceding words (clitics, auxiliaries and copulas not counted) a negation reaches:
"no es tan bueno", "I don't really like it", but not "no soy famoso, lugar recomendable"."""

BOOST = 0.293
"""Magnitude added by an intensifier directly before a sentiment word."""

CAPS_BOOST = 0.733
"""Magnitude added to an ALL-CAPS sentiment word in otherwise mixed-case text."""

ELONGATION_BOOST = 0.3
"""Magnitude added to an elongated sentiment word ("graciassss", "nooo bueno")."""

EXCLAMATION_BOOST = 0.292
"""Magnitude added per "!" (at most `MAX_EXCLAMATIONS`)."""

MAX_EXCLAMATIONS = 4


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text`."""
    return frozenset(text.split())


NEGATORS = _words(
    """
    no nunca jamas tampoco ni nadie ningun ninguna ninguno nada sin
    not never no nobody nothing none neither nor without cannot hardly barely nowhere
    dont cant wont didnt doesnt isnt wasnt arent werent havent hasnt hadnt couldnt wouldnt
    shouldnt aint neva nvr
    """
)
"""Words that negate what follows; also any word ending in "n't"."""

NEGATING_PAIRS = frozenset(
    {("falta", "de"), ("ausencia", "de"), ("carece", "de"), ("lack", "of"), ("absence", "of")}
)
"""Two words that negate what follows ("falta de respeto", "lack of support")."""

NOT_A_NEGATION_AFTER = frozenset({"solo", "solamente", "only", "just", "sure", "but"})
"""`no solo` / `not only` / `not just` / `not sure` / `nothing but` do not negate the next
words."""

CLITICS = _words(
    """
    me te se lo la le les los las nos os ha han he has hemos habia habian hubo ya
    es son era eran fue fueron sea sean ser soy eres somos esta estan estaba estaban estoy estas
    estar estado sido
    a to be been have has had it is was do does did i am are were it's that's
    """
)
"""Skipped when counting a negation's or an intensifier's distance ("no me lo han enviado",
"no es tan bueno"): clitics, auxiliaries and copulas."""

BOOSTERS: dict[str, float] = {
    # Spanish
    "muy": BOOST,
    "super": BOOST,
    "re": BOOST,
    "recontra": BOOST,
    "requete": BOOST,
    "bien": BOOST,
    "demasiado": BOOST,
    "demasiada": BOOST,
    "tan": BOOST,
    "tanto": BOOST,
    "bastante": BOOST * 0.5,
    "sumamente": BOOST,
    "extremadamente": BOOST,
    "totalmente": BOOST,
    "completamente": BOOST,
    "absolutamente": BOOST,
    "realmente": BOOST,
    "verdaderamente": BOOST,
    "increiblemente": BOOST,
    "mega": BOOST,
    "ultra": BOOST,
    "mas": BOOST * 0.5,
    "harto": BOOST,
    "tremendamente": BOOST,
    "pinche": BOOST,
    "puto": BOOST,
    "puta": BOOST,
    "maldito": BOOST,
    "maldita": BOOST,
    "jodidamente": BOOST,
    # English
    "very": BOOST,
    "so": BOOST,
    "extremely": BOOST,
    "really": BOOST,
    "totally": BOOST,
    "absolutely": BOOST,
    "completely": BOOST,
    "incredibly": BOOST,
    "too": BOOST,
    "such": BOOST,
    "most": BOOST,
    "utterly": BOOST,
    "seriously": BOOST,
    "truly": BOOST,
    "highly": BOOST,
    "fucking": BOOST,
    "freaking": BOOST,
    "frickin": BOOST,
    "effing": BOOST,
    "damn": BOOST,
    "bloody": BOOST,
    "hella": BOOST,
    "way": BOOST * 0.5,
    "even": BOOST * 0.5,
    "more": BOOST * 0.5,
    # diminishers
    "algo": -BOOST,
    "medio": -BOOST,
    "ligeramente": -BOOST,
    "casi": -BOOST,
    "slightly": -BOOST,
    "somewhat": -BOOST,
    "kinda": -BOOST,
    "sorta": -BOOST,
    "bit": -BOOST,
    "little": -BOOST,
    "fairly": -BOOST,
    "pretty": BOOST * 0.5,
    "quite": BOOST * 0.5,
    "almost": -BOOST,
    "marginally": -BOOST,
}
"""Intensifiers (> 0) and diminishers (< 0) of the next sentiment word."""

BOOSTER_PHRASES: dict[tuple[str, ...], float] = {
    ("un", "poco"): -BOOST,
    ("un", "poquito"): -BOOST,
    ("un", "tanto"): -BOOST,
    ("a", "bit"): -BOOST,
    ("a", "little"): -BOOST,
    ("kind", "of"): -BOOST,
    ("sort", "of"): -BOOST,
    ("de", "verdad"): BOOST,
    ("for", "real"): BOOST,
}

CONTRAST = frozenset({"pero", "sino", "but", "however", "although", "though", "aunque"})
"""Words after which the message carries more weight (VADER's "but" rule), except the
concessive ones, which instead weaken their own clause ("aunque tardó, me encantó")."""

CONCESSIVE = frozenset({"aunque", "although", "though"})

ONLY_BEFORE_BUT = frozenset({"nothing", "anything", "none"})
""""nothing but the best": here "but" means "only", not a contrast."""

ABBREVIATIONS: dict[str, str] = {
    # Spanish chat spelling
    "q": "que",
    "k": "que",
    "ke": "que",
    "xq": "porque",
    "pq": "porque",
    "porq": "porque",
    "xk": "porque",
    "tmb": "tambien",
    "tb": "tambien",
    "tmbn": "tambien",
    "tbn": "tambien",
    "x": "por",
    "d": "de",
    "nd": "nada",
    "bn": "bien",
    "muxo": "mucho",
    "muxa": "mucha",
    "mxo": "mucho",
    "grax": "gracias",
    "grasias": "gracias",
    "graxias": "gracias",
    "grcs": "gracias",
    "grs": "gracias",
    "xfa": "porfavor",
    "xfavor": "porfavor",
    "porfa": "porfavor",
    "plis": "porfavor",
    "pls": "please",
    "plz": "please",
    "nunk": "nunca",
    "nunka": "nunca",
    "tqm": "tequieromucho",
    "tkm": "tequieromucho",
    "xd": "jaja",
    # English chat spelling
    "u": "you",
    "ur": "your",
    "thx": "thanks",
    "thnx": "thanks",
    "thanx": "thanks",
    "tks": "thanks",
    "ty": "thanks",
    "tysm": "thanks",
    "luv": "love",
    "gr8": "great",
    "gud": "good",
    "b4": "before",
    "ppl": "people",
    "r": "are",
    "im": "i'm",
}

WANT_FORMS = frozenset({"quiero", "queremos", "quiere", "quieren", "queria", "queriamos"})
"""Forms of "querer" that mean "want" before an infinitive ("te queremos contar")."""

FALSE_FRIENDS = _words(
    """
    sin once red pie come dice fin son sale dire die mad inferior grave graves tos urge
    ira ups amo dale crack cracks rico rica bella barbara hospital champions shock penalty wars rape
    """
)
"""Never looked up in the other language's lexicon: Spanish "sin", "diré", "amo" are not English
"sin", "dire", "ammo"; English "IRA", "UPS", "Dale" are not Spanish "ira", "ups", "dale"."""

LAUGH_TOKEN = "jaja"
"""Laughter ("jajaja", "jejeje", "hahaha", "lol", "xD") is normalised to this token."""

NUMBER_WORDS = _words(
    """
    dos tres cuatro cinco seis siete ocho nueve diez varias varios muchas muchos mil
    two three four five six seven eight nine ten several many multiple
    tercera cuarta quinta sexta decima enesima milesima
    third fourth fifth sixth tenth hundredth millionth umpteenth nth
    """
)
"""Stand for "#" in lexicon phrases ("ya van # veces", "for the # time"), as do numerals
("3", "5th", "10a")."""

EMOJI: dict[str, float] = {
    # negative
    "😡": -3.0,
    "🤬": -3.5,
    "😠": -2.5,
    "😤": -2.0,
    "👎": -2.5,
    "💩": -2.5,
    "😭": -2.0,
    "😢": -2.0,
    "😞": -2.0,
    "😔": -1.5,
    "😒": -1.5,
    "🙄": -1.5,
    "😑": -1.0,
    "😐": -0.5,
    "😩": -2.0,
    "😫": -2.0,
    "😖": -2.0,
    "😣": -1.5,
    "😟": -1.5,
    "☹": -2.0,
    "🙁": -1.5,
    "😕": -1.0,
    "💔": -2.5,
    "😰": -1.5,
    "😨": -1.5,
    "😱": -0.5,
    "🤮": -3.0,
    "🤢": -2.5,
    "🤦": -1.5,
    "😓": -1.5,
    "😥": -1.5,
    "😪": -1.0,
    "😿": -2.0,
    "🖕": -3.0,
    "❌": -1.0,
    "⚠": -0.5,
    "🤡": -1.5,
    "😬": -0.5,
    "😳": -0.5,
    "🥺": -1.0,
    "🥲": -0.5,
    "😴": -0.5,
    "🤯": -1.0,
    "🤨": -0.5,
    "😶": -0.5,
    # positive
    "😀": 2.0,
    "😃": 2.0,
    "😄": 2.0,
    "😁": 2.0,
    "😆": 1.5,
    "😂": 0.5,
    "🤣": 0.5,
    "😊": 2.0,
    "🙂": 1.0,
    "😉": 1.0,
    "😍": 3.0,
    "🥰": 3.0,
    "😘": 2.5,
    "😗": 1.5,
    "😙": 1.5,
    "😚": 2.0,
    "🤩": 3.0,
    "😇": 1.5,
    "😌": 1.0,
    "😋": 1.5,
    "😎": 1.5,
    "🤗": 2.0,
    "☺": 2.0,
    "🥳": 2.5,
    "❤": 2.5,
    "♥": 2.5,
    "💕": 2.5,
    "💖": 2.5,
    "💗": 2.5,
    "💓": 2.5,
    "💞": 2.5,
    "💘": 2.5,
    "💝": 2.5,
    "💙": 2.0,
    "💚": 2.0,
    "💛": 2.0,
    "💜": 2.0,
    "🧡": 2.0,
    "😻": 2.5,
    "👍": 2.0,
    "👌": 1.5,
    "🙏": 0.5,
    "👏": 2.0,
    "🙌": 1.5,
    "💪": 1.5,
    "🎉": 2.5,
    "🎊": 2.5,
    "✨": 1.0,
    "🌟": 1.5,
    "⭐": 1.0,
    "💯": 1.5,
    "✅": 1.0,
    "🌹": 1.5,
    "💐": 1.5,
    "🥂": 1.5,
    "🍾": 1.5,
    "🏆": 1.0,
    "🤝": 1.0,
    "✌": 1.0,
    "🔝": 1.5,
    "😜": 1.5,
    "😝": 1.5,
    "😛": 1.0,
    "🤪": 1.5,
    "😅": 0.5,
    "😏": 0.5,
    "🤘": 1.5,
    "♡": 2.0,
    "💃": 1.5,
    "🕺": 1.5,
    "🌸": 1.0,
    "🌼": 1.0,
    "🌺": 1.0,
    "🌻": 1.0,
    "☀": 1.0,
    "🌞": 1.5,
    "🐐": 1.5,
    "🥇": 1.5,
    "👑": 1.5,
    "😺": 1.5,
    "😸": 1.5,
    "🙋": 0.5,
}
"""Emoji valences (variation selectors and skin tones are stripped before lookup)."""

EMOTICONS: dict[str, float] = {
    ":)": 2.0,
    ":-)": 2.0,
    ":))": 2.5,
    "(:": 2.0,
    "=)": 2.0,
    ":]": 2.0,
    ":d": 2.5,
    ":-d": 2.5,
    "=d": 2.5,
    ":p": 1.0,
    ":-p": 1.0,
    ";)": 1.5,
    ";-)": 1.5,
    "<3": 2.5,
    "^^": 1.5,
    "^_^": 1.5,
    "^-^": 1.5,
    "^.^": 1.5,
    ":3": 1.5,
    ":*": 2.0,
    ":-*": 2.0,
    "*_*": 2.0,
    ":v": 1.0,
    ":,)": 1.0,
    ":(": -2.0,
    ":-(": -2.0,
    ":((": -2.5,
    "):": -2.0,
    "=(": -2.0,
    ":'(": -2.5,
    ":,(": -2.5,
    ";(": -2.0,
    "t_t": -2.0,
    "t.t": -2.0,
    ":s": -1.0,
    ":c": -2.0,
    "d:": -2.0,
    ":/": -1.0,
    ":-/": -1.0,
    ":\\": -1.0,
    ":|": -0.5,
    ">:(": -3.0,
    ":@": -2.5,
    "-_-": -1.5,
    "u_u": -1.5,
    "-.-": -1.5,
    "</3": -2.5,
}
"""Emoticon valences, keyed in lower case."""
