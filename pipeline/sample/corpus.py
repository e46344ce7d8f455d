"""The `sample` stage: a seeded synthetic chat corpus with gold PII and special-category labels.

``generate_sample`` yields ``(record, labels)`` pairs; ``write_sample`` writes them to two
JSONL files atomically. The same seed gives byte-identical files: every random choice
comes from ``random.Random`` instances seeded from the config (record *i* draws from its
own generator seeded with ``"<seed>:<i>"``), Faker is seeded per record too, and nothing
reads the clock or iterates a set.

How a corpus of ``n`` records is laid out (shares are exact, then shuffled):

* domain — bank 40 %, shop 35 %, clinic 25 %;
* language — English 15 %, Turkish–English code-switched 8 %, Turkish otherwise;
* 15 % PII-free (FAQ-style questions, or a general-talk question about a sensitive topic);
* ≈16 % carry a special-category cue (half the clinic chats, the rest spread over the
  categories the bank and shop can plausibly hear);
* 6 % carry a general-talk sentence about such topics that must *not* be flagged;
* a fifth of the Turkish chats are typed sloppily (all lower case).

Scenarios within a domain are dealt round-robin (reshuffled each round) so that every
entity type appears many times even in a few hundred records.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline import entities as E
from pipeline.io import atomic_write, dumps
from pipeline.text import tr_lower, tr_upper
from pipeline.sample import identifiers as ids
from pipeline.sample.addresses import new_address, spell_address
from pipeline.sample.builder import Fragment, Message, Slot, Tagged
from pipeline.sample.people import (
    EN_MONTHS,
    TR_MONTHS,
    NameSource,
    Person,
    case_suffix,
    email_for,
    new_birth_date,
    spell_date,
)
from pipeline.sample.scenarios import (
    CLOSINGS,
    COMPANIES,
    FIRMS,
    GENERAL_REPLIES,
    GREETINGS_ANON,
    GREETINGS_NAMED,
    PII_FREE,
    SCENARIOS,
    SYSTEM_PROMPTS,
    THANKS,
    Exchange,
    Scenario,
    Templates,
)
from pipeline.sample.special import categories_for, cue_sentence, general_sentence

SOURCE = "sample"

DOMAIN_SHARES = {"bank": 0.40, "shop": 0.35, "clinic": 0.25}
LANG_SHARES = {"en": 0.15, "mix": 0.08, "tr": 0.77}
PII_FREE_SHARE = 0.15
SPECIAL_SHARE = 0.16
CLINIC_SPECIAL_SHARE = 0.5  # of the clinic chats that carry PII
GENERAL_TALK_SHARE = 0.06
SLOPPY_SHARE = 0.2
PROGRESS_EVERY = 50


@dataclass(frozen=True)
class SampleConfig:
    seed: int = 20241129
    n_records: int = 600

    def __post_init__(self) -> None:
        if self.n_records < 1:
            raise ValueError(f"sample.n_records must be at least 1 (got {self.n_records})")


@dataclass(frozen=True)
class SampleResult:
    records: int
    pii_spans: int
    special_spans: int
    records_without_pii: int
    by_type: dict[str, int] = field(default_factory=dict)  # PII types and "SPECIAL:<CATEGORY>", sorted


# ------------------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class _Plan:
    domain: str
    lang: str
    pii_free: bool
    special: str | None  # a special category, or None
    general: bool
    scenario: Scenario


def _quota(rng: random.Random, n: int, shares: dict[str, float]) -> list[str]:
    """``n`` labels in the given shares (largest remainders), shuffled."""
    exact = {k: n * v for k, v in shares.items()}
    counts = {k: int(x) for k, x in exact.items()}
    by_remainder = sorted(shares, key=lambda k: (counts[k] - exact[k], list(shares).index(k)))
    for k in by_remainder[: n - sum(counts.values())]:
        counts[k] += 1
    labels = [k for k in shares for _ in range(counts[k])]
    rng.shuffle(labels)
    return labels


def _flags(rng: random.Random, n: int, share: float) -> list[bool]:
    return [x == "y" for x in _quota(rng, n, {"y": share, "n": 1 - share})]


def _plan(config: SampleConfig) -> list[_Plan]:
    rng = random.Random(config.seed)
    n = config.n_records
    domains = _quota(rng, n, DOMAIN_SHARES)
    langs = _quota(rng, n, LANG_SHARES)
    free = _flags(rng, n, PII_FREE_SHARE)
    general = _flags(rng, n, GENERAL_TALK_SHARE)

    # Special categories: half the clinic chats, then the other domains up to the target.
    with_pii = [i for i in range(n) if not free[i]]
    clinic = [i for i in with_pii if domains[i] == "clinic"]
    others = [i for i in with_pii if domains[i] != "clinic"]
    chosen = rng.sample(clinic, round(len(clinic) * CLINIC_SPECIAL_SHARE))
    chosen += rng.sample(others, min(len(others), max(0, round(n * SPECIAL_SHARE) - len(chosen))))
    special: dict[int, str] = {}
    turn: Counter[str] = Counter()
    for i in sorted(chosen):
        cats = categories_for(domains[i], langs[i])
        if domains[i] == "clinic" and "HEALTH" in cats and rng.random() < 0.7:
            special[i] = "HEALTH"
        else:  # rotate so that every category the domain allows shows up
            key = f"{domains[i]}/{langs[i]}"
            special[i] = cats[turn[key] % len(cats)]
            turn[key] += 1

    decks: dict[str, list[Scenario]] = {d: [] for d in SCENARIOS}
    plans = []
    for i in range(n):
        domain = domains[i]
        if free[i]:
            scenario = PII_FREE[domain]
        else:
            if not decks[domain]:
                decks[domain] = list(SCENARIOS[domain])
                rng.shuffle(decks[domain])
            scenario = decks[domain].pop()
        plans.append(_Plan(domain, langs[i], free[i], special.get(i), general[i], scenario))
    return plans


# ------------------------------------------------------------------------ one conversation

# Which drawn value a slot refers to, so an agent only repeats what was said.
_FAMILY = {
    "first": "name", "hon": "name", "name_dat": "name",
    "tckn_masked": "tckn", "phone_masked": "phone", "card_last4": "card",
}
_FAMILY_PREFIXES = ("other", "doctor")
# What a company has on file or says itself, so the agent may use it unprompted.
_ON_FILE = frozenset({
    "phone", "phone_masked", "email", "card_last4", "tckn_masked", "doctor", "doctor_abl", "doctor_dat", "appt",
    "amount", "company", "callcenter", "emergency", "mhrs",
})
_SLOT = re.compile(r"\{(\w+)\}")


def _family(slot: str) -> str:
    for prefix in _FAMILY_PREFIXES:
        if slot.startswith(prefix):
            return prefix
    return _FAMILY.get(slot, slot)


@lru_cache(maxsize=None)
def _needs(template: str) -> tuple[str, ...]:
    return tuple(_SLOT.findall(template))


def can_say(template: str, mentioned: frozenset[str] | set[str]) -> bool:
    """True when an agent may say ``template`` after the customer has mentioned ``mentioned`` (families)."""
    return all(slot in _ON_FILE or _family(slot) in mentioned for slot in _needs(template))


def mentioned_by(template: str) -> set[str]:
    return {_family(slot) for slot in _needs(template)}


def pick_templates(templates: Templates, lang: str, role: str) -> tuple[str, ...]:
    """The templates for ``lang``; code-switched customers fall back to Turkish, and agents answer them in Turkish."""
    if lang == "mix" and (role != "user" or "mix" not in templates):
        lang = "tr"
    return templates[lang]


_SLOPPY_ASCII = {E.TR_LICENSE_PLATE, E.PASSPORT, E.IBAN_CODE, E.EMAIL_ADDRESS}


def _sloppy(text: str, entity_type: str | None) -> str:
    # Identifiers are lower-cased the ASCII way: a Turkish "ı" inside a plate would no longer be a plate.
    return text.lower() if entity_type in _SLOPPY_ASCII else tr_lower(text)


_TR_DAYS = ("Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma", "Cumartesi", "Pazar")
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DOCTOR_TITLES = ("Dr. ", "Dr. ", "Uzm. Dr. ", "Op. Dr. ", "Prof. Dr. ", "Doç. Dr. ")


class Chat:
    """One conversation: the people and values drawn for it, and the messages built so far."""

    def __init__(self, rng: random.Random, names: NameSource, domain: str, lang: str, sloppy: bool):
        self.rng = rng
        self.names = names
        self.domain = domain
        self.lang = lang
        self.english = lang == "en"
        self.sloppy = sloppy
        self.customer = names.english() if self.english else names.turkish()
        self.messages: list[Message] = []
        self.mentioned: set[str] = set()
        self._values: dict[str, Any] = {}
        self._role = "system"  # who is speaking; only customers type names in capitals or addresses in lower case
        self.slots = self._slots()

    # --- values, drawn once per conversation on first use -----------------------------

    def value(self, key: str) -> Any:
        if key not in self._values:
            self._values[key] = self._draw(key)
        return self._values[key]

    def _draw(self, key: str) -> Any:
        rng = self.rng
        base = key.rstrip("2")
        if base == "tckn":
            return ids.new_tckn(rng)
        if key == "vkn":
            return ids.new_vkn(rng)
        if base == "phone":
            return ids.new_phone(rng)
        if base == "iban":
            return ids.new_iban(rng)
        if base == "card":
            return ids.new_card(rng)
        if base == "plate":
            return ids.new_plate(rng)
        if key == "passport":
            return ids.new_passport(rng)
        if base == "ip":
            return ids.new_ip(rng)
        if key == "address":
            return new_address(rng)
        if key == "dob":
            return new_birth_date(rng)
        if key == "dob2":  # a parent or partner
            return new_birth_date(rng) - dt.timedelta(days=365 * rng.randint(0, 20))
        if key == "dob_child":
            return dt.date(rng.randint(2008, 2022), rng.randint(1, 12), rng.randint(1, 28))
        if key == "email":
            return email_for(rng, self.customer, self.value("dob").year)
        if key == "other":
            return self.names.english() if self.english else self.names.turkish()
        if key in ("doctor", "lawyer"):
            return self.names.turkish()
        if key == "doctor_title":
            return rng.choice(_DOCTOR_TITLES)
        if key == "hon_formal":
            return rng.random() < 0.15
        if key == "firm":
            return rng.choice(FIRMS)
        if key == "amount":
            return rng.randint(150, 45000)
        if key == "order":
            return rng.choice(("KRV", "#", "")) + str(rng.randint(10**8, 10**9 - 1))
        if key == "custno":
            return str(rng.randint(10**7, 10**8 - 1))
        if key == "otp":
            return f"{rng.randint(0, 999999):06d}"
        if key == "appt":
            day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
            return day, rng.randint(8, 16), rng.choice((0, 15, 30, 45))
        raise KeyError(f"no value called {key!r}")

    # --- how people and values are written ---------------------------------------------

    def _apostrophe(self) -> str:
        return "’" if self.rng.random() < 0.1 else "'"

    def _name(self, person: Person, form: str, case: str | None = None) -> Fragment:
        text = {"full": person.full, "first": person.first, "last": person.last}[form]
        if form == "full" and self._role == "user" and self.rng.random() < 0.04:
            text = tr_upper(text)  # form-style "AYŞE YILMAZ"
        tagged = Tagged(text, entity_type=E.PERSON)
        if case is None:
            return tagged
        if person.english or self.english:
            return (tagged, "'s") if case == "genitive" else tagged
        return (tagged, self._apostrophe() + case_suffix(text.split(" ")[-1], case))

    def _hon(self, person: Person, case: str | None = None) -> Fragment:
        """How an agent addresses a person: the honorific is never part of the PERSON span."""
        if person.english:
            if self.rng.random() < 0.3:
                return self._name(person, "first")
            return ("Ms. " if person.female else "Mr. ", Tagged(person.last, entity_type=E.PERSON))
        if person is self.customer and self.value("hon_formal") and case is None:
            return ("Sayın ", Tagged(person.full, entity_type=E.PERSON))
        title = "Hanım" if person.female else "Bey"
        suffix = "" if case is None else self._apostrophe() + case_suffix(title, case)
        return (Tagged(person.first, entity_type=E.PERSON), f" {title}{suffix}")

    def _doctor(self, case: str | None = None) -> Fragment:
        doctor = self.value("doctor")
        return (self.value("doctor_title"), self._name(doctor, "full", case))

    def _relation(self, form: str) -> str:
        female = self.value("other").female
        if self.english:
            return {"rel": "my mother" if female else "my father",
                    "poss": "My mother's" if female else "My father's"}[form]
        return {"rel": "annem" if female else "babam", "cap": "Annem" if female else "Babam",
                "gen": "Annemin" if female else "Babamın", "child": "kızım" if female else "oğlum"}[form]

    def _tag(self, entity_type: str, text: str) -> Tagged:
        return Tagged(text, entity_type=entity_type)

    def _amount(self) -> str:
        amount = self.value("amount")
        return f"{amount:,} TL" if self.english else f"{amount:,} TL".replace(",", ".")

    def _appt(self) -> str:
        day, hour, minute = self.value("appt")
        if self.english:
            return f"{_EN_DAYS[day.weekday()]}, {day.day} {EN_MONTHS[day.month - 1]} at {hour:02d}:{minute:02d}"
        return f"{day.day} {TR_MONTHS[day.month - 1]} {_TR_DAYS[day.weekday()]} {hour:02d}:{minute:02d}"

    def _slots(self) -> dict[str, Slot]:
        rng, v, t = self.rng, self.value, self._tag
        en = self.english
        c = self.customer
        other = lambda: v("other")  # noqa: E731 — drawn only when a template mentions the other person
        return {
            "name": lambda: self._name(c, "full"),
            "first": lambda: self._name(c, "first"),
            "hon": lambda: self._hon(c),
            "name_dat": lambda: self._name(c, "full", "dative"),
            "other": lambda: self._name(other(), "full"),
            "other_first": lambda: self._name(other(), "first"),
            "other_gen": lambda: self._name(other(), "full", "genitive"),
            "other_dat": lambda: self._name(other(), "full", "dative"),
            "other_hon": lambda: self._hon(other()),
            "other_hon_gen": lambda: self._hon(other(), "genitive"),
            "other_rel": lambda: self._relation("rel"),
            "other_rel_cap": lambda: self._relation("cap"),
            "other_rel_gen": lambda: self._relation("gen"),
            "other_rel_poss": lambda: self._relation("poss"),
            "other_child": lambda: self._relation("child"),
            "doctor": lambda: self._doctor(),
            "doctor_abl": lambda: self._doctor("ablative"),
            "doctor_dat": lambda: self._doctor("dative"),
            "lawyer": lambda: ("Av. ", self._name(v("lawyer"), "full")),
            "tckn": lambda: t(E.TR_NATIONAL_ID, ids.spell_tckn(rng, v("tckn"))),
            "tckn2": lambda: t(E.TR_NATIONAL_ID, ids.spell_tckn(rng, v("tckn2"))),
            "tckn_masked": lambda: ids.mask_tckn(v("tckn")),
            "vkn": lambda: t(E.TR_TAX_ID, ids.spell_vkn(rng, v("vkn"))),
            "phone": lambda: t(E.PHONE_NUMBER, ids.spell_phone(rng, v("phone"), en and rng.random() < 0.7)),
            "phone2": lambda: t(E.PHONE_NUMBER, ids.spell_phone(rng, v("phone2"), en and rng.random() < 0.7)),
            "phone_masked": lambda: ids.mask_phone(v("phone")),
            "email": lambda: t(E.EMAIL_ADDRESS, v("email")),
            "dob": lambda: t(E.DATE_OF_BIRTH, spell_date(rng, v("dob"), en)),
            "dob2": lambda: t(E.DATE_OF_BIRTH, spell_date(rng, v("dob2"), en)),
            "dob_child": lambda: t(E.DATE_OF_BIRTH, spell_date(rng, v("dob_child"), en)),
            "address": lambda: t(E.ADDRESS, spell_address(rng, v("address"), en and rng.random() < 0.6,
                                                          casual=self._role == "user")),
            "iban": lambda: t(E.IBAN_CODE, ids.spell_iban(rng, v("iban"))),
            "iban2": lambda: t(E.IBAN_CODE, ids.spell_iban(rng, v("iban2"))),
            "card": lambda: t(E.CREDIT_CARD, ids.spell_card(rng, v("card"))),
            "card2": lambda: t(E.CREDIT_CARD, ids.spell_card(rng, v("card2"))),
            "card_last4": lambda: ids.last4(v("card")),
            "plate": lambda: t(E.TR_LICENSE_PLATE, ids.spell_plate(rng, v("plate"))),
            "plate2": lambda: t(E.TR_LICENSE_PLATE, ids.spell_plate(rng, v("plate2"))),
            "passport": lambda: t(E.PASSPORT, v("passport")),
            "ip": lambda: t(E.IP_ADDRESS, v("ip")),
            "ip2": lambda: t(E.IP_ADDRESS, v("ip2")),
            "firm": lambda: v("firm"),
            "amount": self._amount,
            "order": lambda: v("order"),
            "custno": lambda: v("custno"),
            "otp": lambda: v("otp"),
            "appt": self._appt,
            "company": COMPANIES[self.domain],
            "callcenter": ids.PUBLIC_NUMBERS[self.domain],
            "emergency": ids.PUBLIC_NUMBERS["emergency"],
            "mhrs": ids.PUBLIC_NUMBERS["mhrs"],
        }

    # --- messages -----------------------------------------------------------------------

    def _pick(self, templates: Templates, role: str) -> tuple[str, ...]:
        return pick_templates(templates, self.lang, role)

    def system(self) -> None:
        message = Message("system")
        message.add(self.rng.choice(self._pick(SYSTEM_PROMPTS[self.domain], "system")))
        self.messages.append(message)

    def user(self, templates: Templates, extra: tuple[Fragment, ...] = ()) -> None:
        """A customer turn; ``extra`` sentences (special-category cues, general talk) are appended."""
        self._role = "user"
        message = Message("user", _sloppy if self.sloppy else None)
        template = self.rng.choice(self._pick(templates, "user"))
        message.fill(template, self.slots)
        for sentence in extra:
            message.add(" " if message.content[-1] in ".?!" else ". ")
            message.add(sentence)
        self.mentioned |= mentioned_by(template)
        self.messages.append(message)

    def agent(self, templates: Templates) -> None:
        self._role = "assistant"
        options = [t for t in self._pick(templates, "assistant") if can_say(t, self.mentioned)]
        if not options:
            raise RuntimeError(
                f"no agent reply fits what the customer said ({sorted(self.mentioned)}); fix the scenario templates"
            )
        body = self.rng.choice(options)
        message = Message("assistant")
        # The first reply greets — unless it already addresses the customer by name ("Teşekkürler Ayşe Hanım.").
        if "{hon}" not in body and not any(m.role == "assistant" for m in self.messages):
            greetings = GREETINGS_NAMED if "name" in self.mentioned else GREETINGS_ANON
            message.fill(self.rng.choice(self._pick(greetings, "assistant")), self.slots)
        message.fill(body, self.slots)
        self.messages.append(message)

    def close(self) -> None:
        last = self.messages[-1]
        if last.role == "assistant":
            last.fill(self.rng.choice(self._pick(CLOSINGS, "assistant")), self.slots)


def _conversation(plan: _Plan, rng: random.Random, names: NameSource) -> Chat:
    sloppy = plan.lang != "en" and rng.random() < SLOPPY_SHARE
    chat = Chat(rng, names, plan.domain, plan.lang, sloppy)
    chat.system()
    general = general_sentence(rng, plan.domain, plan.lang) if plan.general else None
    extra: list[Fragment] = []
    if plan.special:
        extra.append(cue_sentence(rng, plan.domain, plan.lang, plan.special))
    if general is not None:
        extra.append(("One more question: " if plan.lang == "en" else "Bir de şunu soracaktım: ") + general)

    if plan.pii_free and general is not None:
        # The sensitive-topic question is the whole conversation.
        chat.user({"tr": (general,), "en": (general,)})
        chat.agent(GENERAL_REPLIES)
        chat.close()
        return chat

    exchanges: list[Exchange] = list(plan.scenario.exchanges)
    keep = 1 if rng.random() < 0.3 else len(exchanges)
    exchanges = exchanges[:keep]
    thanks = keep < 3 and rng.random() < 0.2
    for i, exchange in enumerate(exchanges):
        branch = rng.choice(exchange.branches)
        chat.user(branch.user, tuple(extra) if i == 0 else ())
        chat.agent(branch.agent)
    if thanks:
        chat.user(THANKS.branches[0].user)
        chat.agent(THANKS.branches[0].agent)
    else:
        chat.close()
    return chat


# ------------------------------------------------------------------------------- the stage


def generate_sample(config: SampleConfig) -> Iterator[tuple[dict, dict]]:
    """Yield ``(record, labels)`` for each of ``config.n_records`` conversations, in order."""
    names = NameSource(random.Random(config.seed), config.seed)
    for index, plan in enumerate(_plan(config), start=1):
        record_seed = f"{config.seed}:{index}"
        rng = random.Random(record_seed)
        names.reseed(rng, rng.getrandbits(32))
        chat = _conversation(plan, rng, names)
        record_id = f"sample-{index:05d}"
        pii: list[dict] = []
        special: list[dict] = []
        messages = []
        for i, message in enumerate(chat.messages):
            content = message.content
            messages.append({"role": message.role, "content": content})
            field_name = f"messages[{i}].content"
            for span in message.spans:
                if content[span.start : span.end] != span.value:  # the builder's invariant; cheap to keep honest
                    raise AssertionError(f"{record_id} {field_name}: offsets drifted for a {span.label} span")
                if span.entity_type:
                    pii.append({"field": field_name, "start": span.start, "end": span.end,
                                "type": span.entity_type, "value": span.value})
                else:
                    special.append({"field": field_name, "start": span.start, "end": span.end,
                                    "category": span.category, "value": span.value})
        yield (
            {"id": record_id, "messages": messages, "source": SOURCE},
            {"id": record_id, "pii": pii, "special": special},
        )


def write_sample(
    out_path: Path,
    labels_path: Path,
    config: SampleConfig,
    progress: Callable[[int], None] | None = None,
) -> SampleResult:
    """Write the corpus and its gold labels (JSONL, UTF-8), each file atomically."""
    records = pii_spans = special_spans = without_pii = 0
    by_type: Counter[str] = Counter()
    with atomic_write(out_path) as out, atomic_write(labels_path) as labels_out:
        for record, labels in generate_sample(config):
            out.write(dumps(record) + "\n")
            labels_out.write(dumps(labels) + "\n")
            records += 1
            pii_spans += len(labels["pii"])
            special_spans += len(labels["special"])
            without_pii += not labels["pii"]
            by_type.update(span["type"] for span in labels["pii"])
            by_type.update(E.special_type(span["category"]) for span in labels["special"])
            if progress is not None and records % PROGRESS_EVERY == 0:
                progress(records)
    if progress is not None and records % PROGRESS_EVERY:
        progress(records)
    return SampleResult(
        records=records,
        pii_spans=pii_spans,
        special_spans=special_spans,
        records_without_pii=without_pii,
        by_type=dict(sorted(by_type.items())),
    )
