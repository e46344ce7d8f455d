"""Vergi Kimlik Numarası (VKN, Turkish tax identification number) → ``TR_TAX_ID``.

The 10-digit number the Revenue Administration (Gelir İdaresi Başkanlığı) gives to
companies and to sole traders; its last digit is a check digit
(``stdnum.tr.vkn``): https://ivd.gib.gov.tr/ . One random 10-digit number in ten
passes that check, so a value is only reported next to a cue ("VKN", "vergi no",
"vergi kimlik", "tax id") — without one it is just a number.

>>> recognizer = VergiKimlikRecognizer()
>>> [(r.start, r.end, r.score) for r in recognizer.analyze("Vergi no: 4540536920", [])]
[(10, 20, 0.9)]
>>> recognizer.analyze("Sipariş 4540536920 kargoda", [])  # no cue
[]
>>> recognizer.analyze("VKN 4540536921", [])  # wrong check digit
[]
"""

from __future__ import annotations


from stdnum.tr import vkn

from pipeline.entities import TR_TAX_ID
from pipeline.scan.recognizers.base import ChecksumRecognizer, digit_run

VKN_PATTERN = digit_run(10)


class VergiKimlikRecognizer(ChecksumRecognizer):
    """Finds tax numbers that pass the VKN check digit and stand next to a tax cue."""

    ENTITY = TR_TAX_ID
    PATTERNS = (("vkn", VKN_PATTERN),)
    validate = staticmethod(vkn.is_valid)
    REQUIRES_CUE = True
    SCORE = None  # never without a cue
    SCORE_WITH_CONTEXT = 0.9
    CUES = (
        "vkn",
        "vergi no",
        "vergi num",
        "vergi kimlik",
        "vergi dairesi",
        "vergi numarası",
        "vergi numarasi",
        "tax id",
        "tax number",
        "tax identification",
    )
