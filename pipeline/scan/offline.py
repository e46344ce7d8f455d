"""Presidio's e-mail recognizer without the network.

Presidio's ``EmailRecognizer.validate_result`` calls ``tldextract.extract``, whose default
extractor fetches the Public Suffix List from the internet on first use (and caches it in
the home directory). Mahrem never touches the network, so e-mail validation uses an
extractor built on tldextract's bundled snapshot of the list: ``suffix_list_urls=()``
(nothing to fetch) and ``cache_dir=None`` (nothing written).
"""

from __future__ import annotations

import functools

from presidio_analyzer.predefined_recognizers import EmailRecognizer, UrlRecognizer


@functools.lru_cache(maxsize=1)
def offline_tldextract():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail pattern; the domain is checked against the bundled suffix list."""

    def validate_result(self, pattern_text: str) -> bool:
        return offline_tldextract()(pattern_text).fqdn != ""


def offline_email_recognizer(supported_language: str = "en") -> OfflineEmailRecognizer:
    return OfflineEmailRecognizer(supported_language=supported_language, name="EmailRecognizer")


def offline_url_recognizer(supported_language: str = "en") -> UrlRecognizer:
    """Presidio's URL recognizer (pattern-only: it never calls the network)."""
    return UrlRecognizer(supported_language=supported_language)


def patch_tldextract_offline() -> None:
    """Make every ``tldextract.extract`` call in this process use the bundled snapshot.

    Only for running *Presidio's own default engine* as a benchmark anchor, whose e-mail
    recognizer calls the module-level ``tldextract.extract``.
    """
    import tldextract.tldextract as module

    module.TLD_EXTRACTOR = offline_tldextract()
