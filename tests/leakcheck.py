"""Find planted values in outputs, in the forms people and tools write them (test helper).

The end-to-end test and the no-escape tests plant (or generate) personal values and search
every output for them — never for what the detector found, which would only check the
detector against itself. A value is searched as written, NFKC-normalised with zero-width
characters removed, case-folded with Turkish rules, with its digits only (for values of 6+
digits) and with its spaces removed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from pipeline.normalize import normalize
from pipeline.text import tr_lower


def forms(value: str) -> set[str]:
    """The written forms of ``value`` to look for (each at least 4 characters)."""
    plain = normalize(value).text
    out = {value, plain, tr_lower(plain), re.sub(r"\s+", "", plain), " ".join(plain.split())}
    if sum(c.isdigit() for c in plain) >= 6:
        out.add(re.sub(r"\D", "", plain))
    return {f for f in out if len(f.strip()) >= 4}


def searchable(text: str) -> tuple[str, str, str]:
    """``text`` as is, NFKC + lower-cased (Turkish rules, and plain casefold), and its digit runs."""
    plain = normalize(text).text
    flat = tr_lower(plain) + "\n" + plain.casefold()
    # Digit runs, separators (space, dot, dash, slash) removed, one per line: a value's
    # digits are looked for inside one written number, never across two neighbours.
    runs = (re.sub(r"\D", "", run) for run in re.findall(r"\d(?:[\d \-./]*\d)?", plain))
    return text, flat, "\n".join(runs)


def found_in(value: str, haystack: tuple[str, str, str], *, whole_word: bool = False) -> bool:
    raw, flat, digits = haystack
    for form in forms(value):
        if form.isdigit():
            if len(form) >= 6 and form in digits:
                return True
            continue
        for needle in {tr_lower(form), form.casefold()}:
            if whole_word:
                if re.search(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", flat):
                    return True
            elif needle in flat:
                return True
        if whole_word:
            if re.search(r"(?<!\w)" + re.escape(form) + r"(?!\w)", raw):
                return True
        elif form in raw:
            return True
    return False


def survivors(pairs: Iterable[tuple[str, str, str]], texts: dict[str, str]) -> tuple[Counter, Counter]:
    """(found, total) by type, for ``(record_id, type, value)`` looked for in ``texts[record_id]``.

    Records missing from ``texts`` (dropped) are not counted: nothing of them was written.
    """
    found, total = Counter(), Counter()
    cache: dict[str, tuple[str, str, str]] = {}
    for rid, kind, value in pairs:
        if rid not in texts:
            continue
        haystack = cache.setdefault(rid, searchable(texts[rid]))
        total[kind] += 1
        found[kind] += found_in(value, haystack, whole_word=True)
    return found, total
