"""Special categories of personal data (KVKK Art. 6, GDPR Art. 9 and 10) in Turkish and English.

"Şeker hastasıyım" (I am diabetic) tells a health fact about a person; "diyabet
istatistikleri arttı" (diabetes statistics rose) tells nothing about anyone. Both contain a
health word, so a word list alone would drop half of a support corpus. A finding here is
**a cue plus an attribution signal in the same clause**.

**Cues** live in ``lexicons/special_categories.yaml``, one section per category of
:data:`pipeline.entities.SPECIAL_CATEGORIES`, matched per word on :func:`fold`-ed text
(Turkish lower-casing, then ASCII), with ``*`` for a stem that takes Turkish suffixes. The
finding's span is the cue as written (whole words, up to an apostrophe: "HIV'liyim" →
"HIV"); its type is ``SPECIAL:<CATEGORY>``.

More cues, kept apart for their sources, are read from :data:`EXTRA_CUE_FILES`: clinical
vocabulary (drug INNs, diagnoses, procedures, lab tests, gene symbols) and trade-union names.

**Attribution rules**, tried in order; the first that holds gives the score:

1. ``first_person_suffix`` [0.9] — the cue word itself carries a first-person copula or
   possessive after the stem: "hastasıyım", "diyabetim", "oruçluyum", "hastalığımı",
   "sendika üyesiyim", "Aleviyiz", "sendikamız", "CHP'liyim"; or the word right after the
   cue does on "üye": "Türk Metal üyeliğim"; or the cue is first person as written
   (``first_person: true``: "dinimize", "my faith").
1b. ``record_subject`` [0.8] — the cue follows, within 400 characters of the same paragraph,
   a record's subject: a role noun with a name, initials or an age ("Hasta Ayşe K., 54 y",
   "Pt. John D.", "Sanık A.K.", "Personel Ahmet Yıldız", "Employee" + a spaCy PERSON), or a
   name with an initial and an age/sex ("Zeynep A. (38 K)", "Linda P., 44F"). Clinical notes
   break clauses at every abbreviation, so this rule reads past clause ends, and it holds
   before the topic and hypothetical blocks ("insulin glargine 20 units"). Cues marked
   ``record: true`` (lab tests, "MS", "AF", "LDL") are attributed by this rule only.
2. ``first_person_verb`` [0.85] — one of the next three words is a first-person singular
   verb or predicate standing where a Turkish verb stands (before a comma, a conjunction or
   the clause end): "kemoterapi görüyorum", "ameliyat oldum", "oy verdim", "Müslüman
   olduğum için", "kanser hastasıyım"; not a verb of asking or reading ("kanser hakkında
   bilgi istiyorum").
   A religious cue followed by leave asked in the first person also holds ("cuma namazı
   için izin talep ediyorum").
   An unambiguous first-person ending ("-iyorum", "-iyom", "-acağım", "-mişim") holds
   wherever it stands in the next four words ("oruç tutuyorum hocam"), and so does a
   nominalised first person right after the cue ("taşıyıcısı olduğumu").
2b. ``second_person_addressed`` [0.8] — in Turkish, the cue or one of the next three words is
   second person formal ("üyeliğiniz", "taşımaktasınız") and the text before the cue addresses
   a named reader ("Sayın Ayşe Kaya", "Ali Bey", "Dear Ms Lee").
3. ``third_person_verb`` [0.85] — the cue is the complement of a verb that needs a person:
   "kanser oldu", "diyabet çıktı", "kanser teşhisi kondu", "hüküm giydi", "epilepsisi var".
   In English, a union, party or faith right after "joined (the)" also holds.
4. ``person_reference`` [0.8] — within ten words in the clause: a first-person pronoun
   ("ben", "bende", "benim"), a kinship or care word with a possessive ("annem", "eşimin",
   "oğlu", "hastam", "ailem"), "kendisi", a payroll or membership word with a first-person
   possessive ("bordromda", "maaşımdan", "aidatım"); in an English clause
   I/my/me/he/she/his/her, "our son", or "As a (practising) ..." before the cue. "my", "me", "i" count
   in a clause of any language (none is a Turkish word).
5. ``named_person`` [0.8] — a person name in the clause (:class:`TurkishNameRecognizer`,
   "X Bey/Hanım", and spaCy PERSON entities when the analyzer passes its NLP artifacts).
   Record subjects (rule 1b) also include form and service-note labels ("Ad Soyad:",
   "Müşteri", "Applicant") with a name, and "Full Name, 54," in news and notes.

A clause ends at . ! ? ; or a line break; at most fifteen words either side of the cue are
read, so analysis stays linear in the text.

Blocked: a cue that names a topic, not a condition — followed by "hakkında", "ile ilgili",
"istatistikleri", "taraması", "bölümü", "hastaları", "derneği", "giyim", an address word
("Cami Sk.") (or preceded by English "about") — unless rule 1 holds ("diyabetim hakkında"
is still personal); a capitalised cue inside a person's name ("Prof. Dr. Oruç Kılıç"),
unless the cue ends in an organisation noun ("Zafer Partisi");
and, in hypothetical clauses ("eğer", "ise", "-sa/-se", "if"; not "asked if", not "işe"),
rules 3-5. Cues of one
category side by side become one finding ("Aşkenaz Yahudisi kökenliyim").

Known limits: a pronoun in the clause attributes any cue ("Ben diyabet üzerine tez
yazıyorum" is flagged); English names need spaCy's entities; irony and negation are not
understood (a denial of a condition is still about the condition, and is flagged).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictStr, Tag, TypeAdapter, ValidationError

from pipeline.config import describe_errors, read_yaml
from pipeline.entities import PERSON, SPECIAL_CATEGORIES, special_type
from pipeline.lexicons import fold, lexicon_path
from pipeline.scan.names import TurkishNameRecognizer
from pipeline.text import APOSTROPHES, tr_lower

CUE_FILE = "special_categories.yaml"
# Vocabularies read with it (same syntax); each names its sources in its header.
EXTRA_CUE_FILES = ("special_clinical.yaml", "special_unions.yaml", "special_vocab_extra.yaml")

SCORE_SELF = 0.9
SCORE_VERB = 0.85
SCORE_REFERENCE = 0.8

# --------------------------------------------------------------------------------------
# The cue lexicon

_FORMS = ("fold", "lower", "case")  # fold(): default; tr_lower: `strict`; as written: `case_sensitive`


@dataclass(frozen=True)
class CueWord:
    text: str
    prefix: bool  # written with a trailing "*": Turkish suffixes may follow
    softened: str | None = None  # stem-final k → ğ before a vowel: "agnostik*" → "agnostiğim"
    infix: bool = False  # written "*ektomi*": the word holds it anywhere ("kolesistektomisi")
    capital: bool = False  # written "?" in a case-sensitive phrase: any capitalised word ("of ? origin")

    def matches(self, token: str) -> bool:
        if self.capital:
            return token[:1].isupper()
        if self.infix:
            return self.text in token
        if not self.prefix:
            return token == self.text
        return token.startswith(self.text) or (self.softened is not None and token.startswith(self.softened))


@dataclass(frozen=True)
class Cue:
    category: str
    phrase: str  # as written in the YAML, for explanations
    words: tuple[CueWord, ...]
    exclude: tuple[tuple[CueWord, ...], ...]
    form: str  # one of _FORMS
    lang: str | None  # None, "tr" or "en"
    record_only: bool = False  # attributed only by the record_subject rule (lab tests, "MS", "AF")
    first_person: bool = False  # the cue itself says "my"/"our": "dinimiz*", "my faith"


class CueLexiconError(ValueError):
    """The special-category YAML is malformed; the message names the file and key."""


def _normalise(text: str, form: str) -> str:
    return fold(text) if form == "fold" else tr_lower(text) if form == "lower" else text


def _parse_words(phrase: str, form: str, where: str) -> tuple[CueWord, ...]:
    words = []
    raws = phrase.split()
    for n, raw in enumerate(raws):
        if raw == "?":
            if form != "case" or n == 0:
                raise CueLexiconError(
                    f"{where}: '?' (any capitalised word) needs case_sensitive: true and a fixed first word: {phrase!r}"
                )
            words.append(CueWord("?", False, capital=True))
            continue
        infix = raw.startswith("*")
        if infix and (len(raws) > 1 or not raw.endswith("*") or len(raw) < 6):
            raise CueLexiconError(f"{where}: an infix cue ('*stem*', 4+ letters) must be one word: {phrase!r}")
        prefix = raw.endswith("*")
        text = _normalise(raw.strip("*"), form)
        if not text or not all(ch.isalpha() for ch in text):
            raise CueLexiconError(f"{where}: cue {phrase!r} has a word that is not letters (+ optional '*'): {raw!r}")
        softened = None
        if prefix and form != "case" and len(text) > 3 and text.endswith("k"):
            softened = text[:-1] + ("g" if form == "fold" else "ğ")
        words.append(CueWord(text, prefix, softened, infix))
    if not words:
        raise CueLexiconError(f"{where}: empty cue")
    return tuple(words)


class CueSpec(BaseModel):
    """One entry of ``special_categories.yaml`` written as a mapping (a plain string is ``{cue: …}``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    cue: str
    exclude: list[str] = Field([], alias="not", description="Phrases that, where they hold the cue, are not it.")
    strict: bool = Field(False, description="Match Turkish letters as written (no ASCII fold).")
    case_sensitive: bool = False
    lang: Literal["tr", "en"] | None = None
    first_person: bool = Field(False, description="The cue itself is first person ('dinimiz*', 'my faith').")
    record: bool = Field(
        False, description="Only in a record about a named subject ('Hasta Ayşe K.', 'Pt. John D.'): lab tests, ambiguous abbreviations."
    )


# A cue is a string or a mapping; the discriminator keeps a wrong entry to one error, not one per form.
_CueEntry = Annotated[
    Annotated[StrictStr, Tag("~text")] | Annotated[CueSpec, Tag("~mapping")],
    Discriminator(lambda value: "~text" if isinstance(value, str) else "~mapping"),
]
_CueFile = TypeAdapter(dict[str, list[_CueEntry]])


def load_cues(path: Path | None = None, *, extra: bool = True) -> tuple[Cue, ...]:
    """Parse and validate the cue lexicon; errors name the file, the category and the entry.

    Without ``path`` the default lexicon is read together with :data:`EXTRA_CUE_FILES`
    (vocabularies kept apart for their sources; they may cover only some categories).
    """
    if path is None:
        cues = _load_cue_file(lexicon_path(CUE_FILE), require_all=True)
        if extra:
            seen = {(c.category, c.form, c.words) for c in cues}
            for name in EXTRA_CUE_FILES:
                for cue in _load_cue_file(lexicon_path(name), require_all=False):
                    if (cue.category, cue.form, cue.words) not in seen:
                        seen.add((cue.category, cue.form, cue.words))
                        cues += (cue,)
        return cues
    return _load_cue_file(path, require_all=True)


def _load_cue_file(path: Path, require_all: bool) -> tuple[Cue, ...]:
    try:
        data = _CueFile.validate_python(read_yaml(path, error=CueLexiconError))
    except ValidationError as exc:
        raise CueLexiconError(f"{path}: not a cue lexicon (category → list of cues):\n{describe_errors(exc)}") from None
    unknown = sorted(set(data) - set(SPECIAL_CATEGORIES))
    if unknown:
        raise CueLexiconError(f"{path}: unknown categories {unknown}; known: {', '.join(SPECIAL_CATEGORIES)}")
    missing = [c for c in SPECIAL_CATEGORIES if not data.get(c)]
    if missing and require_all:
        raise CueLexiconError(f"{path}: no cues for {missing}; every special category needs a section")
    cues: dict[tuple[str, str, tuple[CueWord, ...]], Cue] = {}
    for category in SPECIAL_CATEGORIES:
        for i, entry in enumerate(data.get(category) or ()):
            where = f"{path}: {category}[{i}]"
            spec = CueSpec(cue=entry) if isinstance(entry, str) else entry
            form = "case" if spec.case_sensitive else "lower" if spec.strict else "fold"
            words = _parse_words(spec.cue, form, where)
            cue = Cue(
                category=category,
                phrase=spec.cue,
                words=words,
                exclude=tuple(_parse_words(x, form, where) for x in spec.exclude),
                form=form,
                lang=spec.lang,
                record_only=spec.record,
                first_person=spec.first_person,
            )
            cues.setdefault((category, form, words), cue)  # the same cue listed for tr and en
    return tuple(cues.values())


# --------------------------------------------------------------------------------------
# Attribution vocabulary, all on fold()-ed words

_CASE = r"(?:[iu]|y[iu]|[ae]|y[ae]|n[iu]n|[iu]n|d[ae]|t[ae]|d[ae]n|t[ae]n|l[ae]|yl[ae]|d[iu]r|c[ae]|ken)?"
# Rule 1: first-person copula or possessive right after the cue's stem.
_SELF_SUFFIX = re.compile(
    r"(?:(?<=[aeiou])m|[iu]m|(?<=[aeiou])m[iu]z|[iu]m[iu]z|y[iu]m|y[iu]z|"
    r"[dt][iu]m|[dt][iu]g[iu]m|y[iu]d[iu]m|l[iu]y[iu]m)" + _CASE + "$"
)
# Rule 3 with "var": a third-person possessive on the cue ("kanseri var", "epilepsisi var").
_THIRD_POSSESSIVE = re.compile(r"(?:(?<=[aeiou])s[iu]|(?<![aeiou])[iu])$")
# Rule 2: first-person singular verb or predicate.
# (The aorist -(ı)rım and bare -(ı)m are left out: "indirim", "yatırım", "kullanım" are nouns.)
_FIRST_SINGULAR = re.compile(
    r"(?:yor[iu]m|[dt][iu]m|[ae]c[ae]g[iu]m|m[iu]s[iu]m|mal[iu]y[iu]m|mel[iu]y[iu]m|"
    r"y[iu]m|[dt][iu]g[iu]m(?:[iu]|[ae]|d[ae]n|[iu]n|l[ae])?|degil[iu]m|y[iu]d[iu]m)$"
)
_NOT_FIRST_SINGULAR = frozenset("yorum tutum giyim yardim adim kadim satim bodrum koyum".split())
# A Turkish verb ends its clause: it must be followed by a comma, the clause end or a conjunction.
_AFTER_VERB = frozenset("ve ama fakat ancak cunku icin diye ki veya yani ya and but because so".split())
_ASKING_VERBS = tuple(
    "ist sor ogren arastir merak oku duy bak incele izle dinle ari ara bil dusun yaz anla tani hatirla "
    "bekl anlat bul".split()
)
_THIRD_PERSON_VERBS = frozenset(
    "oldu olmus oluyor olmustu cikti cikmis kondu konuldu konmus basladi gordu goruyor gormus kullaniyor "
    "aliyor tutuyor kiliyor giydi giymis yatti yatiyor yatmis geciriyor gecirdi yasiyor cekiyor".split()
)
_HAS = frozenset({"var", "vardi", "varmis"})
_DIAGNOSIS_NOUNS = frozenset({"teshisi", "tanisi", "tedavisi", "hastasi", "hastaligi", "mutasyonu"})
_TOPIC_AFTER = tuple(
    "hakkinda ilgili konusunda konulu istatistik arastirma kampanya tarama sigorta bolum merkez unite "
    "poliklinik klinik hastane haftasi gunu farkindalik vakf vakif dernek derneg bagis uzman oran vaka "
    "hastalar statistic rate awareness research ward wing department screening insurance campaign "
    "clinic center centre unit foundation association patients cases specialist charity program "
    "policy service coverage giyim moda kategori urun magaza koleksiyon yakin karsi arkasi civar sokag "
    "cadde mahalle durag bina near opposite street road building deri menu secenek yemek tarif "
    "product option food leather recipe restaurant cihaz fiyat stok price device hall headquarter mortgage "
    "finance banking".split()
)
_PREPOSITIONS = frozenset("for at with in of from by to on".split())
_TOPIC_AFTER_EXACT = frozenset("sk sok cd cad mah mh apt".split())  # "Cami Sk. No: 48" is an address
_TOPIC_BEFORE = frozenset({"about", "regarding", "concerning"})
_AS_A = re.compile(r"\b(?:as|being)\s+an?\b(?:\s+\w+)?$")
_HYPOTHETICAL_WORDS = frozenset({"eger", "sayet", "diyelim", "if", "unless", "whether"})  # on fold()-ed words
_HYPOTHETICAL_ISE = "ise"  # on the tr_lower-ed word: folded "işe" (to work) would read as "ise" (if)
# On tr_lower-ed words: folded "ayse" (Ayşe) would look like "-yse" (hamileyse).
_HYPOTHETICAL_SUFFIX = re.compile(r"(?:[ıiuü]rs[ae]|[ae]rs[ae]|ys[ae](?:m|n|k|n[ıiuü]z)?|s[ae]yd[ıiuü])$")
_GENERIC_SUBJECTS = frozenset({"herkes", "insanlar", "kimse", "everyone", "people", "nobody"})

_FIRST_PERSON = frozenset(
    "ben benim bana beni bende bendeki benden kendim kendimi kendime kendimde kendisi kendisinin kendisine "
    "kendisinde".split()
)
_KINSHIP = re.compile(
    r"^(?:(?:anne|baba|es|kiz|ogl|kardes|abla|abi|agabey|teyze|dayi|amca|hala|dede|nine|babaanne|anneanne|"
    r"aile|koca|nisanli|sevgili|arkadas|komsu|cocug|bebeg|torun|yegen|kuzen|kayinvalide|kayinpeder|kaynana|"
    r"gorumce|baldiz|eniste|yenge)(?:[iu]?m(?:[iu]z)?|[iu]?n(?:[iu]z)?|s?[iu])"
    r"|(?:hasta|danisan)(?:[iu]?m(?:[iu]z)?))" + _CASE + "$"
)
# A first-person possessive on a payroll or membership word: "bordromda", "maaşımdan", "aidatım".
_OWN_RECORD = re.compile(
    r"^(?:bordro|maas|ucret|aidat|kesinti|uyelig|sicil|kayd|dosya|sozlesme|sonuc|rapor|tahlil)(?:[iu]?m(?:[iu]z)?)" + _CASE + "$"
)
# A first-person participle in the clause: "CHP il örgütüne yaptığım bağış", "kemoterapi gördüğüm hastane"
# (not a verb of asking, reading or knowing: "bildiğim kadarıyla", "okuduğum makalede").
_FIRST_PARTICIPLE = re.compile(r"[dt][iu]g[iu]m" + _CASE + "$")
# Asking for leave for a practice reveals it: "cuma namazı için izin talep ediyorum".
_LEAVE_WORDS = ("izin", "izn")

# Rule 1b (record_subject): a record about one identifiable subject — a role noun with a name,
# initials or an age ("Hasta Ayşe K.", "Pt. John D.", "Sanık A.K.", "Employee Sarah Collins"),
# or a name with an initial and an age/sex ("Zeynep A. (38 K)", "Linda P., 44F").
_UP, _LOW = "A-ZÇĞİÖŞÜ", "a-zçğıöşü"
_ROLE = (
    r"(?:Hasta|HASTA|hasta|Hst|Pt|PT|pt|Patient|PATIENT|patient|Sanık|SANIK|sanık|Şüpheli|şüpheli|Hükümlü|"
    r"hükümlü|Tutuklu|Defendant|defendant|Personel|personel|Çalışan|Employee|Danışan|danışan|"
    # forms and service notes name their subject too: "Ad Soyad: Ayşe Kaya", "Müşteri Ali Demir"
    r"Ad Soyad|Adı Soyadı|Ad Soyadı|AD SOYAD|Ad(?=\s*:)|Müşteri|müşteri|Customer|customer|Applicant|applicant|"
    r"Başvuran|Aday|Öğrenci|Veli|Client|client)"
)
_AGE = r"\(?\s*\d{1,3}\s*(?:y\b|yo\b|y/o|yaş|yas\b|years?[- ]old|-year-old|[EKMF]\b|\)|,)"
_AGE_UNIT = re.compile(r"\d\s*[^\W\d_]")  # "54 y", "44F", "47 yaş": not a bare "25,"
_SUBJECT_NAME = rf"(?:[{_UP}]\.\s?[{_UP}]\.|[{_UP}][{_LOW}]+(?:\s+[{_UP}](?:[{_LOW}]+|\.))?)"
_ROLE_SUBJECT = re.compile(
    rf"\b{_ROLE}\b\.?\s*(?:adı\s*)?:?\s*(?P<name>{_SUBJECT_NAME})?\s*,?\s*(?P<age>{_AGE})?"
)
_NAMED_AGE = re.compile(
    rf"\b(?:[{_UP}]\.\s?[{_UP}]\.|[{_UP}][{_LOW}]+\s+[{_UP}]\.)\s*,?\s*{_AGE}"
    # news and notes: "Rhodri Penberthy, 54, ..." (a full name, then the age between commas)
    rf"|\b[{_UP}][{_LOW}]+\s+[{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)?,\s*\d{{1,3}}(?:,|\s?(?:[EKMF]|y|yo|yaş)\b)"
)
_MAY_HOLD_SUBJECT = re.compile(rf"{_ROLE}|[{_UP}]\.|,\s*\d{{1,3}}(?:,|\s?[EKMFy])")  # a quick pass before the full patterns
_RECORD_REACH = 400  # characters from a record's subject to a cue about them, within a paragraph
_ENGLISH_STRONG = frozenset(
    "the are was were have had my i with and of to for this that not been be it you we they she he his me our "
    "your do does did will would can an at from by or what how when there their them into than who which "
    "through every after before about just also".split()
)
_ENGLISH_WEAK = frozenset({"is", "on", "her", "in", "a", "has", "am"})
_ENGLISH_PERSON = frozenset("i me my myself mine he she him his her hers himself herself".split())
_ENGLISH_KIN = frozenset(
    "wife husband son daughter mother father mom mum dad brother sister child baby partner boyfriend girlfriend "
    "grandma grandmother grandfather grandpa aunt uncle cousin".split()
)
_ENGLISH_POSSESSIVE = frozenset({"our", "their"})
# English first person that is no Turkish word: read in a clause of any language ("Proud X member since my ...").
_ENGLISH_FIRST_ANYWHERE = frozenset({"my", "me", "myself", "i"})
# "joined the IWGB": a membership verb right before the cue.
_JOINED = frozenset({"joined", "rejoined"})
_JOIN_CATEGORIES = frozenset({"UNION_MEMBERSHIP", "POLITICAL_OPINION", "RELIGION"})
# "asked if she can wear ...": an indirect question, not a hypothetical.
_ASK_BEFORE_IF = frozenset("ask asks asked asking wonder wonders wondered wondering check checked checking".split())
# Rule 2 reads these endings as a first-person verb wherever they stand in the next three words
# ("oruç tutuyorum hocam", "gidiyom"): no Turkish noun ends so.
_STRONG_FIRST_SINGULAR = re.compile(r"(?:[iu]yor[iu]m|[iu]yom|[ae]c[ae]g[iu]m|m[iu]s[iu]m)$")
# A nominalised first person right after the cue: "taşıyıcısı olduğumu", "Müslüman olduğumdan".
_NOMINAL_FIRST = re.compile(r"^ol(?:dug|acag)[iu]m")
# A membership word after the cue carrying the person: "Türk Metal üyeliğim", "Kilisesi mensubuyuz".
_MEMBER_TAIL = (("uyelig", 6), ("uye", 3), ("mensub", 6), ("mensup", 6))
# Second person (formal) addressed to a named reader: "Sayın Ayşe Kaya, ... üyeliğiniz", "Dear Mr Lee".
_SECOND_PERSON = re.compile(r"(?:[iu]n[iu]z|s[iu]n[iu]z|d[iu]n[iu]z)" + _CASE + "$")
_ADDRESSED = re.compile(
    r"(?:\b(?:Sayın|SAYIN|Sn\.|Dear)\s+(?:(?:Mr|Mrs|Ms|Dr|Prof)\.?\s+)?[A-ZÇĞİÖŞÜ]"
    r"|\b[A-ZÇĞİÖŞÜ][a-zçğıöşü]+\s+(?:Bey|Hanım|Hanim)\b)"
)
# "Ekrem Bey", "Ayşe Hanım": a person named by the Turkish honorific.
_HONORIFIC_NAME = re.compile(r"\b[A-ZÇĞİÖŞÜ][a-zçğıöşü]+(?:\s+[A-ZÇĞİÖŞÜ][a-zçğıöşü]+)?\s+(?:Bey|Hanım|Hanim|Beyefendi|Hanımefendi)\b")
# A cue that ends in an organisation noun names a body, not a person, even after a first name ("Zafer Partisi").
_ORG_HEADS = ("parti", "party", "sendika", "union", "kilise", "church", "cemaat", "dernek", "derneg")

_WORD_RE = re.compile(r"[^\W\d_]+")
_CLAUSE_BREAK = re.compile(r"[.!?;\n]")
_PHRASE_GAP = re.compile(r"[ \t\u00a0\-–]+")
_REFERENCE_WINDOW = 10
_CLAUSE_WINDOW = 15  # words either side of the cue that are looked at, within its clause


@dataclass
class _Token:
    index: int
    start: int
    end: int
    forms: dict[str, str]  # _FORMS → the token in that form
    suffix: str  # fold()-ed letters after a following apostrophe
    clause: int
    gap_before: str  # the text between the previous token and this one


@dataclass
class _Match:
    cue: Cue
    first: int
    last: int  # token indexes, inclusive


class SpecialCategoryRecognizer(EntityRecognizer):
    """``SPECIAL:<CATEGORY>`` findings: a lexicon cue attributed to a person (see module doc)."""

    ENTITIES = [special_type(c) for c in SPECIAL_CATEGORIES]

    def __init__(
        self,
        supported_language: str = "en",
        name: str = "SpecialCategoryRecognizer",
        cue_file: Path | None = None,
    ):
        self._cue_file = cue_file
        super().__init__(supported_entities=list(self.ENTITIES), name=name, supported_language=supported_language)

    def load(self) -> None:
        cues = _cached_cues(self._cue_file)
        self._exact: dict[tuple[str, str], list[Cue]] = {}
        self._prefix: dict[tuple[str, str], list[Cue]] = {}
        self._infix: dict[str, list[Cue]] = {}
        for cue in cues:
            first = cue.words[0]
            if first.infix:
                self._infix.setdefault(cue.form, []).append(cue)
            elif first.prefix:
                for stem in filter(None, (first.text, first.softened)):
                    self._prefix.setdefault((cue.form, stem), []).append(cue)
            else:
                self._exact.setdefault((cue.form, first.text), []).append(cue)
        self._prefix_lengths = {
            form: sorted({len(text) for f, text in self._prefix if f == form}) for form in _FORMS
        }
        # most words share no three-letter start with any stem: one set look-up rules them out
        self._prefix_gate = {(form, text[:3]) for form, text in self._prefix}
        self._forms_used = sorted({cue.form for cue in cues}, key=_FORMS.index)
        # one search per token rules out every infix cue of a form
        self._infix_gate = {
            form: re.compile("|".join(re.escape(c.words[0].text) for c in found)) for form, found in self._infix.items()
        }
        self._names = TurkishNameRecognizer(supported_language=self.supported_language)

    # -- public API -----------------------------------------------------------------
    def analyze(self, text: str, entities: Iterable[str], nlp_artifacts=None) -> list[RecognizerResult]:
        wanted = set(entities or self.ENTITIES) & set(self.ENTITIES)
        if not wanted:
            return []
        tokens = self._tokens(text)
        matches = [m for m in self._matches(tokens) if special_type(m.cue.category) in wanted]
        if not matches:
            return []
        english = self._english_clauses(tokens)

        def language(match: _Match) -> str:
            return "en" if english.get(tokens[match.first].clause) else "tr"

        matches = [m for m in matches if m.cue.lang in (None, language(m))]
        names = _LazyNames(self._names, text, nlp_artifacts)
        records = _LazyRecords(text, names)
        found: list[tuple[_Match, str, float]] = []
        for match in _longest_per_category(matches):
            first = tokens[match.first]
            org = len(match.cue.words) > 1 and tokens[match.last].forms["fold"].startswith(_ORG_HEADS)
            if not org and first.forms["case"][:1].isupper() and names.covers_longer(first.start, tokens[match.last].end):
                continue  # "Prof. Dr. Oruç Kılıç", "William Church": part of a longer name (not "Jew" tagged alone)
            verdict = self._attribution(tokens, match, language(match) == "en", names, records)
            if verdict is not None:
                found.append((match, *verdict))
        return [
            self._result(tokens[first.first].start, tokens[last.last].end, best.cue, rule, score)
            for first, last, best, rule, score in _join_adjacent(tokens, found)
        ]

    # -- tokens and cue matching ----------------------------------------------------
    def _tokens(self, text: str) -> list[_Token]:
        texts = {"case": text, "fold": fold(text)}
        lowered = tr_lower(text)
        texts["lower"] = lowered if len(lowered) == len(text) else texts["fold"]
        tokens: list[_Token] = []
        clause = 0
        prev_end = 0
        for m in _WORD_RE.finditer(text):
            start, end = m.span()
            if start >= 2 and text[start - 1] in APOSTROPHES and text[start - 2].isalpha():
                continue  # the suffix of the previous token ("nin" in "Ayşe'nin")
            if _CLAUSE_BREAK.search(text, prev_end, start):
                clause += 1
            suffix = ""
            if end + 1 < len(text) and text[end] in APOSTROPHES and text[end + 1].isalpha():
                suffix_match = _WORD_RE.match(texts["fold"], end + 1)
                suffix = suffix_match.group() if suffix_match else ""
            forms = {form: texts[form][start:end] for form in _FORMS}
            tokens.append(_Token(len(tokens), start, end, forms, suffix, clause, text[prev_end:start]))
            prev_end = end
        return tokens

    def _matches(self, tokens: Sequence[_Token]) -> list[_Match]:
        found = []
        for token in tokens:
            for form in self._forms_used:
                word = token.forms[form]
                candidates = self._exact.get((form, word), [])
                gated = (form, word[:3]) not in self._prefix_gate
                for n in () if gated else self._prefix_lengths[form]:
                    if n > len(word):
                        break
                    more = self._prefix.get((form, word[:n]))
                    if more:
                        candidates = candidates + more
                gate = self._infix_gate.get(form)
                if gate is not None and len(word) > 6 and gate.search(word):
                    candidates = candidates + [c for c in self._infix[form] if c.words[0].text in word]
                for cue in candidates:
                    last = self._match_words(tokens, token.index, cue.words, form)
                    if last is None:
                        continue
                    if any(self._match_words(tokens, token.index, ex, form) is not None for ex in cue.exclude):
                        continue
                    found.append(_Match(cue, token.index, last))
        return found

    @staticmethod
    def _match_words(tokens: Sequence[_Token], first: int, words: Sequence[CueWord], form: str) -> int | None:
        """Index of the last token when ``words`` match consecutive tokens from ``first``."""
        k = first
        for n, word in enumerate(words):
            if k >= len(tokens) or not word.matches(tokens[k].forms[form]):
                return None
            if n and not _adjacent(tokens[k - 1], tokens[k]):
                return None
            if n + 1 < len(words):
                if tokens[k].suffix:  # "HIV'li hasta": an apostrophe ends the phrase
                    return None
                k += 1
        return k

    # -- attribution ----------------------------------------------------------------
    def _attribution(
        self, tokens: Sequence[_Token], match: _Match, english: bool, names: _LazyNames, records: _LazyRecords
    ):
        last = tokens[match.last]
        cue_word = match.cue.words[-1]
        stem_len = len(cue_word.text) if cue_word.prefix and not cue_word.infix else len(last.forms["fold"])
        whole = last.forms["fold"] + last.suffix
        if match.cue.first_person or (_SELF_SUFFIX.search(whole, stem_len) and not match.cue.record_only):
            return "first_person_suffix", SCORE_SELF
        if match.last + 1 < len(tokens) and _adjacent(last, tokens[match.last + 1]):
            tail = tokens[match.last + 1].forms["fold"] + tokens[match.last + 1].suffix  # "Türk Metal üyeliğim"
            for head, n in _MEMBER_TAIL:
                if tail.startswith(head):
                    if _SELF_SUFFIX.search(tail, n):
                        return "first_person_suffix", SCORE_SELF
                    break
        if records.about_subject(tokens[match.first].start):
            return "record_subject", SCORE_REFERENCE
        if match.cue.record_only:
            return None

        clause = _clause_around(tokens, match)
        following = [t for t in clause if t.index > match.last][:4]
        after = [t.forms["fold"] for t in following[:3]]
        before = [t.forms["fold"] for t in clause if t.index < match.first]
        if _names_a_topic(following) or (before and before[-1] in _TOPIC_BEFORE):
            return None

        if following and _NOMINAL_FIRST.match(following[0].forms["fold"]):
            return "first_person_verb", SCORE_VERB
        for k, t in enumerate(following[:3]):
            nxt = following[k + 1] if k + 1 < len(following) else None
            in_verb_position = nxt is None or "," in nxt.gap_before or nxt.forms["fold"] in _AFTER_VERB
            word = t.forms["fold"]
            if (in_verb_position or _STRONG_FIRST_SINGULAR.search(word)) and _is_first_singular(word):
                return "first_person_verb", SCORE_VERB
        if len(following) == 4 and _STRONG_FIRST_SINGULAR.search(following[3].forms["fold"]):
            if _is_first_singular(following[3].forms["fold"]):  # "Ahıska Türkü bir aileden geliyorum"
                return "first_person_verb", SCORE_VERB
        if not english and _addressed_in_second_person(names.text, tokens, match, following, whole, stem_len):
            return "second_person_addressed", SCORE_REFERENCE
        if match.cue.category == "RELIGION" and _asks_leave(clause, match):
            return "first_person_verb", SCORE_VERB
        words = [t.forms["fold"] for t in clause]
        hypothetical = any(
            (words[k] in _HYPOTHETICAL_WORDS or t.forms["lower"] == _HYPOTHETICAL_ISE)
            and not (words[k] == "if" and k and words[k - 1] in _ASK_BEFORE_IF)
            # English puts the condition first: "if I had cancer"; an "if" after the cue opens another
            # clause ("I'm your union rep - if you have worries, ...")
            and not (english and t.index > match.last)
            for k, t in enumerate(clause)
        ) or (
            not english and any(_HYPOTHETICAL_SUFFIX.search(t.forms["lower"]) for t in clause)
        )
        if hypothetical:
            return None

        if english and match.cue.category in _JOIN_CATEGORIES and (
            before[-1:] and before[-1] in _JOINED or before[-2:-1] and before[-2] in _JOINED and before[-1] == "the"
        ):
            return "third_person_verb", SCORE_VERB
        if not any(w in _GENERIC_SUBJECTS for w in words):
            verb = after[1] if after and after[0] in _DIAGNOSIS_NOUNS and len(after) > 1 else after[0] if after else ""
            if verb in _THIRD_PERSON_VERBS or (
                after and after[0] in _HAS and _THIRD_POSSESSIVE.search(whole, stem_len)
            ):
                return "third_person_verb", SCORE_VERB

        window = [
            t
            for t in clause
            if abs(t.index - match.first) <= _REFERENCE_WINDOW and not match.first <= t.index <= match.last
        ]
        for t in window:
            word = t.forms["fold"]
            if word in _FIRST_PERSON or _KINSHIP.match(word) or (not english and _OWN_RECORD.match(word)):
                return "person_reference", SCORE_REFERENCE
            if not english and len(word) >= 6 and _FIRST_PARTICIPLE.search(word) and not word.startswith(_ASKING_VERBS):
                return "person_reference", SCORE_REFERENCE
            if word in _ENGLISH_FIRST_ANYWHERE and t.forms["case"] != "İ":
                return "person_reference", SCORE_REFERENCE
            if english and (
                word in _ENGLISH_PERSON
                or (word in _ENGLISH_KIN and t.index > 0 and tokens[t.index - 1].forms["fold"] in _ENGLISH_POSSESSIVE)
            ):
                return "person_reference", SCORE_REFERENCE
        if english and _AS_A.search(" ".join(before[-4:])):  # "As a practising Muslim, ..."
            return "person_reference", SCORE_REFERENCE
        if window and names.any_within(window[0].start, window[-1].end):
            return "named_person", SCORE_REFERENCE
        return None

    @staticmethod
    def _english_clauses(tokens: Sequence[_Token]) -> dict[int, bool]:
        strong: dict[int, int] = {}
        weak: dict[int, int] = {}
        for t in tokens:
            word = t.forms["fold"]
            if word in _ENGLISH_STRONG:
                strong[t.clause] = strong.get(t.clause, 0) + 1
            elif word in _ENGLISH_WEAK:
                weak[t.clause] = weak.get(t.clause, 0) + 1
        return {c: n + weak.get(c, 0) >= 2 for c, n in strong.items()}

    def _result(self, start: int, end: int, cue: Cue, rule: str, score: float) -> RecognizerResult:
        entity = special_type(cue.category)
        explanation = AnalysisExplanation(
            recognizer=self.name,
            original_score=score,
            textual_explanation=f"{cue.category} cue {cue.phrase!r} attributed by rule {rule}",
        )
        return RecognizerResult(
            entity_type=entity,
            start=start,
            end=end,
            score=score,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                "rule": rule,
                "cue": cue.phrase,
            },
        )


@lru_cache(maxsize=4)
def _cached_cues(path: Path | None) -> tuple[Cue, ...]:
    return load_cues(path)


def _clause_around(tokens: Sequence[_Token], match: _Match) -> Sequence[_Token]:
    """The cue's clause, cut to _CLAUSE_WINDOW words either side (keeps analysis linear)."""
    clause = tokens[match.first].clause
    lo, hi = match.first, match.last
    while lo > 0 and tokens[lo - 1].clause == clause and match.first - lo < _CLAUSE_WINDOW:
        lo -= 1
    while hi + 1 < len(tokens) and tokens[hi + 1].clause == clause and hi - match.last < _CLAUSE_WINDOW:
        hi += 1
    return tokens[lo : hi + 1]


def _adjacent(left: _Token, right: _Token) -> bool:
    return not left.suffix and bool(_PHRASE_GAP.fullmatch(right.gap_before))


def _names_a_topic(following: Sequence[_Token]) -> bool:
    """"kanser hakkında", "diyabet tedavisi konusunda": the cue is what is talked about."""
    for k, token in enumerate(following[:2]):
        if k and ("," in token.gap_before or following[0].forms["fold"] in _PREPOSITIONS):
            return False  # "shop steward for Unite": past a preposition the cue's phrase has ended
        word = token.forms["fold"]
        if word.startswith(_TOPIC_AFTER) or word in _TOPIC_AFTER_EXACT:
            return True
        if _is_first_singular(word):
            return False  # "Kemoterapi görüyorum, hastane masrafları ...": a verb ends the phrase
    return False


def _addressed_in_second_person(
    text: str, tokens: Sequence[_Token], match: _Match, following: Sequence[_Token], whole: str, stem_len: int
) -> bool:
    """"Sayın Cemre Altıntaş, ... homozigot olarak taşımaktasınız": a letter to a named reader.

    The cue word or one of the next three words is second person plural/formal ("üyeliğiniz",
    "taşımaktasınız"), and the text before the cue addresses a named person.
    """
    if not _SECOND_PERSON.search(whole, stem_len) and not any(
        len(t.forms["fold"]) >= 6 and _SECOND_PERSON.search(t.forms["fold"] + t.suffix) for t in following[:3]
    ):
        return False
    return _ADDRESSED.search(text, 0, tokens[match.first].start) is not None


def _asks_leave(clause: Sequence[_Token], match: _Match) -> bool:
    """"Cuma namazı için izin talep ediyorum": leave asked for the practice, by the speaker."""
    following = [t.forms["fold"] for t in clause if t.index > match.last][:7]
    for k, word in enumerate(following[:4]):
        if word.startswith(_LEAVE_WORDS):
            return any(len(w) >= 5 and w not in _NOT_FIRST_SINGULAR and _FIRST_SINGULAR.search(w) for w in following[k + 1 :])
    return False


def _is_first_singular(word: str) -> bool:
    return (
        len(word) >= 5
        and word not in _NOT_FIRST_SINGULAR
        and bool(_FIRST_SINGULAR.search(word))
        and not word.startswith(_ASKING_VERBS)
    )


def _longest_per_category(matches: list[_Match]) -> list[_Match]:
    """Drop a match inside a longer one of the same category ("hastalığım" in "şeker hastalığım")."""
    kept: list[_Match] = []
    for m in sorted(matches, key=lambda m: (m.cue.category, m.first, -(m.last - m.first))):
        if kept and kept[-1].cue.category == m.cue.category and m.first <= kept[-1].last:
            continue
        kept.append(m)
    return sorted(kept, key=lambda m: (m.first, m.cue.category))


def _join_adjacent(tokens: Sequence[_Token], found: list[tuple[_Match, str, float]]):
    """One finding for "Aşkenaz Yahudisi kökenliyim": same-category cues side by side are joined.

    Yields ``(first match, last match, the match whose rule scored best, rule, score)``.
    """
    found = sorted(found, key=lambda f: (f[0].cue.category, f[0].first))
    group: list[tuple[_Match, str, float]] = []
    out = []
    for item in found:
        match = item[0]
        if group:
            prev = group[-1][0]
            if prev.cue.category == match.cue.category and match.first == prev.last + 1 and _adjacent(
                tokens[prev.last], tokens[match.first]
            ):
                group.append(item)
                continue
            out.append(group)
        group = [item]
    if group:
        out.append(group)
    for group in sorted(out, key=lambda g: g[0][0].first):
        best = max(group, key=lambda f: f[2])
        yield group[0][0], group[-1][0], best[0], best[1], best[2]


class _LazyNames:
    """Person spans, computed only when a cue needs rule 5."""

    def __init__(self, recognizer: TurkishNameRecognizer, text: str, nlp_artifacts):
        self._recognizer = recognizer
        self._text = text
        self._nlp_artifacts = nlp_artifacts
        self._spans: list[tuple[int, int]] | None = None
        self._starts: list[int] = []

    @property
    def text(self) -> str:
        return self._text

    def any_within(self, start: int, end: int) -> bool:
        spans = self._overlapping(start, end)
        return bool(spans)

    def covers(self, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self._overlapping(start, end))

    def covers_longer(self, start: int, end: int) -> bool:
        """A name holds the span and more: the span is part of a name, not a cue an NER tagged alone."""
        return any(s <= start and end <= e and (s, e) != (start, end) for s, e in self._overlapping(start, end))

    def _overlapping(self, start: int, end: int) -> list[tuple[int, int]]:
        if self._spans is None:
            spans = [(r.start, r.end) for r in self._recognizer.analyze(self._text, [PERSON])]
            spans.extend(m.span() for m in _HONORIFIC_NAME.finditer(self._text))  # "Ekrem Bey"
            for ent in getattr(self._nlp_artifacts, "entities", None) or ():
                if getattr(ent, "label_", "") in ("PERSON", "PER"):
                    spans.append((ent.start_char, ent.end_char))
            self._spans = sorted(spans)
            self._starts = [s for s, _ in self._spans]
        # spans starting before `end`; names are short and barely overlap, so a few suffice
        right = bisect.bisect_left(self._starts, end)
        return [(s, e) for s, e in self._spans[max(0, right - 4) : right] if e > start]


class _LazyRecords:
    """Where a record names its subject (rule 1b), computed only when a cue needs it."""

    def __init__(self, text: str, names: _LazyNames):
        self._text = text
        self._names = names
        self._spans: list[tuple[int, int]] | None = None
        self._starts: list[int] = []

    def about_subject(self, position: int) -> bool:
        if self._spans is None:
            self._spans = sorted(self._find())
            self._starts = [s for s, _ in self._spans]
        k = bisect.bisect_right(self._starts, position)
        for start, end in reversed(self._spans[max(0, k - 3) : k]):
            if position - end <= _RECORD_REACH and "\n\n" not in self._text[end:position]:
                return True
        return False

    def _find(self) -> Iterable[tuple[int, int]]:
        text = self._text
        if not _MAY_HOLD_SUBJECT.search(text):
            return
        for m in _ROLE_SUBJECT.finditer(text):
            name, age = m.group("name"), m.group("age")
            if (age and (name or _AGE_UNIT.search(age))) or (
                name and (name.endswith(".") or self._names.covers(*m.span("name")))
            ):
                yield m.span()
        for m in _NAMED_AGE.finditer(text):
            yield m.span()
