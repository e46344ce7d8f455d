"""Turkish postal addresses → ``ADDRESS``.

A Turkish address is a chain of parts, roughly in this order (PTT's address standard,
https://www.ptt.gov.tr, and the National Address Database, UAVT, of the General
Directorate of Population and Citizenship Affairs):
neighbourhood (Mahallesi / Mah. / Mh.), street (Caddesi / Cad. / Cd., Sokak / Sokağı /
Sok. / Sk., Bulvarı / Blv.), building (Sitesi, Apartmanı / Apt., A Blok), number
(No:12, No 10/3), flat (D:5, Daire 3, İç Kapı No 2), floor (Kat:2, 3. Kat), 5-digit
postal code, district / province ("Çankaya/Ankara", "Kadıköy İstanbul").

A span starts at a named part (a name followed by one of the keywords above) and runs
over every part that follows, separated by spaces, commas or one line break. Parts
without a name of their own — "No: 12", "Kat 2", a postal code, a province — never
start an address: "Sipariş No: 12345" and "Kat kat indirim" are not addresses. Two
or more parts score 0.85; a single named part ("Bağdat Caddesi'nde") 0.45, and only
when it is capitalised or its keyword is written out.

>>> recognizer = TrAddressRecognizer()
>>> text = "Adresim: Atatürk Mah. Gazi Cad. No:12 D:5 Çankaya/Ankara'dır."
>>> [(text[r.start:r.end], r.score) for r in recognizer.analyze(text, [])]
[('Atatürk Mah. Gazi Cad. No:12 D:5 Çankaya/Ankara', 0.85)]
>>> text = "Adres: Cumhuriyet Mahallesi Kazım Karabekir Caddesi 128/3 34020 Ataşehir İstanbul."
>>> [text[r.start:r.end] for r in recognizer.analyze(text, [])]
['Cumhuriyet Mahallesi Kazım Karabekir Caddesi 128/3 34020 Ataşehir İstanbul']
>>> recognizer.analyze("Sipariş No: 12345, Kat kat indirim", [])
[]
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.entities import ADDRESS
from pipeline.scan.recognizers.base import CueRecognizer, Detection
from pipeline.scan.recognizers.places import is_place
from pipeline.text import tr_lower

_NOT_LETTER_AFTER = r"(?![^\W\d_])"
# Keywords that make the words before them a named address part. Abbreviations may
# drop their dot. "site" is also the English word and "sitesi" a website ("Trendyol
# sitesinden"), so only the capitalised words count.
_FULL_KEYWORDS = r"mahalle\w*|cadde\w*|sokak\w*|sokağ\w*|bulvar\w*|apartman\w*"
_ABBREVIATIONS = r"mah|mh|cad|cd|sok|sk|blv|bulv|apt"
KEYWORD = re.compile(
    rf"(?<![^\W\d_])(?:(?P<full>(?i:{_FULL_KEYWORDS})|(?:Site|Sitesi\w*|SİTESİ\w*|SITESI\w*){_NOT_LETTER_AFTER}"
    rf"|(?:Street|Avenue|Road|Boulevard|Lane){_NOT_LETTER_AFTER})"
    rf"|(?P<abbr>(?i:{_ABBREVIATIONS}){_NOT_LETTER_AFTER}\.?))"
)
# A word of a part's name: letters, or a number ("1453 Sokak", "123. Sk."); never a keyword.
_KEYWORD_WORD = rf"(?i:{_FULL_KEYWORDS}|{_ABBREVIATIONS}|site|no|kat|daire|blok){_NOT_LETTER_AFTER}"
_NAME_WORD = rf"(?!{_KEYWORD_WORD})(?:[^\W\d_]+|\d+\.?)"
NAME_BEFORE_KEYWORD = re.compile(rf"(?<!\w)(?:{_NAME_WORD}[ \t]+){{1,3}}\Z")
NAMED_PART = re.compile(rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}[ \t]+(?={KEYWORD.pattern})")

# Words that precede an address without being part of its name ("Adresim Atatürk Mah.").
_STOP_PREFIXES = ("adres", "address", "teslimat", "fatura", "kargo", "merhaba", "selam", "ofis", "office")
_STOP_WORDS = frozenset(
    "ev evi evim evimiz ben benim biz bizim sen senin siz sizin o onun bu şu ve ile de da ki mi "
    "iş işyeri işyerim yer yeri home my our your his her their the at in on to of is and".split()
)

_NUMBER = r"\d+[A-Za-z]?(?:[ \t]*/[ \t]*\d+[A-Za-z]?)?(?!\d)"
UNNAMED_PARTS: dict[str, re.Pattern[str]] = {
    "number": re.compile(rf"(?i:no|numara){_NOT_LETTER_AFTER}[ \t]*[:.]?[ \t]*{_NUMBER}"),
    "flat": re.compile(
        rf"(?i:iç[ \t]+kapı(?:[ \t]+no)?|daire|d){_NOT_LETTER_AFTER}[ \t]*[:.]?[ \t]*\d+[A-Za-z]?(?!\d)"
    ),
    "floor": re.compile(
        rf"(?i:kat){_NOT_LETTER_AFTER}[ \t]*[:.]?[ \t]*-?\d+(?!\d)|\d+\.[ \t]*(?i:kat){_NOT_LETTER_AFTER}"
    ),
    "block": re.compile(
        rf"[A-Z]\d?[ \t]*(?i:blok|blk\.?){_NOT_LETTER_AFTER}|(?i:blok){_NOT_LETTER_AFTER}[ \t]*[:.]?[ \t]*[A-Z0-9]+\b"
    ),
    "postal_code": re.compile(r"(?:0[1-9]|[1-7]\d|8[01])\d{3}(?!\d)"),
}
# A bare house number right after a street ("Kazım Karabekir Caddesi 128/3"): 1–4 digits,
# so that a 5-digit postal code is still read as one.
HOUSE_NUMBER = re.compile(r"\d{1,4}[A-Za-z]?(?:[ \t]*/[ \t]*\d{1,4}[A-Za-z]?)?(?![\d.,:]\d)(?!\d)")
STREET_BEFORE = re.compile(
    r"(?<![^\W\d_])(?i:cadde\w*|sokak\w*|sokağ\w*|bulvar\w*|cad|cd|sok|sk|blv|bulv|street|avenue|road)\.?\Z"
)
DISTRICT_SLASH_PROVINCE = re.compile(r"(?P<first>[^\W\d_]+)[ \t]*/[ \t]*(?P<second>[^\W\d_]+)")
WORD = re.compile(r"[^\W\d_]+")
SEPARATOR = re.compile(r"[ \t]*(?:[,;–-][ \t]*)?(?:\n[ \t]*)?")
# Kinds of part that make a lower-case named part believable as an address.
_STRONG_KINDS = frozenset({"named", "number", "postal_code", "place"})


def _name_words(words: list[str]) -> list[str]:
    """The words of a part's name: the run nearest the keyword without a stop word,
    from its first capitalised word on when it has one."""
    kept: list[str] = []
    for word in reversed(words):
        lowered = tr_lower(word)
        if lowered in _STOP_WORDS or lowered.startswith(_STOP_PREFIXES):
            break
        kept.insert(0, word)
    capitalised = [i for i, word in enumerate(kept) if word[0].isupper() or word[0].isdigit()]
    return kept[capitalised[0] :] if capitalised else kept


class TrAddressRecognizer(CueRecognizer):
    """Finds Turkish addresses as chains of named parts, numbers and places."""

    ENTITY = ADDRESS
    SCORE = 0.85
    SCORE_SINGLE_PART = 0.45
    CUES = ()  # the keywords are the evidence; no cue words needed

    def find(self, text: str) -> Iterator[Detection]:
        position = 0
        while True:
            keyword = KEYWORD.search(text, position)
            if keyword is None:
                return
            detection = self._address_at(text, keyword)
            if detection is None:
                position = keyword.end()
            else:
                yield detection
                position = detection.end

    def _address_at(self, text: str, keyword: re.Match[str]) -> Detection | None:
        before = NAME_BEFORE_KEYWORD.search(text, max(0, keyword.start() - 80), keyword.start())
        if before is None:
            return None
        spans = [(m.start(), m.group()) for m in re.finditer(r"\S+", text[before.start() : before.end()])]
        words = _name_words([word for _, word in spans])
        if not words:
            return None
        start = before.start() + spans[len(spans) - len(words)][0]
        capitalised = words[0][0].isupper() or words[0][0].isdigit()
        end = keyword.end()
        kinds = ["named"]
        while True:
            position = SEPARATOR.match(text, end).end()
            part = self._part_at(text, position, capitalised)
            if part is None and STREET_BEFORE.search(text, max(0, end - 16), end):
                house = HOUSE_NUMBER.match(text, position)
                part = ("number", house.end()) if house else None
            if part is None:
                break
            kind, end = part
            kinds.append(kind)
        if len(kinds) == 1:
            if not capitalised or keyword.group("abbr") and not keyword.group().endswith("."):
                return None
            return Detection(start, end, self.SCORE_SINGLE_PART, "tr_address_single_part")
        if not capitalised and not _STRONG_KINDS.intersection(kinds[1:]):
            return None
        return Detection(start, end, self.SCORE, "tr_address")

    @staticmethod
    def _part_at(text: str, position: int, capitalised: bool) -> tuple[str, int] | None:
        """The kind and end of the address part starting exactly at ``position``."""
        named = NAMED_PART.match(text, position)
        if named:
            keyword = KEYWORD.match(text, named.end())
            if keyword:
                return "named", keyword.end()
        for kind, pattern in UNNAMED_PARTS.items():
            match = pattern.match(text, position)
            if match:
                return kind, match.end()
        slash = DISTRICT_SLASH_PROVINCE.match(text, position)
        if slash and (is_place(slash.group("first")) or is_place(slash.group("second"))):
            return "place", slash.end()
        word = WORD.match(text, position)
        # In a capitalised address a place name is capitalised too ("… No:12 merkez ofis" stops).
        if word and is_place(word.group()) and (word.group()[0].isupper() or not capitalised):
            return "place", word.end()
        return None
