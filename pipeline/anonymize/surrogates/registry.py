"""The registry: entity type → the handler that pseudonymizes it, and :func:`pseudonymize` itself."""

from __future__ import annotations

from collections.abc import Callable

from pipeline import entities as E
from pipeline.anonymize.surrogates.base import placeholder
from pipeline.anonymize.surrogates.dates import _date
from pipeline.anonymize.surrogates.identifiers import _card, _email, _iban, _ip, _passport, _phone, _plate, _tckn, _url, _vkn
from pipeline.anonymize.surrogates.names import _person
from pipeline.anonymize.surrogates.places import _address, _location, _organization
from pipeline.keys import PseudonymKey

Handler = Callable[[PseudonymKey, str], "str | None"]
"""``handler(key, value)``: the surrogate for a stripped value, or ``None`` when the value
cannot be read (the caller then writes the type's placeholder)."""

HANDLERS: dict[str, Handler] = {
    E.PERSON: _person,
    E.TR_NATIONAL_ID: _tckn,
    E.TR_TAX_ID: _vkn,
    E.IBAN_CODE: _iban,
    E.CREDIT_CARD: _card,
    E.PHONE_NUMBER: _phone,
    E.EMAIL_ADDRESS: _email,
    E.TR_LICENSE_PLATE: _plate,
    E.PASSPORT: _passport,
    E.DATE_OF_BIRTH: lambda key, value: _date(key, value, E.DATE_OF_BIRTH),
    E.DATE_TIME: lambda key, value: _date(key, value, E.DATE_TIME),
    E.ADDRESS: _address,
    E.IP_ADDRESS: _ip,
    E.URL: _url,
    E.LOCATION: _location,
    E.ORGANIZATION: _organization,
}


def register(entity_type: str, handler: Handler) -> None:
    """Make ``handler`` the pseudonymizer of ``entity_type`` (a custom recognizer's type, say).

    A handler must be deterministic in ``(key, value)`` and must never return the value
    itself; :func:`pseudonymize` answers with the placeholder when it does.
    """
    if not callable(handler):
        raise TypeError(f"the handler for {entity_type!r} must be callable, got {type(handler).__name__}")
    HANDLERS[entity_type] = handler


def pseudonymize(key: PseudonymKey, entity_type: str, value: str) -> str:
    """A keyed, consistent stand-in for ``value`` in the same format (see the module docstring).

    Surrounding whitespace is kept. A type without a surrogate rule (NRP, special
    categories), or a value its rule cannot read (an unparseable date), gets
    :func:`placeholder`. The result never equals the input.
    """
    rule = HANDLERS.get(entity_type)
    core = value.strip()
    if rule is None or not core:
        return placeholder(entity_type)
    start = value.index(core[0])
    new = rule(key, core)
    if new is None or new == core:
        return placeholder(entity_type)
    return value[:start] + new + value[start + len(core) :]
