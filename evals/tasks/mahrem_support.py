"""The support-agent format check of the ``mahrem_support_format`` task.

A generated reply passes (``format_ok`` = 1) when all four hold:

* ``non_empty``: at least three words — the model answered rather than closing the turn;
* ``stays_in_turn``: no chat-role markup or speaker label, i.e. the model did not start
  writing the customer's next message itself;
* ``language_match``: the same language (Turkish or English, :func:`detect_language`) as
  the reference reply — customers are answered in their language;
* ``agent_register``: the register of the agents in the training data — a greeting,
  thanks, apology or polite form ("Merhaba", "teşekkür", "… Hanım", "Thank you", "sorry"),
  or the formal address of a support agent: Turkish *siz* forms ("adresinize",
  "yapabilirsiniz") or "we"/"your" in English ("we updated your address").

It is a deliberately simple, transparent check (no model judges a model): it tells whether
the adapter learnt the register of the support chats, not whether the answers are right.
The reference replies of the anonymized holdout pass it at a rate the stage's tests pin.
"""

from __future__ import annotations

import re

from pipeline.scan.language import detect_language

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_ROLE_MARKUP = re.compile(
    r"<\|im_(start|end)\|>|<\|endoftext\|>|^\s*(user|assistant|system|müşteri|customer|agent|temsilci)\s*[:\n]",
    re.IGNORECASE | re.MULTILINE,
)
_COURTESY = re.compile(
    r"merhaba|selam|teşekkür|tesekkur|sağ ?ol|rica ederim|memnuniyet|lütfen|lutfen|özür|ozur|üzgünüz|"
    r"kusura bakma|iyi günler|iyi gunler|iyi akşamlar|hayırlı|sayın|hanım|hanim|\bbey\b|efendim|"
    r"yardımcı ol|yardimci ol|geçmiş olsun|kolay gelsin|"
    r"\bhello\b|\bhi\b|\bdear\b|thank|please|sorry|apolog|glad|happy to|welcome|good (morning|afternoon|evening|day)|"
    r"\bmr\.?\b|\bms\.?\b|\bmrs\.?\b",
    re.IGNORECASE,
)
# "kartınız", "adresinize", "yapabilirsiniz", "ekledik"/"güncelledik" (we-did), and in English
# the agent's "we" and the customer's "you/your".
_FORMAL_ADDRESS = re.compile(
    r"\w*(n[ıiuü]z|s[ıiuü]n[ıiuü]z)\w*|\w+[dt][ıiuü]k\b|\b(we|we've|we'll|we're|you|your|yours)\b",
    re.IGNORECASE,
)


def check_reply(reply: str, reference: str) -> dict[str, int]:
    """The four checks and their conjunction, as 0/1 integers."""
    non_empty = len(_WORD.findall(reply)) >= 3
    stays_in_turn = _ROLE_MARKUP.search(reply) is None
    language_match = non_empty and detect_language(reply) == detect_language(reference)
    agent_register = _COURTESY.search(reply) is not None or _FORMAL_ADDRESS.search(reply) is not None
    return {
        "format_ok": int(non_empty and stays_in_turn and language_match and agent_register),
        "non_empty": int(non_empty),
        "stays_in_turn": int(stays_in_turn),
        "language_match": int(language_match),
        "agent_register": int(agent_register),
    }


def process_results(doc: dict, results: list[str]) -> dict[str, int]:
    """lm-eval hook: ``results`` holds the one generated continuation of ``doc['prompt']``."""
    checks = check_reply(results[0], doc["reference"])
    return {name: checks[name] for name in ("format_ok", "language_match", "agent_register")}
