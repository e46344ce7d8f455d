"""Record-level name propagation: a person named once in a record is replaced everywhere in it.

The scan finds a name where the evidence is strong ("Ayşe Yılmaz ile görüştüm") and can miss
the same person written again where it is weak: inflected ("Ayşe'nin", "Ayşe’ye"), with an
honorific ("Yılmaz Hanım", "Sayın Yılmaz"), in another case ("AYŞE", "ayşe"), typed without
Turkish letters ("Ayse"), or by the surname or given name alone. Within one record those
mentions are the same person, so :func:`propagate_names` adds a span for each of them.

How it works:

0. **Widen.** A capitalised word right before a PERSON finding, mid-sentence, in the same
   capitalisation and no common word, role, place or brand, is the given name the scan left
   out ("ben de Celilay Can Başaran" when the scan found "Can Başaran"): the finding grows
   by that word (:func:`_extend_findings`).
1. **Learn.** Every PERSON finding of the record that the policy rewrites is split into its
   name words (honorifics such as "Hanım", "Sayın", "Dr." are not name words, initials are
   skipped). Each word is remembered by its spelling-free key (:func:`_key_form`: "AYŞE",
   "ayşe", "Ayse" → "ayse") together with the surrogate that word got in the finding's own
   surrogate (``pseudonymize(key, PERSON, value)``, which replaces a name word by word).
2. **Find.** Every field of the record (:func:`pipeline.fields.iter_fields`: messages'
   contents, text, metadata, keys) is read word by word. A word whose key was learned is a
   mention when it stands alone — a word boundary on both sides; a hyphen or a digit joined
   to it makes it part of another word ("Ayşe-Nur", "ayse85") — optionally followed by an
   apostrophe (' ’ ‘ ` ´ ʼ) and a suffix, which is kept as written ("Ayşe'nin" →
   "<surrogate>'nin"). Suffixes attached without an apostrophe ("Ayşeye") are *not* matched:
   stripping them guesses, and "Ali" + "ye" is the name "Aliye".
3. **Guard.** A mention is skipped when it overlaps a span already chosen for the field
   that the policy rewrites (an address, an e-mail, another name; a kept LOCATION shields
   nothing); when it is shorter than 3 letters, unless the word was itself found as a
   whole name (the scan found "Ay" alone); when it is a common word
   (``pipeline/lexicons/tr_common_words.txt``: "kaya", "deniz", "can") and is neither
   capitalised mid-sentence nor next to an honorific nor followed by an apostrophe suffix
   ("kaya gibi" and a sentence-initial "Kaya gibi" stay, "Kaya Hanım", "Kaya'nın" go);
   when it is written in lower case and is not a Turkish name, unless the scan found it in
   lower case too, in a full name with a word the name lists know ("ürfettin başaran"),
   and it is no English name ("mark", "bill" after "Mark Bill" are English words as often
   as names; a finding "kod geldi", "kod" alone or "Alıcı Haluk Kuday" is a miss of the
   scan, and "kod", "alıcı" are not names to spread). Words a finding took in
   that are roles or greetings and no known name ("Müşteri", "Merhaba";
   ``not_name_words.txt``) are never learned.
4. **Replace.** With the ``pseudonymize`` action the mention gets the *same* surrogate word
   the finding got, in the mention's case ("AYŞE" → upper, "ayşe" → lower) and, when the
   mention lost the Turkish letters the finding had ("Ayse" after "Ayşe"), folded to ASCII. Any
   other action (``replace``, ``mask``, ``redact``) is applied to the mention as usual.
   A finding that is one name word ("Yılmaz Hanım", found alone) also takes the surrogate of
   that word from the full name found in the record, so "Ayşe Yılmaz … Yılmaz Hanım" reads
   as one person after anonymization as before it.

The new spans carry ``recognizer = "propagated_name"``; :func:`pipeline.anonymize.stage.rewrite_field`
counts them as ``PERSON:<action>_propagated`` in the record's actions (and so in the
summary's per-type ``actions``). Everything is a pure function of the record, its findings,
the policy and the pseudonym key: deterministic and keyed.

Known limits: a different person with the same surname in the same record is replaced too
(over-protection, acceptable); a two-letter surname alone ("Ak", "Er") is left unless it
was found alone; a name not in the record's findings at all is not invented here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline import entities as E
from pipeline.anonymize.surrogates import pseudonymize
from pipeline.anonymize.surrogates.base import _apply_shape, _case_shape, _fold, _is_turkish_text, _key_form
from pipeline.anonymize.surrogates.names import _HONORIFICS, _locale_of_name, english_names, turkish_names
from pipeline.fields import Field
from pipeline.keys import PseudonymKey
from pipeline.lexicons import fold, read_words
from pipeline.normalize import normalize as normalize_text
from pipeline.policy import Action, Policy
from pipeline.text import APOSTROPHES, tr_lower, tr_upper

RECOGNIZER = "propagated_name"
# Apostrophes before a Turkish case suffix, plus the modifier letter apostrophe (U+02BC),
# which Python counts as a letter and so must be split off explicitly.
SUFFIX_MARKS = APOSTROPHES + "ʼ"
MIN_LENGTH = 3
_LETTERS = "[^\\W\\d_" + re.escape("ʼ") + "]+"
_WORD = re.compile(_LETTERS)
_SUFFIX = re.compile("[" + re.escape(SUFFIX_MARKS) + "]" + _LETTERS)
_SENTENCE_END = frozenset(".!?…\n")
_JOINERS = frozenset("-‐‑_")


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """The common-word list, in :func:`pipeline.lexicons.fold` form (so "gunes" meets "güneş")."""
    return frozenset(fold(w) for w in read_words("tr_common_words.txt"))


@lru_cache(maxsize=1)
def _not_name_words() -> tuple[frozenset[str], tuple[str, ...]]:
    """Roles and greetings ("müşteri*", "merhaba") never learned as a name word from a finding."""
    words = read_words("not_name_words.txt")
    exact = frozenset(fold(w) for w in words if not w.endswith("*"))
    prefixes = tuple(fold(w[:-1]) for w in words if w.endswith("*"))
    return exact, prefixes


def _not_a_name(word: str) -> bool:
    """A role or greeting ("Müşteri", "Merhaba") that a finding took in, and no known name ("Can", "Veli" stay)."""
    exact, prefixes = _not_name_words()
    folded = fold(word)
    if not (folded in exact or folded.startswith(prefixes)):
        return False
    return not _in_name_lists(word)


@dataclass
class _Known:
    """What the record's findings taught about one name word (by its key form)."""

    surrogate: str | None  # the surrogate word the finding got (pseudonymize), else None
    turkish: bool  # the surrogate was drawn from the Turkish pool (casing rules)
    spelling: str  # the word as the finding wrote it, tr-lower-cased ("ayşe", "ayse")
    from_full_name: bool  # learned from a finding of two or more name words
    known_name: bool  # the finding it was learned from has a word the name lists know
    lower_source: bool  # the finding wrote the word in lower case ("ürfettin başaran")
    role: str  # "given" (a full name's first words), "surname" (its last) or "alone"
    found_alone: bool  # some finding was this word alone


def _in_name_lists(word: str) -> bool:
    form = _key_form(word)
    return any(form in pool.given_keys or form in pool.surname_keys for pool in (turkish_names(), english_names()))


def _is_honorific(word: str) -> bool:
    return _key_form(word.rstrip(".")) in _HONORIFICS


def _name_words(value: str) -> list[tuple[int, int]]:
    """(start, end) of the name words of a PERSON value: letter runs, honorifics and suffixes left out."""
    out = []
    for m in _WORD.finditer(value):
        if m.start() > 0 and value[m.start() - 1] in SUFFIX_MARKS:
            continue  # the suffix of "Ayşe'nin"
        if _is_honorific(m.group()):
            continue
        out.append((m.start(), m.end()))
    return out


def _learn(value: str, surrogate: str | None, known: dict[str, _Known]) -> None:
    words = _name_words(value)
    if not words:
        return
    full = len(words) > 1
    listed = any(_in_name_lists(value[s:e]) for s, e in words)
    mapped: list[str | None] = [None] * len(words)
    if surrogate is not None:
        # The PERSON surrogate replaces each letter run by one name and keeps everything
        # between them, so runs pair up in order when the layout is the same.
        new_words = _name_words(surrogate)
        if len(new_words) == len(words) and _gaps(value, words) == _gaps(surrogate, new_words):
            mapped = [surrogate[s:e] for s, e in new_words]
    for index, ((start, end), new) in enumerate(zip(words, mapped)):
        word = value[start:end]
        if len(word) < 2 or _not_a_name(word):  # initials; "Müşteri" in a bad finding
            continue
        form = _key_form(word)
        entry = _Known(
            surrogate=new,
            turkish=_locale_of_name(word).turkish or _is_turkish_text(new or ""),
            spelling=tr_lower(word),
            from_full_name=full,
            known_name=listed,
            lower_source=word.islower(),
            role=("surname" if index == len(words) - 1 else "given") if full else "alone",
            found_alone=not full,
        )
        prior = known.get(form)
        if prior is None or (full and not prior.from_full_name) or (prior.surrogate is None and new is not None):
            # A full name says which role a word plays ("Yılmaz" the surname), so it wins.
            entry.found_alone = entry.found_alone or (prior is not None and prior.found_alone)
            known[form] = entry
        else:
            prior.found_alone = prior.found_alone or not full


def _gaps(text: str, words: list[tuple[int, int]]) -> list[str]:
    """The text between the name words (separators, honorifics, suffixes): layout to compare."""
    return [text[e:s] for (_, e), (s, _) in zip(words, words[1:])]


def _title(text: str, turkish: bool) -> str:
    if turkish:
        return tr_upper(text[:1]) + tr_lower(text[1:])
    return text[:1].upper() + text[1:].lower()


def shaped(known: _Known, mention: str) -> str:
    """The learned surrogate word written the way ``mention`` is written."""
    assert known.surrogate is not None
    new = known.surrogate
    shape = _case_shape(mention)
    if shape == "as-is" and _case_shape(new) != "as-is":
        new = _title(new, known.turkish)  # learned from "AYŞE YILMAZ", now "Ayşe"
    new = _apply_shape(shape, new, known.turkish)
    if tr_lower(mention) != known.spelling and not _is_turkish_text(mention):
        new = _fold(new)  # "Ayse" for "Ayşe", typed without Turkish letters: answer in kind
    return new


def _sentence_initial(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t\"'“”«»‘’*-–—•>(":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


def _next_word(text: str, end: int) -> str:
    m = _WORD.match(text, len(text) - len(text[end:].lstrip(" \t")))
    return m.group() if m else ""


def _previous_word(text: str, start: int) -> str:
    head = text[:start].rstrip(" \t")
    m = re.search(_LETTERS + r"\.?$", head)
    return m.group() if m else ""


def _is_mention(text: str, start: int, end: int, known: _Known) -> tuple[bool, int]:
    """Whether ``text[start:end]`` (a learned word) is a mention; and where its suffix ends."""
    word = text[start:end]
    before = text[start - 1] if start else ""
    before2 = text[start - 2] if start > 1 else ""
    if before.isalnum() or before == "_":
        return False, end
    if before2.isalnum() and (before in _JOINERS or before in SUFFIX_MARKS or before == "."):
        # "Ayşe-Nur", "Ali'can", "ayse.yilmaz": part of another word — unless "Dr.Yılmaz"
        if not (before == "." and _is_honorific(_previous_word(text, start - 1))):
            return False, end
    stop = end
    suffix = _SUFFIX.match(text, end)
    if suffix:
        stop = suffix.end()
    after = text[stop] if stop < len(text) else ""
    after2 = text[stop + 1] if stop + 1 < len(text) else ""
    if after.isalnum() or after == "_":
        return False, end
    if after2.isalnum() and (after in _JOINERS or after in SUFFIX_MARKS or after == "."):
        return False, end
    if len(word) < MIN_LENGTH and not known.found_alone:
        return False, end
    # Evidence that the word is a name here: an honorific beside it, or a suffix after an
    # apostrophe (Turkish writes one only after a proper noun: "Kaya'nın", not "kaya'nın").
    honorific = (
        stop > end or _is_honorific(_next_word(text, stop)) or _is_honorific(_previous_word(text, start))
    )
    capitalised = word[:1].isupper()
    if fold(word) in common_words() and not honorific:
        if not capitalised or _sentence_initial(text, start):
            return False, end
    if not capitalised and not honorific:
        # Lower case: a Turkish name, or a word of a full name the scan found ("ürfettin
        # başaran", found in lower case); not an English name, an English word as often
        # ("mark", "will"); nor a word the scan took in by mistake ("kod geldi", "Alıcı Haluk").
        form = _key_form(word)
        tr, en = turkish_names(), english_names()
        # A Turkish name in the role the finding gave it: "Alıcı Mehmet Savaş" (a miss that
        # took in "Alıcı", recipient) does not make every "alıcı" a name; "alıcı" is a surname.
        listed = (form in tr.given_keys and known.role != "surname") or (form in tr.surname_keys and known.role != "given")
        if not listed:
            trusted = known.from_full_name and known.known_name and known.lower_source
            if form in en.given_keys or form in en.surname_keys or not trusted:
                return False, end
    return True, stop


@lru_cache(maxsize=1)
def _not_names() -> frozenset[str]:
    """Capitalised words that are places, brands or never names here: no name word to add."""
    words: set[str] = set()
    for name in ("tr_provinces.txt", "tr_places.txt", "brands.txt", "name_stoplist.txt"):
        words.update(fold(w) for w in read_words(name))
    return frozenset(words)


def _adds_to_name(word: str, beside: str) -> bool:
    """Whether ``word``, written right next to the name word ``beside``, is one more word of that name.

    Only in the same capitalised shape ("Celilay" before "Can Başaran", "CELİLAY" before
    "CAN BAŞARAN"), never a greeting, role, honorific, common word, place or brand.
    """
    if len(word) < MIN_LENGTH or _is_honorific(word) or _not_a_name(word):
        return False
    shape = _case_shape(beside)
    if shape == "upper":
        if _case_shape(word) != "upper":
            return False
    elif not (shape == "as-is" and beside[:1].isupper() and word[:1].isupper() and word[1:].islower()):
        return False  # lower-case text: no capital to tell a name from a word
    folded = fold(word)
    return folded not in common_words() and folded not in _not_names()


def _extend_findings(texts: dict[str, str], by_field: dict[str, list[dict[str, Any]]], policy: Policy) -> None:
    """Widen a PERSON finding by the capitalised given name the scan left before it.

    The scan finds "Can Başaran" in "ben de Celilay Can Başaran": a rare given name the name
    lists lack, written in the name's own capitalisation, mid-sentence and separated from it
    by one space, is one more word of the same name. One word at most, to the left only, and
    never at a sentence start, where "Adım Ayşe Yılmaz", "Alıcı Mehmet Savaş" put a
    capitalised ordinary word before a name; nothing another rewritten span holds.
    """
    for path, spans in by_field.items():
        text = texts.get(path)
        if text is None:
            continue
        for index, span in enumerate(spans):
            if span["entity_type"] != E.PERSON or span.get("recognizer") == RECOGNIZER:
                continue
            start, end = span["start"], span["end"]
            words = _name_words(text[start:end])
            if not words or words[0][0] != 0 or start < 2 or text[start - 1] != " ":
                continue
            left = re.search(_LETTERS + "$", text[: start - 1])
            if not left or not _adds_to_name(left.group(), text[start : start + words[0][1]]):
                continue
            before = text[left.start() - 1] if left.start() else ""
            if before.isalnum() or before in _JOINERS or before in SUFFIX_MARKS or before in "._@":
                continue
            if _sentence_initial(text, left.start()):
                continue
            new_start = left.start()
            if any(o is not span and not _kept(o, policy) and new_start < o["end"] and o["start"] < end for o in spans):
                continue
            spans[index] = dict(span, start=new_start)


def _kept(span: dict[str, Any], policy: Policy) -> bool:
    entity = span["entity_type"]
    return not E.is_special(entity) and policy.rule(entity).action is Action.keep


def propagate_names(
    fields: Sequence[Field], by_field: dict[str, list[dict[str, Any]]], policy: Policy, key: PseudonymKey
) -> int:
    """Add a span to ``by_field`` for every mention of a name found elsewhere in the record.

    ``by_field`` holds the record's chosen findings per field path (already filtered by the
    policy's minimum scores); spans are added in place and PERSON findings of one name word
    may get a ``surrogate`` (see the module docstring). Returns the number of spans added.
    """
    if E.PERSON not in policy.entities:
        return 0
    action = policy.rule(E.PERSON).action
    if action is Action.keep:
        return 0
    texts = {f.path: f.text for f in fields}
    _extend_findings(texts, by_field, policy)
    found: list[dict[str, Any]] = []
    for f in fields:
        found.extend(
            sorted((s for s in by_field.get(f.path, ()) if s["entity_type"] == E.PERSON), key=lambda s: s["start"])
        )
    if not found:
        return 0
    known: dict[str, _Known] = {}
    for span in found:
        value = texts[span["field"]][span["start"] : span["end"]].strip()
        surrogate = None
        if action is Action.pseudonymize and not str(span.get("recognizer", "")).startswith(("base64/", "cross_turn/")):
            plain = normalize_text(value).text
            if plain == value:
                surrogate = pseudonymize(key, E.PERSON, value)
        _learn(value, surrogate, known)
    if not known:
        return 0

    # A finding of one name word takes that word's surrogate from the full name in the record.
    if action is Action.pseudonymize:
        for span in found:
            text = texts[span["field"]]
            value = text[span["start"] : span["end"]]
            words = _name_words(value)
            if len(words) != 1 or "surrogate" in span or normalize_text(value).text != value:
                continue
            s, e = words[0]
            entry = known.get(_key_form(value[s:e]))
            if entry is not None and entry.from_full_name and entry.surrogate is not None:
                # A copy: the findings passed in are never changed.
                spans = by_field[span["field"]]
                spans[spans.index(span)] = dict(span, surrogate=value[:s] + shaped(entry, value[s:e]) + value[e:])

    added = 0
    for f in fields:
        text = f.text
        if not any(c.isalpha() for c in text):
            continue
        # Spans the policy keeps (a LOCATION "Aydın") change nothing, so they shield nothing.
        taken = [(s["start"], s["end"]) for s in by_field.get(f.path, ()) if not _kept(s, policy)]
        template = found[0]
        for m in _WORD.finditer(text):
            entry = known.get(_key_form(m.group()))
            if entry is None:
                continue
            start, end = m.start(), m.end()
            if any(start < e and s < end for s, e in taken):
                continue
            ok, _stop = _is_mention(text, start, end, entry)
            if not ok:
                continue
            span = dict(template, field=f.path, start=start, end=end, score=1.0, recognizer=RECOGNIZER)
            span.pop("surrogate", None)
            if action is Action.pseudonymize and entry.surrogate is not None:
                span["surrogate"] = shaped(entry, m.group())
            by_field.setdefault(f.path, []).append(span)
            taken.append((start, end))
            added += 1
    return added
