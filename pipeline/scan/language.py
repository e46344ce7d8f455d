"""Which language a text field is in: Turkish or English, cheaply.

The scan runs spaCy's English NER only on English text: on Turkish text that model calls
ordinary Turkish words PERSON (Presidio with its defaults flags most PII-free Turkish
records) and costs most of the scan time. Turkish is recognised by its letters (ç ğ ı ö ş ü İ)
and its frequent function words; code-switched text counts as Turkish when either signal
is clear, since the Turkish recognizers handle the Turkish parts and the structured
recognizers run on every text regardless of language.

>>> detect_language("Merhaba, kartım çalındı.")
'tr'
>>> detect_language("Hello, my card was stolen yesterday.")
'en'
>>> detect_language("siparis numaram nedir, kargo ne zaman gelir")
'tr'
"""

from __future__ import annotations

import re

TURKISH = "tr"
ENGLISH = "en"

_TURKISH_LETTERS = re.compile(r"[çğışöüÇĞİŞÖÜ]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Frequent Turkish function words and chat words, ASCII-folded too (people type without
# Turkish letters on phones). None of them is an English word.
_TURKISH_WORDS = frozenset(
    """
    ve veya ile bir bu su şu o ne mi mı mu mü de da ki icin için gibi kadar daha cok çok
    ama fakat ancak ben sen biz siz onlar benim senin bizim sizin var yok degil değil
    evet hayir hayır merhaba tesekkur teşekkür tesekkurler teşekkürler lutfen lütfen
    nasil nasıl neden nerede nereye zaman simdi şimdi hemen bugun bugün yarin yarın
    numara numaram numarasi numarası hesap hesabim hesabım kart kartim kartım siparis
    sipariş siparisim siparişim kargo randevu istiyorum musunuz misiniz miyim olarak
    olan oldu olur icin sayin sayın bey hanım hanim efendim tamam iyi gunler günler
    """.split()
)
_ENGLISH_WORDS = frozenset(
    """
    the and or is are was were be been to of in on for with my your our their this that
    i you we they he she it have has had do does did not can could would should will
    hello hi please thanks thank order card account number address phone
    """.split()
)


def detect_language(text: str) -> str:
    """``"tr"`` or ``"en"`` for one field."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return ENGLISH
    turkish_letters = len(_TURKISH_LETTERS.findall(text))
    turkish_words = sum(w in _TURKISH_WORDS for w in words)
    english_words = sum(w in _ENGLISH_WORDS for w in words)
    if turkish_letters >= 2 or turkish_words >= 2:
        # Mostly-English text with one Turkish name ("Dear Ayşe Öztürk, your order…")
        # stays English: English function words dominate.
        if english_words >= 3 * max(1, turkish_words) and turkish_words <= 1:
            return ENGLISH
        return TURKISH
    if turkish_letters + turkish_words >= 1 and english_words == 0:
        return TURKISH
    return ENGLISH
