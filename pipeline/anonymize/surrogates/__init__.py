"""Surrogates: what a personal value becomes when the anonymizer rewrites it.

A package, one module per family of types, and a registry (:mod:`.registry`) from entity
type to the handler that pseudonymizes it. Four operators, all pure and deterministic (no I/O at call time beyond building the name
pools once):

* :func:`pseudonymize` — a *keyed*, *consistent*, *format-preserving* stand-in;
* :func:`mask` — stars over letters and digits, separators kept;
* :func:`generalize` — a coarser value (a year, a province, an operator prefix);
* :func:`placeholder` — a tag such as ``<TCKN>``.

**Keyed.** Every choice :func:`pseudonymize` makes is drawn from
``HMAC-SHA256(key.secret, "mahrem-surrogate" ‖ entity type ‖ canonical value)``, extended in
counter mode when more than 32 bytes are needed. The canonical value is
:func:`~pipeline.fingerprint.normalize` (E.164 for phones, digits for TCKN, ...), made
stricter where a type has a better canonical form: a date is its ISO date, so "12.03.1985"
and "12 Mart 1985" move together; an IP is ``ipaddress``' form; a name is taken token by
token. Without the key the surrogate cannot be derived; the domain prefix keeps these bytes
apart from fingerprints, so a surrogate says nothing about a value's fingerprint either.

**Consistent.** The same key and the same value, however it is spelled, give the same
surrogate in every record and every run; another key gives another surrogate.

**Never a real identifier.** Surrogate TCKN, VKN, IBAN and card numbers fail their checksums;
phone numbers use a prefix that ``phonenumbers`` marks unassigned; IPs are in the RFC 5737 /
RFC 3849 documentation ranges; e-mail goes to RFC 2606 ``example.com``/``example.org``. So a
surrogate is never some real person's number, and the residual scan (which reports only
valid identifiers) does not trip over our own output.

>>> from pipeline.keys import PseudonymKey
>>> k = PseudonymKey(b"k" * 32)
>>> pseudonymize(k, "PERSON", "Ayşe") == pseudonymize(k, "PERSON", "Ayşe Yılmaz").split()[0]
True
>>> from stdnum.tr import tckimlik
>>> tckimlik.is_valid(pseudonymize(k, "TR_NATIONAL_ID", "17291716060").replace(" ", ""))
False
>>> mask("0532 123 45 67", keep_last=2)
'**** *** ** 67'
>>> generalize("DATE_OF_BIRTH", "12 Mart 1985"), generalize("PHONE_NUMBER", "0532 123 45 67")
('1985', '0532 *** ** **')
>>> placeholder("TR_NATIONAL_ID"), placeholder("SPECIAL:HEALTH"), placeholder("NRP")
('<TCKN>', '<SPECIAL>', '<PII>')
"""

from __future__ import annotations

from pipeline.anonymize.surrogates.base import mask, placeholder
from pipeline.anonymize.surrogates.dates import date_year
from pipeline.anonymize.surrogates.generalize import generalize
from pipeline.anonymize.surrogates.identifiers import unassigned_phone_prefixes
from pipeline.anonymize.surrogates.names import english_names, turkish_names
from pipeline.anonymize.surrogates.registry import HANDLERS, Handler, pseudonymize, register

__all__ = [
    "HANDLERS",
    "Handler",
    "date_year",
    "english_names",
    "generalize",
    "mask",
    "placeholder",
    "pseudonymize",
    "register",
    "turkish_names",
    "unassigned_phone_prefixes",
]
