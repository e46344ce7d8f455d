"""Turkish vehicle registration plates (plaka) → ``TR_LICENSE_PLATE``.

A civilian plate is the province code (01–81), a letter group and a number, under the
Highway Traffic Regulation (Karayolları Trafik Yönetmeliği, Art. 13 and its annex;
https://www.mevzuat.gov.tr/mevzuat?MevzuatNo=4908&MevzuatTur=7): one letter and 4–5
digits, two letters and 3–4 digits, or three letters and 2–3 digits. The letters are
the Latin alphabet without Q, W and X (and never Ç, Ğ, İ, Ö, Ş, Ü). Spaces or dashes
between the parts are optional: "34 ABC 123", "06 A 1234", "35AB123".

Plates are printed in capitals. A capitalised match scores 0.6, 0.85 next to a cue
("plaka", "araç", "plate"); lower- or mixed-case ones ("34 abc 123") only count with a
cue. Letter groups that are units, currencies or model names ("12 TL 500",
"20 GB 128", "11 PRO 64") need a cue and capitals, and so does a plate-shaped code right
after "model", "ürün kodu", "seri no" or "sipariş".

>>> recognizer = TrLicensePlateRecognizer()
>>> [(r.start, r.end, r.score) for r in recognizer.analyze("Aracın plakası 34 ABC 123'tür", [])]
[(15, 25, 0.85)]
>>> recognizer.analyze("Toplam 12 TL 500 kuruş", [])
[]
>>> recognizer.analyze("82 ABC 123", [])  # there is no province 82
[]
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.entities import TR_LICENSE_PLATE
from pipeline.scan.recognizers.base import CueRecognizer, Detection, accepted_matches
from pipeline.text import has_context

_LETTER = "[A-PR-VYZa-pr-vyz]"
_SEP = "[ \\-]?"
PLATE_PATTERN = re.compile(
    r"(?<![\w./-])"
    r"(?P<province>0[1-9]|[1-7]\d|8[01])" + _SEP + "(?:"
    rf"(?P<l1>{_LETTER}){_SEP}\d{{4,5}}"
    rf"|(?P<l2>{_LETTER}{{2}}){_SEP}\d{{3,4}}"
    rf"|(?P<l3>{_LETTER}{{3}}){_SEP}\d{{2,3}}"
    r")(?![\w/-])(?![.,:]\d)"
)

# Letter groups that, between two numbers, are far more often a unit, a currency or a
# product name than a plate; they need a cue.
NOT_PLATE_LETTERS = frozenset(
    {
        "TL", "TRY", "USD", "EUR", "GBP", "YTL",
        "KG", "GR", "MG", "KM", "CM", "MM", "LT", "ML", "CC", "M", "L", "G", "K", "T", "V",
        "GB", "MB", "KB", "TB", "HZ", "MHZ", "GHZ", "KW", "KVA", "MAH", "MP", "DPI", "FPS", "HP", "BAR",
        "DK", "SN", "SA", "AY", "YIL", "GUN", "AM", "PM",
        "NO", "NR", "ADT", "PRO", "MAX", "SE", "GT", "RS", "HD", "FHD", "UHD", "TV", "PC", "LED", "USB",
    }
)


# Words that announce a product or reference code; a plate-shaped code after them needs a plate cue.
PLATE_WORDS = ("plaka", "plate")
CODE_CUES = (
    "model", "ürün", "urun", "kod", "seri", "stok", "sku", "part", "product", "serial", "sipariş", "order",
)  # fmt: skip


class TrLicensePlateRecognizer(CueRecognizer):
    """Finds Turkish civilian plates; needs a cue when the text does not look like a plate."""

    ENTITY = TR_LICENSE_PLATE
    SCORE = 0.6
    SCORE_WITH_CONTEXT = 0.85
    CUES = (
        "plaka",
        "araç",
        "arac",
        "araba",
        "taşıt",
        "ruhsat",
        "plate",
        "vehicle",
        "registration",
    )

    def find(self, text: str) -> Iterator[Detection]:
        def accept(match: re.Match[str]) -> Detection | None:
            letters = match.group("l1") or match.group("l2") or match.group("l3")
            start, end = match.span()
            upper, unit_like = letters.isupper(), letters.upper() in NOT_PLATE_LETTERS
            # "12 tl 500" is a price even next to "araç"; only the word "plaka" itself
            # ("67v2299 plakalı") makes a lower-case unit-like letter a plate.
            if not upper and unit_like and not has_context(text, start, end, PLATE_WORDS, 30, 12):
                return None
            context = self.has_cue(text, start, end)
            if not context and (unit_like or not upper or has_context(text, start, end, CODE_CUES, 30, 0)):
                return None
            return Detection(start, end, self.SCORE_WITH_CONTEXT if context else self.SCORE, "tr_plate", context)

        return accepted_matches(PLATE_PATTERN, text, accept)
