"""Normalise text before detection, and map what is found back onto the original.

People (and attackers) write the same identifier in many Unicode forms. Each of these is
the TCKN ``10000000146`` to a reader, and none of them matches a recognizer's ``\\d{11}``:

* full-width digits ``１００００００００１４６`` and other compatibility forms (NFKC folds them);
* Arabic-Indic ``١٠٠٠٠٠٠٠١٤٦`` or other Unicode decimal digits (NFKC keeps them: folded here);
* a zero-width space, a soft hyphen or a bidi mark inside (format characters: removed);
* an e-mail written ``ali [at] example [dot] com`` (de-obfuscated);
* a value percent-encoded in a URL or a form dump, ``ali%40example.com`` (decoded).

:func:`normalize` returns the normalised text and an offset map, so a span found in the
normalised text lands on exactly the original characters that produced it — the
anonymizer replaces those, and nothing of the original form survives.

Base64 is the one encoding that does not map character by character (4 characters carry
3 bytes): :func:`base64_candidates` decodes long base64 runs, and a finding inside the
decoded text becomes a finding on the whole encoded run.

>>> n = normalize("TC: １００\\u200b０００００１４６")
>>> n.text
'TC: 10000000146'
>>> n.original_span(4, 15)
(4, 16)
>>> normalize("ali [at] example [dot] com").text
'ali@example.com'
>>> normalize("plain text").is_identity
True
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import sys
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

# Characters of category Cf (format: zero-width space/joiners, soft hyphen, bidi controls,
# word joiner, BOM…) are invisible and carry nothing a reader sees: removed before detection.
_FORMAT = "Cf"
# Obfuscated "@" and "." in e-mail addresses, English and Turkish ("et", "nokta").
_AT = r"(?:\s*[\[\(\{<]\s*(?:at|@|et)\s*[\]\)\}>]\s*|\s+(?:at|et)\s+)"
_DOT = r"(?:\s*[\[\(\{<]\s*(?:dot|nokta|\.)\s*[\]\)\}>]\s*|\s+(?:dot|nokta)\s+|\.)"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_OBFUSCATED_EMAIL = re.compile(
    rf"(?<![\w.+-])(?P<local>[A-Za-z0-9][A-Za-z0-9._%+-]{{0,63}})(?P<at>{_AT})"
    rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*?{_DOT}[A-Za-z]{{2,24}})(?![\w-])",
    re.IGNORECASE,
)
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# A base64 run long enough to carry an identifier (an 11-digit TCKN encodes to 16 chars).
BASE64_MIN_CHARS = 16
_BASE64 = re.compile(rf"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{{{BASE64_MIN_CHARS},}}={{0,2}}(?![A-Za-z0-9+/=_-])")
# What fraction of a decoded base64 run must be printable text for it to be scanned.
_PRINTABLE_SHARE = 0.9


@dataclass(frozen=True)
class Normalized:
    """Normalised ``text`` with, per character, the original ``[start, end)`` it came from."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @property
    def is_identity(self) -> bool:
        return not self.starts

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters behind normalised ``text[start:end]`` (``end > start``)."""
        if self.is_identity:
            return start, end
        if end <= start:
            position = self.starts[start] if start < len(self.starts) else len(self.original)
            return position, position
        return self.starts[start], self.ends[end - 1]


def _fold_char(char: str) -> str:
    """One character's compatibility (NFKC) form, with Unicode decimal digits folded to ASCII."""
    if unicodedata.category(char) == _FORMAT:
        return ""
    digit = unicodedata.decimal(char, None)
    if digit is not None:
        return str(digit)
    return unicodedata.normalize("NFKC", char)


# What NFKC and digit folding would change: a character that is not NFKC-stable is found
# by unicodedata.is_normalized; format characters and non-ASCII decimal digits by these.
@functools.lru_cache(maxsize=1)
def _format_or_digit() -> re.Pattern[str]:
    """Format characters (category Cf) and non-ASCII decimal digits: built once from unicodedata."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x80, sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) == _FORMAT or unicodedata.decimal(char, None) is not None:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    body = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"[{body}]")


def _needs_folding(text: str) -> bool:
    if text.isascii():
        return False
    return not unicodedata.is_normalized("NFKC", text) or _format_or_digit().search(text) is not None


def _has_obfuscation(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in (" at ", "[at]", "(at)", "{at}", "<at>", "[@]", "(@)", " et ", "[et]", "(et)"))


def normalize(text: str) -> Normalized:
    """NFKC per grapheme, format characters removed, digits folded, e-mails and %XX decoded."""
    identity = Normalized(text, text, (), ())
    if not _needs_folding(text):
        folded = identity
    else:
        folded = _folded(text)
    if "%" in text:
        folded = _rewrite(folded, _PERCENT_RUN, _percent_decoded)
    if _has_obfuscation(folded.text):
        folded = _rewrite(folded, _OBFUSCATED_EMAIL, _email_rewritten)
    return identity if folded.text == text else folded


def _folded(text: str) -> Normalized:
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def emit(chunk: str, start: int, end: int) -> None:
        pieces.append(chunk)
        starts.extend([start] * len(chunk))
        ends.extend([end] * len(chunk))

    i = 0
    while i < len(text):
        # A base character and the combining marks after it normalise together ("i" + U+0307).
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        cluster = text[i:j]
        if j - i == 1:
            emit(_fold_char(cluster), i, j)
        else:
            folded = "".join(_fold_char(c) for c in cluster)
            emit(unicodedata.normalize("NFKC", folded), i, j)
        i = j
    return Normalized(text, "".join(pieces), tuple(starts), tuple(ends))


def _percent_decoded(match: re.Match[str]) -> list[tuple[str, int, int]] | None:
    try:
        decoded = unquote_to_bytes(match.group()).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in decoded):
        return None
    return [(decoded, match.start(), match.end())]


def _email_rewritten(match: re.Match[str]) -> list[tuple[str, int, int]] | None:
    domain = match.group("domain")
    parts = re.split(_DOT, domain, flags=re.IGNORECASE)
    if len(parts) < 2:
        return None
    # " at " alone is everyday English ("meet me at home"): accept it only with a dotted domain.
    # A bare " at " is everyday English ("look at example.com"), a bare " et " everyday
    # Turkish: accept them only with a spelled-out dot ("ali at example dot com").
    at = match.group("at")
    if at.strip().lower() in ("at", "et") and not re.search(r"\b(?:dot|nokta)\b", domain, re.I):
        return None
    out = [(match.group("local"), match.start("local"), match.end("local")), ("@", match.start("at"), match.end("at"))]
    position = match.start("domain")
    for k, piece in enumerate(re.finditer(_DOT, domain, flags=re.IGNORECASE)):
        label_end = match.start("domain") + piece.start()
        out.append((domain[position - match.start("domain") : piece.start()], position, label_end))
        out.append((".", label_end, match.start("domain") + piece.end()))
        position = match.start("domain") + piece.end()
    out.append((domain[position - match.start("domain") :], position, match.end("domain")))
    return out


def _rewrite(normalized: Normalized, pattern: re.Pattern[str], rewrite) -> Normalized:
    """Apply ``rewrite`` to every match of ``pattern`` in the normalised text, keeping the map."""
    text = normalized.text
    matches = list(pattern.finditer(text))
    if not matches:
        return normalized
    starts = list(normalized.starts) if normalized.starts else list(range(len(text)))
    ends = list(normalized.ends) if normalized.ends else list(range(1, len(text) + 1))
    pieces: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    position = 0
    for match in matches:
        replaced = rewrite(match)
        if replaced is None:
            continue
        pieces.append(text[position : match.start()])
        new_starts.extend(starts[position : match.start()])
        new_ends.extend(ends[position : match.start()])
        for chunk, s, e in replaced:
            if not chunk:
                continue
            if len(chunk) == e - s and chunk == text[s:e]:
                pieces.append(chunk)
                new_starts.extend(starts[s:e])
                new_ends.extend(ends[s:e])
            else:  # every new character stands for the whole original run
                pieces.append(chunk)
                new_starts.extend([starts[s]] * len(chunk))
                new_ends.extend([ends[e - 1]] * len(chunk))
        position = match.end()
    pieces.append(text[position:])
    new_starts.extend(starts[position:])
    new_ends.extend(ends[position:])
    return Normalized(normalized.original, "".join(pieces), tuple(new_starts), tuple(new_ends))


@dataclass(frozen=True)
class Decoded:
    """A base64 run of the original text (``start``, ``end``) and the text it decodes to."""

    start: int
    end: int
    text: str


def base64_candidates(text: str) -> list[Decoded]:
    """Base64 (standard or URL-safe) runs of ≥ 16 characters that decode to printable UTF-8.

    Hashes, hex digests and random tokens decode to bytes that are not text and are left
    alone; an encoded e-mail, TCKN or sentence is returned for scanning.
    """
    found = []
    for match in _BASE64.finditer(text):
        run = match.group()
        if run.isdigit() or re.fullmatch(r"[0-9a-fA-F]+", run):
            continue  # a long number or a hex digest, not base64 text
        body = run.rstrip("=")
        padded = body + "=" * (-len(body) % 4)
        try:
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        printable = sum(1 for c in decoded if c.isprintable() or c in "\t\n")
        if decoded.strip() and printable >= _PRINTABLE_SHARE * len(decoded):
            found.append(Decoded(match.start(), match.end(), decoded))
    return found


def variants(value: str) -> list[str]:
    """Common written forms of ``value`` for leak checks: as is, NFKC, digits only, no spaces.

    >>> variants("0532 123 45 67")
    ['0532 123 45 67', '05321234567']
    """
    forms = [value, normalize(value).text, re.sub(r"\D", "", value) if sum(c.isdigit() for c in value) >= 6 else "",
             re.sub(r"\s+", "", value)]
    return [f for f in dict.fromkeys(forms) if f]
