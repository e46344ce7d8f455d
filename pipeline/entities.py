"""The entity and special-category names every stage agrees on (DESIGN.md §3).

Presidio's names are used where Presidio has one; the Turkish identifiers and a few
others are ours. Special categories (KVKK Art. 6 / GDPR Art. 9) are findings whose
``entity_type`` is ``SPECIAL:<CATEGORY>``.
"""

from __future__ import annotations

PERSON = "PERSON"
EMAIL_ADDRESS = "EMAIL_ADDRESS"
PHONE_NUMBER = "PHONE_NUMBER"
IBAN_CODE = "IBAN_CODE"
CREDIT_CARD = "CREDIT_CARD"
IP_ADDRESS = "IP_ADDRESS"
LOCATION = "LOCATION"
ORGANIZATION = "ORGANIZATION"  # an employer or a customer's company: a quasi-identifier
NRP = "NRP"  # nationality, religious or political group (Presidio's name)
DATE_TIME = "DATE_TIME"
URL = "URL"
TR_NATIONAL_ID = "TR_NATIONAL_ID"  # T.C. Kimlik No (TCKN)
TR_TAX_ID = "TR_TAX_ID"  # Vergi Kimlik No (VKN)
TR_LICENSE_PLATE = "TR_LICENSE_PLATE"
ADDRESS = "ADDRESS"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
PASSPORT = "PASSPORT"

ENTITY_TYPES: tuple[str, ...] = (
    PERSON,
    EMAIL_ADDRESS,
    PHONE_NUMBER,
    IBAN_CODE,
    CREDIT_CARD,
    IP_ADDRESS,
    LOCATION,
    ORGANIZATION,
    NRP,
    DATE_TIME,
    URL,
    TR_NATIONAL_ID,
    TR_TAX_ID,
    TR_LICENSE_PLATE,
    ADDRESS,
    DATE_OF_BIRTH,
    PASSPORT,
)

# KVKK Art. 6(1) lists these "özel nitelikli kişisel veriler"; GDPR Art. 9(1) covers the
# same ground (it names trade-union membership, genetic and biometric data, sex life and
# sexual orientation; criminal data sit in Art. 10).
SPECIAL_PREFIX = "SPECIAL:"
SPECIAL_CATEGORIES: tuple[str, ...] = (
    "HEALTH",
    "RELIGION",  # religion, sect, other beliefs
    "PHILOSOPHICAL_BELIEF",
    "POLITICAL_OPINION",
    "ETHNIC_ORIGIN",  # race, ethnic origin
    "SEXUAL_LIFE",  # sex life, sexual orientation
    "CRIMINAL_RECORD",  # criminal convictions, security measures
    "UNION_MEMBERSHIP",  # association, foundation or trade-union membership
    "BIOMETRIC",
    "GENETIC",
    "ATTIRE",  # appearance and dress where it reveals a belief (KVKK: "kılık ve kıyafet")
)


def special_type(category: str) -> str:
    """``"HEALTH"`` → ``"SPECIAL:HEALTH"``; rejects unknown categories."""
    if category not in SPECIAL_CATEGORIES:
        raise ValueError(f"unknown special category {category!r}; known: {', '.join(SPECIAL_CATEGORIES)}")
    return SPECIAL_PREFIX + category


def is_special(entity_type: str) -> bool:
    return entity_type.startswith(SPECIAL_PREFIX)
