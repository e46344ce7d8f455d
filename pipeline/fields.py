"""Every string a record carries, with a path to it: what scan reads and anonymize rewrites.

Personal data is not only in ``text`` and ``messages[].content``. Exports carry a
``metadata`` object, a message's ``name``, the ``arguments`` of a tool call, and free-form
objects whose *keys* can be values (``{"ali@example.com": "vip"}``). :func:`iter_fields`
yields every string leaf, every JSON integer (a TCKN is often exported as a number) and
every object key, in a fixed order: the conversation text first, then the rest of each
message, then the record's other keys.

Field paths (the ``field`` of a finding, README "Field paths"):

* ``text``, ``messages[2].content`` — the conversation text, as before;
* ``messages[2].name``, ``messages[2].tool_calls[0].function.arguments`` — other message keys;
* ``metadata.customer.email`` — a member of an object, by its key;
* ``metadata.#1`` — a member whose key is not a plain field name (it may itself be personal
  data: an e-mail, a number, a person's name): by its position in the object, 0-based;
* ``metadata.#1@key`` — the key itself (its text), as opposed to its value. Only keys that
  are not plain field names are scanned as text: ``email`` holds no personal data.

A path never contains a value that could be personal data: only plain field names (ASCII
identifiers that are not a known given name or surname and hold no long digit run),
positions and the markers above. The record's ``id`` and ``source`` are not fields: the id
leaves Mahrem only as a keyed hash (:func:`pipeline.fingerprint.record_key`), and the
source is the catalog's name for the data.

>>> data = {"id": "1", "messages": [{"role": "user", "content": "hi", "name": "x"}],
...         "metadata": {"customer": {"email": "a@b.co"}, "ali@b.co": 1}}
>>> [(f.path, f.text) for f in iter_fields(data)]
[('messages[0].content', 'hi'), ('messages[0].name', 'x'), ('metadata.customer.email', 'a@b.co'), ('metadata.#1@key', 'ali@b.co'), ('metadata.#1', '1')]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Keys of the record contract (pipeline.io): not free-form data.
RECORD_KEYS = ("id", "source", "text", "messages")
MESSAGE_KEYS = ("role", "content")
KEY_MARKER = "@key"
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")
_DIGIT_RUN = re.compile(r"\d{3,}")
_KEY_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")

# Where a field is: the keys and indices from the record down, and whether it is the key.
Location = tuple[Any, ...]


@dataclass(frozen=True)
class Field:
    path: str
    text: str
    role: str | None  # the role of the message the field is in, else None
    location: Location
    is_key: bool = False
    is_conversation: bool = False  # text or messages[i].content
    numeric: bool = False  # a JSON integer, scanned as its decimal digits


@functools.lru_cache(maxsize=4096)
def is_plain_key(key: str) -> bool:
    """Whether ``key`` may appear by name in a path (reports): a field name, not a value.

    >>> is_plain_key("email"), is_plain_key("ali@b.co"), is_plain_key("12345678901"), is_plain_key("ahmet_yilmaz")
    (True, False, False, False)
    """
    if not _PLAIN_KEY.fullmatch(key) or _DIGIT_RUN.search(key):
        return False
    from pipeline.lexicons.gazetteer import load_gazetteer
    from pipeline.text import tr_lower

    gazetteer = load_gazetteer()
    for word in _KEY_WORDS.findall(key):
        info = gazetteer.lookup(tr_lower(word))
        # A word that is a name and nothing else ("ahmet", "yilmaz") makes the key a value.
        if info is not None and info.ambiguity is None and len(word) > 2:
            return False
    return True


def _member(path: str, key: str, position: int) -> str:
    segment = key if is_plain_key(key) else f"#{position}"
    return f"{path}.{segment}" if path else segment


def _walk(value: Any, path: str, location: Location, role: str | None) -> Iterator[Field]:
    """Every string, integer and key below ``value``, depth first, without recursion."""
    stack: list[Any] = [(value, path, location)]
    while stack:
        item = stack.pop()
        if isinstance(item, Field):  # an object's key, yielded just before its value
            yield item
            continue
        node, node_path, node_location = item
        if isinstance(node, str):
            yield Field(node_path, node, role, node_location)
        elif isinstance(node, int) and not isinstance(node, bool):
            yield Field(node_path, str(node), role, node_location, numeric=True)
        elif isinstance(node, dict):
            children: list[Any] = []
            for position, (key, child) in enumerate(node.items()):
                child_path = _member(node_path, key, position)
                if not is_plain_key(key):  # a plain field name holds no personal data
                    children.append(Field(child_path + KEY_MARKER, key, role, node_location + (key,), is_key=True))
                children.append((child, child_path, node_location + (key,)))
            stack.extend(reversed(children))
        elif isinstance(node, list):
            stack.extend(reversed([(child, f"{node_path}[{i}]", node_location + (i,)) for i, child in enumerate(node)]))


def iter_fields(data: dict[str, Any]) -> Iterator[Field]:
    """Every field of a validated raw record (:func:`pipeline.io.validate_record`), in order."""
    if "text" in data:
        yield Field("text", data["text"], None, ("text",), is_conversation=True)
    messages = data.get("messages") or []
    for i, message in enumerate(messages):
        yield Field(f"messages[{i}].content", message["content"], message["role"], ("messages", i, "content"), is_conversation=True)
    for i, message in enumerate(messages):
        extra = {k: v for k, v in message.items() if k not in MESSAGE_KEYS}
        for key, value in extra.items():
            # Message keys are schema (name, tool_calls, tool_call_id): by name when plain.
            path = _member(f"messages[{i}]", key, list(message).index(key))
            if not is_plain_key(key):
                yield Field(path + KEY_MARKER, key, message["role"], ("messages", i, key), is_key=True)
            yield from _walk(value, path, ("messages", i, key), message["role"])
    for position, (key, value) in enumerate(data.items()):
        if key in RECORD_KEYS:
            continue
        path = _member("", key, position)
        if not is_plain_key(key):
            yield Field(path + KEY_MARKER, key, None, (key,), is_key=True)
        yield from _walk(value, path, (key,), None)


def conversation_fields(data: dict[str, Any]) -> Iterator[Field]:
    return (f for f in iter_fields(data) if f.is_conversation)


def set_field(data: dict[str, Any], field: Field, value: str) -> None:
    """Write ``value`` at ``field`` in ``data`` (a copy of the record) in place.

    A key is renamed where it stands (the object's order is kept); a number that must
    change becomes the string that replaces it.
    """
    *parents, last = field.location
    node: Any = data
    for step in parents:
        node = node[step]
    if not field.is_key:
        node[last] = value
        return
    if value == last:
        return
    new_key = value
    while new_key in node:  # two keys anonymized to one: keep both values
        new_key += "_"
    items = list(node.items())
    node.clear()
    node.update((new_key if k == last else k, v) for k, v in items)


def remove_field(data: dict[str, Any], field: Field) -> None:
    """Remove the member (or list element) at ``field`` from ``data`` in place."""
    *parents, last = field.location
    node: Any = data
    try:
        for step in parents:
            node = node[step]
    except (KeyError, IndexError, TypeError):
        return  # an enclosing member was removed already
    if isinstance(node, list):
        node[last] = None  # keep the other elements' positions (and paths) stable
    else:
        node.pop(last, None)
