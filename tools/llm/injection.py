"""Prompt-injection signals: text that talks to the bot's instructions instead of the business.

Rules, not a model: a customer message or a knowledge sentence that tells the assistant to
ignore or forget its instructions, reveal its prompt, take on another role, or switch to a
"jailbreak" mode, in Spanish, English (and the German and French of the public test sets).
Tuned for precision: support questions ("ignore my previous message", "I forgot my
password", "¿pueden actuar rápido?") must pass. Measured by `atiende eval injection`.

The responder refuses such customer messages without calling the LLM, and drops such
sentences from knowledge passages before they reach the prompt or an extractive answer.
"""

from __future__ import annotations

import re
import unicodedata

_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"'”’)\]])\s+")

_IGNORE_VERBS = (
    r"ignore|ignoring|disregard|forget|override|bypass|ignora|ignore[ns]?|ignoren|olvida|olvide|"
    r"olviden|olvidate|omite|descarta|ignoriere?n?|vergiss|vergessen|oubliez|oublie|ignorez"
)
_INSTRUCTION_NOUNS = (
    r"instructions?|rules|prompts?|guidelines|directives|directions|restrictions|programming|"
    r"(?:previous|prior|above|earlier) (?:tasks?|messages?|context|conversation|text)|"
    r"everything(?: (?:above|before|else|said|that|you))?|all (?:of )?(?:the )?(?:above|previous|prior)|"
    r"instrucciones|reglas|indicaciones|restricciones|programacion|todo lo (?:anterior|que)|"
    r"lo anterior|todo(?: lo)? (?:de antes|previo)|"
    r"anweisungen|befehle|alles|vorherigen|bisherigen|consignes|toutes les instructions"
)
_PROMPT_NOUNS = (
    r"system prompt|(?:initial|original|hidden|secret|internal) (?:prompt|instructions)|"
    r"(?:your|tus|deine|vos) (?:prompt|instructions|system message|instrucciones|anweisungen)"
    r"(?! (?:de|del|para|for|on|to|about|sobre)\b)|prompt texts?|"
    r"the (?:system )?(?:prompt|instructions) (?:you|that you) (?:were|have been|got)|"
    r"prompt del sistema|mensaje del sistema|instrucciones (?:del sistema|iniciales|internas|"
    r"ocultas|originales)"
)
_REVEAL_VERBS = (
    r"reveal|show|print|repeat|display|output|tell me|give me|share|write out|leak|list|"
    r"what (?:is|are|were)|muestra(?:me)?|mostrar|revela(?:me)?|dime|ensename|imprime|repite|"
    r"escribe|comparte|cual(?:es)? (?:es|son)|zeige?|zeig mir|montre|affiche"
)
_PATTERNS = [
    rf"\b(?:{_IGNORE_VERBS})\b[^.!?\n]{{0,40}}?\b(?:{_INSTRUCTION_NOUNS})\b",
    rf"\b(?:{_REVEAL_VERBS})\b[^.!?\n]{{0,30}}?\b(?:{_PROMPT_NOUNS})\b",
    r"\b(?:you are now|you're now|now you are|from now on,? you\b|i want you to (?:act|pretend)|"
    r"pretend (?:to be|you are|that you)|you will (?:now )?(?:act|play|pretend)|act as (?:an?|my|the)\b|"
    r"role[- ]?play|stay in character|developer mode|dev mode|do anything now|jailbr(?:eak|oken)|"
    r"unfiltered|without (?:any )?(?:restrictions|filters|limits)|no (?:restrictions|filters)|"
    r"(?:new|updated|additional|further) (?:instructions?|rules|task)\s*(?::|-|follow)|your new task|"
    r"(?:beginning|start|top|rest) of (?:this|the|your) prompt|information in the prompt|"
    r"do not (?:look|use) (?:in|at)? ?the documents|system prompt|openai'?s? (?:content )?polic|"
    r"(?:going to|will now) (?:act|pose|pretend)\b|(?:never|don'?t) break character|"
    r"(?:zero|no) (?:restrictions|filters|limits)|uncensored|amoral|simulate \w+ mode|"
    r"from now,? you\b)",
    r"\b(?:a partir de ahora,? (?:eres|seras|actuaras|vas a|responderas)|ahora eres|"
    r"actua como (?:un|una|si)|finge (?:ser|que eres)|haz de cuenta que|hazte pasar por|"
    r"juega el (?:rol|papel)|olvidar todo|modo (?:desarrollador|sin restricciones|dios)|sin (?:restricciones|"
    r"filtros|censura)|nuevas instrucciones\s*:|tu nueva tarea)",
    r"\b(?:du bist (?:jetzt|nun|ab jetzt)|jetzt bist du|tu so,? als|instruktionen|ab jetzt bist du|stell dir vor,? du bist|"
    r"neue aufgabe|agis comme|tu es maintenant|fais comme si)",
    r"(?:^|\n)\s*(?:system|assistant|developer)\s*:|\[/?(?:system|inst)\]|<\|im_(?:start|end)\|>|"
    r"#{2,}\s*(?:instruction|system)",
]
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)
_DAN = re.compile(r"\bDAN\b")
# Only in knowledge documents: a FAQ never talks to "your response"; a customer may ("in your
# reply you said three days").
_ADDRESSES_THE_ASSISTANT = re.compile(
    r"\b(?:in|to|into|within|at the end of) your (?:response|reply|answer|output)\b|"
    r"\b(?:en|a|al final de) (?:tu|su) (?:respuesta|contestacion)\b|"
    r"\btranslate the following\b|\btraduce (?:lo|la|el) siguiente\b|"
    r"\b(?:as an? )?(?:ai|language model|assistant|chatbot),? (?:you )?(?:must|should)\b",
    re.IGNORECASE,
)


def fold(text: str) -> str:
    """Lower case without accents, so one pattern matches "instrucción" and "instruccion"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def looks_like_injection(text: str) -> bool:
    """True when `text` addresses the assistant's instructions, role or prompt."""
    return bool(_INJECTION.search(fold(text)) or _DAN.search(text))


def planted_in_document(text: str) -> bool:
    """Knowledge text that is an instruction to the assistant rather than information."""
    return looks_like_injection(text) or bool(_ADDRESSES_THE_ASSISTANT.search(fold(text)))


def without_injected_sentences(text: str) -> str:
    """`text` minus the sentences that look like instructions to the assistant."""
    if not planted_in_document(text):
        return text
    lines = []
    for line in text.splitlines():
        kept = [s for s in _SENTENCE.split(line) if not planted_in_document(s)]
        if kept:
            lines.append(" ".join(kept))
    return "\n".join(lines)
