"""Web addresses → ``URL``, tuned for Turkish text and checked against the suffix list.

Presidio's ``UrlRecognizer`` (2.2.366) is a regex over a fixed list of TLDs with no
word boundary after the TLD and ASCII-only host names. On Turkish text that reports
"Cad.No" ("no" is Norway) and "Mah.Ga" (Gabon) inside addresses, "Merhaba.Na" where a
space is missing after a full stop, and cuts "https://www.örnek.com.tr" to
"rnek.com.tr". This recognizer takes a URL as:

* anything after ``http://``, ``https://`` or ``ftp://`` up to a space (0.6);
* a host starting with ``www.`` (0.6);
* a bare lower-case host name whose ending is a public suffix (Public Suffix List,
  https://publicsuffix.org, the snapshot bundled with tldextract, read offline through
  :func:`pipeline.scan.offline.offline_tldextract`), with an optional path (0.5), unless
  the ending is more often a file extension ("rapor.py") or the host is "www." and a
  bare suffix ("www.microsoft": a company name, no site).

Trailing punctuation and a Turkish suffix after an apostrophe ("mahrem.org'a") are not
part of the URL; an e-mail address's domain is not a URL.

>>> recognizer = TrUrlRecognizer()
>>> text = "Detaylar https://www.örnek.com.tr/kvkk?id=3 adresinde, özeti mahrem.org'da."
>>> [(text[r.start:r.end], r.score) for r in recognizer.analyze(text, [])]
[('https://www.örnek.com.tr/kvkk?id=3', 0.6), ('mahrem.org', 0.5)]
>>> recognizer.analyze("Gazi Cad.No:12, Merhaba.Nasılsın, ali@mahrem.org", [])
[]
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.entities import URL
from pipeline.scan.offline import offline_tldextract
from pipeline.scan.recognizers.base import CueRecognizer, Detection

_URL_CHAR = r"[^\s<>\"'`’‘“”]"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
URL_PATTERNS: dict[str, tuple[re.Pattern[str], float]] = {
    "url_with_scheme": (re.compile(rf"(?<![\w@])(?i:https?|ftp)://{_URL_CHAR}+"), 0.6),
    "url_www": (re.compile(rf"(?<![\w.@/-])(?i:www\d{{0,3}})\.{_LABEL}(?:\.{_LABEL})+(?:[/?#:]{_URL_CHAR}*)?"), 0.6),
    "url_bare_host": (
        re.compile(rf"(?<![\w.@/:-])(?:{_LABEL}\.)+{_LABEL}(?![\w@-])(?!\.\w)(?:[/?#]{_URL_CHAR}*)?"),
        0.5,
    ),
}
# Public suffixes that, in running text, are far more often a file extension.
FILE_EXTENSION_SUFFIXES = frozenset({"py", "sh", "md", "rs", "ps", "so", "pl", "pm", "cs", "ai", "zip", "mov", "csv"})
_TRAILING = ".,;:!?)]}"
# "www.microsoft", "www.google": "microsoft" is a (brand) public suffix, so the host parses
# as the domain "www" on it. A "www." prefix says a site name follows; with nothing between
# it and the suffix this is a company name typed web-style, not an address.
_WWW_LABEL = re.compile(r"www\d{0,3}", re.IGNORECASE)


def _trim(url: str) -> str:
    """Drop sentence punctuation after a URL, and an unbalanced closing parenthesis."""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _host(url: str) -> str:
    without_scheme = url.split("://", 1)[-1]
    return re.split(r"[/?#:]", without_scheme, maxsplit=1)[0]


class TrUrlRecognizer(CueRecognizer):
    """Finds URLs with a scheme, a ``www.`` host, or a bare host on a public suffix."""

    ENTITY = URL

    def find(self, text: str) -> Iterator[Detection]:
        if "." not in text:
            return
        taken: list[tuple[int, int]] = []
        for pattern_name, (pattern, score) in URL_PATTERNS.items():
            for match in pattern.finditer(text):
                url = _trim(match.group())
                start, end = match.start(), match.start() + len(url)
                if any(start < taken_end and taken_start < end for taken_start, taken_end in taken):
                    continue
                host = _host(url)
                parts = offline_tldextract()(host)
                suffix = parts.suffix
                if pattern_name == "url_bare_host" and (
                    not suffix
                    or host != host.lower()
                    or suffix in FILE_EXTENSION_SUFFIXES
                    or _WWW_LABEL.fullmatch(parts.domain)
                ):
                    continue
                if pattern_name == "url_www" and not suffix:
                    continue
                taken.append((start, end))
                yield Detection(start, end, score, pattern_name)
