"""T.C. Kimlik No (TCKN, Turkish national identification number) → ``TR_NATIONAL_ID``.

Every Turkish citizen has an 11-digit number whose first digit is not zero and whose
last two digits are check digits, issued by the Directorate General of Population and
Citizenship Affairs (NVİ): https://tckimlik.nvi.gov.tr/ . The checksum is
``stdnum.tr.tckimlik``'s.

People write it in one block or grouped as they read it aloud ("123 456 789 50",
"123.456.789.50", "1234 5678 950"); all groupings are accepted. A valid checksum is
strong evidence on its own (1 in 100 random numbers pass), so the value is reported
without a cue (0.9) and with one ("TC", "kimlik", "TCKN", "identity", "ID") at 1.0.
The 11 digits must not be part of a longer run of digits or of digit groups (an IBAN,
a card number).

>>> recognizer = TcKimlikRecognizer()
>>> [(r.start, r.end, r.score) for r in recognizer.analyze("TC kimlik no: 172 917 160 60.", [])]
[(14, 28, 1.0)]
>>> [(r.start, r.end, r.score) for r in recognizer.analyze("Numara 17291716060'dır", [])]
[(7, 18, 0.9)]
>>> recognizer.analyze("TC kimlik no: 17291716050", [])  # wrong check digits
[]
"""

from __future__ import annotations


from stdnum.tr import tckimlik

from pipeline.entities import TR_NATIONAL_ID
from pipeline.scan.recognizers.base import ChecksumRecognizer, digit_run

TCKN_PATTERN = digit_run(11, first="[1-9]")  # never a leading zero


class TcKimlikRecognizer(ChecksumRecognizer):
    """Finds T.C. Kimlik numbers, compact or grouped, that pass the NVİ checksum."""

    ENTITY = TR_NATIONAL_ID
    PATTERNS = (("tckn", TCKN_PATTERN),)
    validate = staticmethod(tckimlik.is_valid)
    SCORE = 0.9
    SCORE_WITH_CONTEXT = 1.0
    CUES = (
        "tc",
        "t.c",
        "tckn",
        "tckimlik",
        "kimlik",
        "kimliğ",
        "kimlig",
        "nüfus",
        "nufus",
        "vatandaşlık",
        "identity",
        "identification number",
        "national id",
        "id",
    )
