"""Messages built piece by piece, with the offsets of every labelled piece recorded as it goes.

Gold offsets are never found by searching the finished text: a value can occur twice
(the customer types a phone number, the agent repeats it), and a search would label the
wrong one or miss one. Instead a message is the concatenation of *fragments* — plain
strings and :class:`Tagged` pieces — and each tagged piece's ``start``/``end`` is the
length of the text before it.

>>> m = Message("user")
>>> m.fill("Ben {name}, numaram {phone}.", {"name": Tagged("Ayşe", entity_type="PERSON"),
...                                          "phone": Tagged("0532 123 45 67", entity_type="PHONE_NUMBER")})
>>> m.content
'Ben Ayşe, numaram 0532 123 45 67.'
>>> [(s.start, s.end, s.label) for s in m.spans]
[(4, 8, 'PERSON'), (18, 32, 'PHONE_NUMBER')]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Tagged:
    """A piece of text that is gold-labelled: a PII entity or a special-category cue."""

    text: str
    entity_type: str | None = None
    category: str | None = None

    @property
    def label(self) -> str:
        return self.entity_type or f"SPECIAL:{self.category}"


Fragment = Union[str, Tagged, Sequence["Fragment"]]
Slot = Union[Fragment, Callable[[], Fragment]]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    value: str
    entity_type: str | None
    category: str | None

    @property
    def label(self) -> str:
        return self.entity_type or f"SPECIAL:{self.category}"


_SLOT = re.compile(r"\{(\w+)\}")


class Message:
    """One chat message under construction.

    ``transform`` rewrites each piece as it is appended (sloppy chat is lower-cased); it
    receives the piece's entity type so identifiers can be lower-cased the ASCII way.
    """

    def __init__(self, role: str, transform: Callable[[str, str | None], str] | None = None):
        self.role = role
        self._parts: list[str] = []
        self._length = 0
        self.spans: list[Span] = []
        self._transform = transform
        self.used_slots: set[str] = set()

    def add(self, fragment: Fragment) -> None:
        if isinstance(fragment, str):
            self._append(fragment, None)
        elif isinstance(fragment, Tagged):
            start = self._length
            text = self._append(fragment.text, fragment.entity_type or "SPECIAL")
            self.spans.append(Span(start, self._length, text, fragment.entity_type, fragment.category))
        else:
            for piece in fragment:
                self.add(piece)

    def _append(self, text: str, entity_type: str | None) -> str:
        if self._transform is not None:
            text = self._transform(text, entity_type)
        self._parts.append(text)
        self._length += len(text)
        return text

    def fill(self, template: str, slots: Mapping[str, Slot]) -> None:
        """Append ``template`` with each ``{name}`` replaced by its slot.

        A slot may be a callable; it is called only when the template uses it, once per
        use, so two mentions of the same value can be spelled differently.
        """
        for i, piece in enumerate(_SLOT.split(template)):
            if i % 2 == 0:
                if piece:
                    self.add(piece)
                continue
            try:
                slot = slots[piece]
            except KeyError:
                raise KeyError(f"template slot {{{piece}}} has no value; template: {template!r}") from None
            self.used_slots.add(piece)
            self.add(slot() if callable(slot) else slot)

    @property
    def content(self) -> str:
        return "".join(self._parts)

    def __len__(self) -> int:
        return self._length
