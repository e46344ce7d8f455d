"""Personal telephone numbers → ``PHONE_NUMBER``, Turkish and international.

Numbering plans are Google's libphonenumber metadata (``phonenumbers``); Turkey's plan is
the regulator BTK's (https://www.btk.gov.tr/numaralandirma). A number is reported when
``phonenumbers`` finds it with leniency ``VALID`` for region TR — which also takes
"+1 212 555 0101" or "+44 20 7946 0958" — in any of the ways Turkish numbers are
written: 0532 123 45 67, 05321234567, +90 532 123 4567, (0212) 555 12 34,
0 (216) 444 55 66, 532-123-45-67, 0090 532 ….

Numbers that reach an organisation rather than a person are not personal data and are
skipped: call-centre numbers (444 XX XX, "444 0 444"), the non-geographic 0850 / 0800 /
0822 / 0900 ranges, and every toll-free, premium-rate, shared-cost or universal-access
number elsewhere. Emergency short codes (112, 155, 182) are never valid subscriber
numbers, so the matcher does not return them. Digits that are not a mobile number and
carry no trunk "0", "+" or "(" ("4540536920", "212 555 12 34": landlines to the metadata,
as often a tax, order or reference number) need a phone cue ("tel", "telefon", "phone").

>>> recognizer = TrPhoneRecognizer()
>>> text = "Bana 0532 123 45 67'den ulaşın"
>>> [(text[r.start:r.end], r.score) for r in recognizer.analyze(text, [])]
[('0532 123 45 67', 0.75)]
>>> recognizer.analyze("Çağrı merkezi: 444 0 444", [])
[]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher, PhoneNumberType

from pipeline.entities import PHONE_NUMBER
from pipeline.scan.recognizers.base import CueRecognizer, Detection

# Seven or more digits with at most a few separators between them: the shortest valid
# number. The (slow, pure-Python) matcher only sees these runs, with a margin so that it
# still sees a leading "+" or "(" and whether letters touch the number.
_DIGIT_RUN = re.compile(r"\d(?:[\s().\-/+]{0,3}\d){6,}")
_MARGIN = 8


def candidate_windows(text: str) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` windows of ``text`` that may hold a phone number."""
    windows: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        start, end = max(0, run.start() - _MARGIN), min(len(text), run.end() + _MARGIN)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


# Where a new number may start inside a run: a blank before a trunk "0", "+" or "(".
_BEFORE_NEW_NUMBER = re.compile(r"\s+(?=[+(]|0)")


def split_at_trunk_prefixes(window: str) -> list[tuple[int, int]]:
    """Pieces of ``window`` cut before each "0"/"+"/"(" that follows a blank.

    ``PhoneNumberMatcher`` finds nothing in "0532 123 45 67 0533 765 43 21": two numbers
    with only a space between them read as one over-long candidate. Each piece is retried.

    >>> split_at_trunk_prefixes("0532 123 45 67 0533 765 43 21")
    [(0, 14), (15, 29)]
    """
    pieces, start = [], 0
    for blank in _BEFORE_NEW_NUMBER.finditer(window):
        pieces.append((start, blank.start()))
        start = blank.end()
    pieces.append((start, len(window)))
    return [(a, b) for a, b in pieces if b > a]

PUBLIC_NUMBER_TYPES = frozenset(
    {
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
    }
)
# Turkish national-number prefixes of numbers that reach organisations, not people:
# 444 call centres, 0850 (metadata calls it VOIP), 0800 free, 0822 data, 0900 premium.
TR_PUBLIC_PREFIXES = ("444", "850", "800", "822", "900")


def is_public_service_number(number: phonenumbers.PhoneNumber) -> bool:
    """Whether ``number`` reaches an organisation (call centre, free or premium line).

    >>> is_public_service_number(phonenumbers.parse("0850 222 33 44", "TR"))
    True
    >>> is_public_service_number(phonenumbers.parse("0532 123 45 67", "TR"))
    False
    """
    if number.country_code == 90 and str(number.national_number).startswith(TR_PUBLIC_PREFIXES):
        return True
    return phonenumbers.number_type(number) in PUBLIC_NUMBER_TYPES


_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_NANP_GROUPING = re.compile(r"\d{3}([ .\-])\d{3}\1\d{4}")


def _is_bare_landline(match: phonenumbers.PhoneNumberMatch) -> bool:
    """Digits without trunk "0", "+" or "(", compact or grouped, that are not a mobile number.

    "4540536920" is a valid Giresun landline to ``phonenumbers`` but far more often a tax
    or customer number, and "212 555 12 34" or "20 7946 0958" (a number without its trunk
    "0") as often an order or reference number; such a number needs a phone cue ("tel: 212
    555 12 34", "phone 20 7946 0958"). "5321234567" or "532 123 45 67" (a mobile) does not,
    nor a North American number in its usual 3-3-4 grouping ("212-555-0101").

    >>> [_is_bare_landline(m) for m in PhoneNumberMatcher("2125551234; 212 555 12 34; 0212 555 12 34", "TR")]
    [True, True, False]
    >>> [_is_bare_landline(m) for m in PhoneNumberMatcher("2125550101; 20 7946 0958; 212-555-0101", "US")]
    [True, True, False]
    """
    raw = match.raw_string
    if raw[0] in "0+(":
        return False
    if match.number.country_code == 1:
        # NANP numbers have no trunk prefix and are all "fixed line or mobile": only the
        # 3-3-4 grouping ("212-555-0101", "212 555 0101") says phone without a cue.
        return not _NANP_GROUPING.fullmatch(raw)
    return phonenumbers.number_type(match.number) not in _MOBILE_TYPES


# A phone field label ending right before the number: "Phone: ", "Tel.: ", "Cep no: ", "Mobile number - ".
_PHONE_LABEL = re.compile(
    r"(?i)\b(?:tel(?:efon)?|phone|mobile|mob|cell|cep|gsm|fax|faks|whatsapp)\.?"
    r"(?:\s*(?:no|nr|number|numaras[ıi]))?\.?\s*[:\-–]\s*[+(]?$"
)


class TrPhoneRecognizer(CueRecognizer):
    """Finds valid personal phone numbers with ``phonenumbers``' matcher."""

    ENTITY = PHONE_NUMBER
    SCORE = 0.75
    SCORE_WITH_CONTEXT = 0.95
    CUES = (
        "tel",
        "telefon",
        "cep",
        "gsm",
        "numara",
        "arayın",
        "arayabilir",
        "whatsapp",
        "iletişim",
        "faks",
        "fax",
        "phone",
        "mobile",
        "mobil",
        "mob",
        "ph",
        "sms",
        "cell",
        "call",
        "contact",
        "reach me",
        "text me",
    )

    def __init__(
        self,
        supported_language: str = "en",
        regions: Sequence[str] = ("TR",),
        cues: Sequence[str] | None = None,
        name: str | None = None,
    ):
        # Numbers written with "+" or "00" are found whatever the region; add "US", "GB"…
        # to catch national formats of other countries, at the matcher's cost per region.
        self.regions = tuple(regions)
        super().__init__(supported_language=supported_language, cues=cues, name=name)

    def find(self, text: str) -> Iterator[Detection]:
        taken: list[tuple[int, int]] = []
        for window_start, window_end in candidate_windows(text):
            window = text[window_start:window_end]
            matches = self._matches(window, window_start)
            if not matches:
                pieces = split_at_trunk_prefixes(window)
                if len(pieces) > 1:
                    matches = [m for a, b in pieces for m in self._matches(window[a:b], window_start + a)]
            if not matches:
                matches = self._labelled(text, window, window_start)
            for start, end, match, region in matches:
                if is_public_service_number(match.number):
                    continue
                if any(start < taken_end and taken_start < end for taken_start, taken_end in taken):
                    continue
                context = self.has_cue(text, start, end)
                if not context and _is_bare_landline(match):
                    continue
                taken.append((start, end))
                score = self.SCORE_WITH_CONTEXT if context else self.SCORE
                yield Detection(start, end, score, f"phonenumbers_{region}", context)

    def _labelled(self, text: str, window: str, offset: int) -> list[tuple[int, int, phonenumbers.PhoneNumberMatch, str]]:
        """Numbers of a possible length right after a phone field label ("Phone: +44 7700 900318").

        A label says what the digits are, so a number outside the numbering plan as libphonenumber
        knows it (a new range, a fictional one, an unlisted country plan) is still a phone number.
        """
        found = []
        for region in self.regions:
            for match in PhoneNumberMatcher(window, region, leniency=Leniency.POSSIBLE):
                start = offset + match.start
                if _PHONE_LABEL.search(text, max(0, start - 40), start):
                    found.append((start, offset + match.end, match, region))
        return found

    def _matches(self, window: str, offset: int) -> list[tuple[int, int, phonenumbers.PhoneNumberMatch, str]]:
        """``(start, end, match, region)`` for every number the matcher finds in ``window``."""
        return [
            (offset + match.start, offset + match.end, match, region)
            for region in self.regions
            for match in PhoneNumberMatcher(window, region, leniency=Leniency.VALID)
        ]
