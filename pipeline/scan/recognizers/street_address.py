"""International (non-Turkish) street addresses → ``ADDRESS``.

A postal address is a street line plus whatever follows it: unit, city, region,
country, postcode. The street line has one of a few shapes the world's postal
services document (UPU's "Postal addressing systems in member countries",
https://www.upu.int; USPS Publication 28 for the US suffixes and military mail):

* **number + name + type** — English: "221B Baker Street", "3170 Maple St",
  "350 Fifth Avenue"; the type is one of USPS's street suffixes or its abbreviation;
* **type + name + number** — Romance and Slavic: "Via Garibaldi 87", "Rua Augusta 1480",
  "ul. Grochowa 80"; also with the number first: "14 rue de Lorraine";
* **name(+type) + number** — Germanic, Nordic, Finnish, Hungarian: the type is glued to
  the name ("Lindenstrasse 19", "Østergade 14", "Koulutie 17", "Laugavegur 27")
  or follows it ("Passauer Strasse 33", "Petőfi út 8", "Karl Johans gate 5");
* **US military mail** — "PSC 4471, Box 2206 / APO AE 09012", "USS Halvorsen / FPO AP 96601";
* **P.O. Box 123**, a numbered road ("12345 County Road 12"), an intersection ("corner of
  Main St and Elm Ave"), and a unit on its own: "Suite 464", "Apt. 117".

A span starts at one of these and runs over the parts that follow on the same line
(after a space or a comma) and on the next lines: a unit ("Apt. 4B", "Suite 510",
"3rd Floor"), another street, a postcode ("62704", "SW1A 1AA", "1012 AB"), a state
code, capitalised place names ("Springfield", "Velká Bukovina u Decína", "UNITED
KINGDOM"). A new line joins the address only when all of it reads as address parts,
or when what it starts with includes a unit or postcode ("Cyprus 36903? I am in…"
keeps "Cyprus 36903"). Sentence text — a lower-case word, a function word, a weekday —
ends the span. A building number written before the street ("4270 Lindenstrasse 19")
and a unit before it on the same line are included.

What is *not* an address on its own: a capitalised word and a number ("Windows 10",
"Chapter 12", "Kuuse 12"), a lower-case street ("12 main street"), or a street type that
is mostly a place ("Central Park", "Paradise Valley") — these are reported only with
evidence: an address cue shortly before ("lives at", "address", "ship to", …), or a unit,
another street, or a postcode in the same span (a bare number-postcode only before a town,
"… 46, 10115 Berlin", or after a state, "Springfield, IL 62704" — "Earth 6371 / Mars 3390"
is a table). A postcode alone is reported only after a cue ("zip", "postcode", "postal
code"); "Flat 3", "Unit 5" only before a street or postcode.

Scores: a street with more parts, a military address, or anything with a cue 0.85; a
street alone 0.75 (0.6 when its type is also a common noun: Way, Place, Court…); a P.O.
box 0.7; a cued postcode 0.6; a lone "Suite 464" 0.5 (0.6 with a town after it).

>>> recognizer = StreetAddressRecognizer()
>>> text = "Send it to 1600 Pennsylvania Ave NW, Washington, DC 20500 by Friday."
>>> [(text[r.start:r.end], r.score) for r in recognizer.analyze(text, [])]
[('1600 Pennsylvania Ave NW, Washington, DC 20500', 0.85)]
>>> text = "Billing address:\\n4270 Lindenstrasse 19\\n Suite 315\\n Wien\\n Austria 1010\\nPhone: 555"
>>> [text[r.start:r.end] for r in recognizer.analyze(text, [])]
['4270 Lindenstrasse 19\\n Suite 315\\n Wien\\n Austria 1010']
>>> recognizer.analyze("Chapter 12 is in Section 8 of the Windows 10 manual, page 12.", [])
[]
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import NamedTuple

from pipeline.entities import ADDRESS
from pipeline.scan.recognizers.base import CueRecognizer, Detection

# --- vocabulary ------------------------------------------------------------------------

# USPS Publication 28, Appendix C1 (street suffixes), split by how much they say alone.
# A number + capitalised name + one of these reads as an address by itself …
_STRONG_TYPES = frozenset(
    "street st str avenue ave av road rd boulevard blvd bvd lane ln drive dr parkway pkwy "
    "highway hwy expressway expy freeway fwy turnpike tpke crescent cres terrace terr tce "
    "alley aly".split()
)
# … these are street types and common nouns ("Easy Way", "Market Place"): lower score …
_MEDIUM_TYPES = frozenset(
    "court ct way place pl square sq close cl row circle cir trail trl plaza plz pike loop "
    "mews grove gardens gdns walk path parade pde esplanade quay wharf crossing xing causeway "
    "bypass heights hts".split()
)
# … and the rest of Appendix C1 (and a few British ones) name places as often as streets
# ("Central Park", "Paradise Valley"): they need evidence, like a bare name + number.
_WEAK_TYPES = frozenset(
    "annex anx arcade bayou beach bend bluff bluffs bottom branch bridge brook brooks burg burgs "
    "camp canyon cape centers centre center circles cliff cliffs club common commons corner "
    "corners course courts cove coves creek crest crossroad crossroads curve dale dam divide "
    "drives estate estates extension extensions fall falls ferry field fields flats ford fords "
    "forest forge forges fork forks fort garden gateway glen glens green greens groves harbor "
    "harbors harbour haven hill hills hollow inlet island islands isle junction junctions key keys "
    "knoll knolls lake lakes land landing light lights loaf lock locks lodge mall manor manors "
    "meadow meadows mill mills mission motorway mount mountain mountains neck orchard oval "
    "overpass park parks parkways pass passage pine pines plain plains point points pt port ports "
    "prairie radial ramp ranch rapid rapids rest ridge ridges river roads route run shoal shoals "
    "shore shores skyway spring springs spurs squares station stravenue stream streets summit "
    "throughway trace track trafficway trailer tunnel underpass union unions vale valley valleys "
    "viaduct view views village villages ville vista walks wall ways well wells gate spur".split()
)
# Types written before the name (Romance, Slavic, Greek), lower-cased, dots kept.
_TYPES_FIRST = frozenset(
    "via viale vicolo vico corso piazza piazzale largo strada contrada lungomare calle avenida "
    "avda avda. av. avinguda paseo passeig plaza plaça camino carretera carrer ronda travesía "
    "vía pasaje acceso rambla glorieta cañada "
    "callejón rua travessa praça alameda estrada rodovia beco ladeira borgo salita traversa rue "
    "avenue boulevard bd "
    "place chemin allée impasse quai route cours passage str. calea bulevardul șoseaua soseaua "
    "splaiul ul. ulica aleja plac odos οδός λεωφόρος λεωφ. λ.".split()
)
# Type-first words that are also everyday English: believable alone only when they and
# the name are capitalised ("12 Avenue Foch", not "12 avenue trees"); the first six not at all
# in lower case ("sent 5 via email", "took 2nd place").
_AMBIGUOUS_TYPES_FIRST = frozenset(
    "via place route passage largo corso plaza avenue boulevard estrada alameda".split()
)
_NEVER_LOWER_CASE_TYPES_FIRST = frozenset("via place route passage largo corso".split())
# Types written as a separate word after the name, before the number ("Passauer Strasse 33",
# "Petőfi út 8", "Karl Johans gate 5"). "gate" and "tie" only lower-case (an airport's
# "Gate 12", a "Bow Tie").
_TYPES_BEFORE_NUMBER = frozenset(
    "straße strasse str. gasse weg platz allee damm ufer chaussee laan straat gracht kade plein "
    "dijk singel hof vej gade gate gata gatan vägen väg vei veien vegen vegur tie katu kuja "
    "utca u. út útja körút tér tere köz sétány rakpart kapu terrasse ulice náměstí nám. třída".split()
)
_LOWER_CASE_ONLY_TYPES = frozenset({"gate", "tie"})
# Germanic/Nordic/Finnish types glued to the name: "Lindenstrasse", "Ringvej", "Koulutie".
_COMPOUND_SUFFIXES = tuple(
    "strasse straße gasse weg platz allee damm ufer chaussee laan straat gracht kade plein dijk "
    "dreef singel steeg hof vej gade vænget stræde straede plads torv veien vegen vei gata gatan "
    "stien bakken kroken svingen tunet løkka plassen "
    "vägen väg gränd torget stigen backe tie katu kuja polku raitti väylä kaari vegur braut "
    "stræti straeti stígur utca".split()
)
# English words that happen to end like a compound street.
_NOT_COMPOUND = frozenset(
    "brigade renegade blockade stockade necktie bowtie cutie sweetie hottie auntie beastie "
    "shortie smartie norweg".split()
)
_ABBREVIATED_COMPOUND = re.compile(r"(?i)[^\W\d_]{3,}str\.")  # "Hauptstr. 5"

# Words inside a name that are not capitalised: "Rua da Paz", "Frankfurt am Main".
_PARTICLES = frozenset(
    "de da do dos das del della delle degli dei di du des la le les el al y e von van der den "
    "ten ter z u v na nad pod am an of the upon sur sous en dello d' l'".split()
)
# Words that end a name or place: sentence text, greetings, weekdays, months.
_STOP_WORDS = frozenset(
    "a an the and or but if to in on at by for with from into onto via is are was were be been "
    "am it its this that these those there here i you he she we they me him her us them my your "
    "his our their please thanks thank hello hi hey dear regards best kind sincerely cheers "
    "yes no not ok okay so then when where what who why how after before near next also just "
    "call phone tel fax email e-mail mobile website web desk office name address tomorrow "
    "today tonight monday tuesday wednesday thursday friday saturday sunday january february "
    "march april may june july august september october november december jan feb mar apr jun "
    "jul aug sep sept oct nov dec".split()
)
# Capitalised word + number that are almost never a street ("Chapter 12", "Windows 10").
_NOT_STREET_NAMES = frozenset(
    "chapter section page pages room version step part level floor grade class year week day "
    "episode season figure fig table item line verse article volume vol issue number question "
    "lesson unit module exercise phase round stage gate platform terminal exit flight bus train "
    "route windows iphone android python java model type size category group team player tier "
    "rule clause paragraph appendix box lot seat channel psalm apollo covid top over under "
    "about around only total score apt apartment suite ste flat column note example test case "
    "sample option slide problem task".split()
)
# A lower-case word after the number that makes it a quantity, not a house number.
_QUANTITY_WORDS = frozenset(
    "years year months days hours hour minutes minute min mins seconds km miles mi kg lbs percent "
    "people persons times euros dollars pounds am pm items pieces points".split()
)
_DIRECTIONS = frozenset("n s e w ne nw se sw n. s. e. w. north south east west".split())

# --- patterns --------------------------------------------------------------------------

_L = r"[^\W\d_]"
# Bounded on purpose: every attempt costs at most a few dozen steps, so a 50 KB run of
# "Ab-Ab-Ab…" stays linear (an unbounded word re-scanned from each hyphen is quadratic).
_WORD = rf"{_L}{{1,40}}(?:['’]{_L}{{1,20}}){{0,2}}(?:-{_L}{{1,40}}(?:['’]{_L}{{1,20}}){{0,2}}){{0,4}}"
# A token of a street or place name: a word (maybe abbreviated: "ul.", "St."), an ordinal.
_TOKEN = rf"(?:\d{{1,3}}(?:st|nd|rd|th)|{_WORD}\.?)(?!\w)"
TOKEN = re.compile(_TOKEN)
# A house number: "12", "12A", "12-14", "33/2"; not a part of 1,200, 10:30, $12 or 12th.
_NUMBER = r"(?<![\w.,:/$€£#+-])\d{1,6}(?:[A-Za-z](?!\w))?(?:[/-]\d{1,5}[A-Za-z]?)?(?![\w%])(?![.,:]\d)"

NUMBER_FIRST = re.compile(rf"{_NUMBER}(?:[ \t]*,)?(?P<rest>(?:[ \t]+{_TOKEN}){{1,6}})")
NAME_NUMBER = re.compile(
    rf"(?<![\w.'’-])(?P<name>{_TOKEN}(?:[ \t]+{_TOKEN}){{0,4}})(?:[ \t]*,)?[ \t]+(?P<num>{_NUMBER})"
)
NUMBERED_ROAD = re.compile(
    rf"{_NUMBER}[ \t]+(?:(?:State|County|US|U\.S\.)[ \t]+)?(?:Route|Rte\.?|Road|Highway|Hwy\.?|Interstate)"
    r"[ \t]+\d{1,4}[A-Z]?(?!\w)"
)
_MILITARY_TAIL = r"(?:APO|FPO|DPO)[ \t]+(?:AA|AE|AP)[ \t]+\d{5}(?:-\d{4})?(?!\d)"
MILITARY = re.compile(
    rf"(?i:(?:(?:(?:PSC|CMR|Unit)[ \t]+\d{{1,5}}(?:[ \t]*,)?[ \t]+Box[ \t]+\d{{1,5}}"
    rf"|(?:USNS|USNV|USS|USCGC)[ \t]+{_WORD}(?:[ \t]+{_WORD}){{0,2}})"
    rf"[ \t]*,?(?:[ \t]*\n[ \t>]*|[ \t]+))?{_MILITARY_TAIL})(?!\w)"
)
PO_BOX = re.compile(
    r"(?i:\bP\.?[ \t]?O\.?[ \t]*Box|\bPost[ \t]+Office[ \t]+Box|\bPostfach)[ \t]*#?[ \t]*\d{1,6}(?!\w)"
)
_UNIT_WORDS = (
    r"apt|apartment|suite|ste|unit|flat|studio|floor|fl|room|rm|bldg|building|dept|block|blk"
    r"|piso|puerta|planta|scala|interno|etage|appt"  # es, it, fr/de
)
UNIT = re.compile(
    rf"(?:(?P<word>(?i:{_UNIT_WORDS}))(?!\w)\.?[ \t]*|#(?=\d))(?:(?i:no)\.?[ \t]*|#[ \t]*)?"
    rf"(?P<id>[A-Z]?\d{{1,5}}[A-Za-z]?|[A-Z])(?!\w)"
    r"|\d{1,3}(?:st|nd|rd|th)[ \t]+(?i:floor|fl\.?)(?!\w)"
)
# A unit that may start an address: "Suite 464", "Apt. 117" even alone; "Flat 3", "Unit 5",
# "Studio 2" only when a street or postcode follows ("Visual Studio 2019" is no address).
LONE_UNIT = re.compile(
    r"(?<!\w)(?:(?:Apt|APT|Apartment|APARTMENT|Suite|SUITE|Ste|STE)\.?[ \t]*#?[ \t]*"
    r"(?P<id>\d{2,5}[A-Za-z]?|\d[A-Za-z])"
    r"|(?P<weak>Flat|FLAT|Unit|UNIT|Studio|STUDIO)[ \t]*#?[ \t]*\d{1,5}[A-Za-z]?)(?![\w%])"
)
_POSTCODE = (
    r"(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}"  # UK: SW1A 1AA
    r"|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d"  # Canada: K1A 0B1
    r"|\d{4}[ \t]?[A-Z]{2}"  # Netherlands: 1012 AB
    r"|\d{5}-\d{3,4}"  # US ZIP+4, Brazil
    r"|\d{4}-\d{3}"  # Portugal
    r"|\d{2}-\d{3}"  # Poland
    r"|\d{3}[ \t]\d{2}"  # Sweden, Czechia, Greece: 114 55
    r"|(?:[A-Z]{1,2}-)?\d{3,6})(?!\w)(?![ \t]?[-./]?\d)"  # "H-7317", "D-10115" too
)
POSTCODE = re.compile(rf"(?<![\w.,:/$€£#+-]){_POSTCODE}")
CUED_POSTCODE = re.compile(
    rf"(?i:\b(?:zip|post(?:al)?[ \t]?code|plz|cep)(?:[ \t]?code)?\b)[ \t]*(?:(?i:is|was)[ \t]+)?[:#=]?[ \t]*"
    rf"(?P<code>{_POSTCODE})"
)
INTERSECTION = re.compile(
    rf"(?i:\bcorner[ \t]+of)[ \t]+(?:(?i:the)[ \t]+)?(?P<a>[^\n]{{1,60}}?)[ \t]+(?:and|&)[ \t]+"
    rf"(?P<b>{_TOKEN}(?:[ \t]+{_TOKEN}){{0,3}})"
)
# A place name's word; a dot only inside the name ("St. Felicien"), or "(Greek)".
_PLACE_TOKEN = rf"(?:{_WORD}(?:\.(?=[ \t]+\w))?|\({_WORD}\))(?!\w)"
PLACE_TOKEN = re.compile(_PLACE_TOKEN)
PLACE_RUN = re.compile(rf"{_PLACE_TOKEN}(?:[ \t]+{_PLACE_TOKEN}){{0,4}}")
# Postcodes with letters vouch for a street by themselves: "SW1A 1AA", "K1A 0B1", "1012 AB".
LETTERED_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d|\d{4}[ \t]?[A-Z]{2}")
STATE = re.compile(r"[A-Z]{2,3}")  # "IL", "NSW", "VE"
SAME_LINE = re.compile(r"[ \t]*(?:[,;][ \t]*)?")
NEXT_LINE = re.compile(r"[ \t]*[,;]?[ \t]*\n(?:[ \t>]*\n)?[ \t>]*(?:[,;][ \t]*)?")
# Where a line's parts may stop: its end, or a sentence's end ("… New Zealand. Please call").
LINE_END = re.compile(r"[ \t]*(?:[.,;:!?]?[ \t]*(?:\n|\Z)|[.!?](?:[ \t]|\Z))")
# Leading building numbers and units on the street's line: "6108 ", "Apt. 675 62314 ".
_LEADING_UNIT = r"(?i:apt|apartment|suite|ste|unit|flat|studio)\.?[ \t]*#?[ \t]*[A-Z]?\d{1,5}[A-Za-z]?"
LEADING = re.compile(rf"(?:(?:{_LEADING_UNIT}|{_NUMBER})[ \t]*,?[ \t]+){{1,3}}\Z")

_ABBREVIATIONS = frozenset(
    "st str ave av rd blvd bvd ln dr pkwy hwy expy fwy tpke cres terr tce aly ct pl sq cl cir trl plz "
    "gdns pde xing hts pt".split()
)
_RANK = {"weak": 0, "medium": 1, "strong": 2}

SCORE = 0.85
SCORE_STREET = 0.75
SCORE_COMMON_NOUN_STREET = 0.6
SCORE_PO_BOX = 0.7
SCORE_POSTCODE = 0.6
SCORE_LONE_UNIT = 0.5
MAX_LINES = 6
MAX_PARTS = 12


class _Street(NamedTuple):
    """A candidate street line: its span, how much it says alone, and its shape."""

    start: int
    end: int
    strength: str  # "strong", "medium" (a common-noun type), "weak" (needs evidence)
    shape: str


# --- words ------------------------------------------------------------------------------


def _is_capitalised(token: str) -> bool:
    """ "Roma", "ΠΑΦΟΣ", "5th", "d'Ouchy" (an elided particle before a capital)."""
    if token[:2].lower() in ("d'", "l'", "d’", "l’"):
        token = token[2:]
    return token[:1].isupper() or token[:1].isdigit()


def _is_stop(token: str) -> bool:
    """Sentence text; a two-letter capital code ("IN", "OR", "ME") is a state, not a stop word."""
    return token.lower().rstrip(".") in _STOP_WORDS and not (len(token) == 2 and token.isupper())


def _is_name_token(token: str) -> bool:
    """A capitalised (or ordinal) word that is not sentence text ("St." is an abbreviation,
    "Boston." ends a sentence)."""
    return _is_capitalised(token) and not _is_stop(token) and not (token.endswith(".") and len(token) > 4)


def _has_compound_suffix(token: str) -> bool:
    """ "Lindenstrasse", "Østergade", "Koulutie", "Hauptstr."; not "brigade", "necktie"."""
    lowered = token.lower()
    if lowered in _NOT_COMPOUND:
        return False
    if _ABBREVIATED_COMPOUND.fullmatch(token):
        return True
    if not lowered.endswith(_COMPOUND_SUFFIXES):
        return False
    return any(lowered.endswith(s) and len(lowered) >= len(s) + 3 for s in _COMPOUND_SUFFIXES)


def _type_after_strength(token: str) -> str | None:
    key = token.lower().rstrip(".")
    if key in _STRONG_TYPES:
        return "strong"
    if key in _MEDIUM_TYPES:
        return "medium"
    if key in _WEAK_TYPES:
        return "weak"
    return None


def _tokens(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in TOKEN.finditer(text, start, end)]


def _type_first_name(type_word: str, tokens: list[tuple[int, int, str]]) -> list[tuple[int, int, str]] | None:
    """The name tokens after a type-first word ("Roma", "de Pologne", "dei Fiorentini")."""
    if type_word.lower() in _NEVER_LOWER_CASE_TYPES_FIRST and not _is_capitalised(type_word):
        return None
    lower_case = not _is_capitalised(type_word)  # "rue de lorraine" may be all lower case
    name: list[tuple[int, int, str]] = []
    for token in tokens[:5]:
        word = token[2]
        if word.lower() in _PARTICLES:
            name.append(token)
            continue
        if _is_stop(word) or word.endswith(".") and word.lower().rstrip(".") not in _ABBREVIATIONS:
            break
        if not _is_capitalised(word) and not lower_case:
            break
        name.append(token)
    while name and name[-1][2].lower() in _PARTICLES:
        name.pop()
    return name or None


def _type_first_strength(type_word: str, name: list[tuple[int, int, str]]) -> str:
    """ "Rua da Paz", "rue de Pologne", "boulevard Haussmann": strong; "avenue trees": weak.

    French writes the type in lower case before a capitalised name, so an ambiguous type
    is believable whenever its name is capitalised.
    """
    if type_word.lower() not in _AMBIGUOUS_TYPES_FIRST:
        return "strong"
    first = next((word for _, _, word in name if word.lower() not in _PARTICLES), "")
    return "strong" if _is_capitalised(first) else "weak"


# --- street lines -----------------------------------------------------------------------


def _number_first(text: str, match: re.Match[str]) -> _Street | None:
    """ "221B Baker Street", "14 rue de Lorraine", "1211 Avenue of the Americas"."""
    tokens = _tokens(text, match.start("rest"), match.end("rest"))
    if len(tokens) > 1 and tokens[0][2].lower() in _DIRECTIONS:
        tokens = tokens[1:]  # "123 N. Main St"
    first = tokens[0][2]
    if first.lower() in _TYPES_FIRST and len(tokens) > 1:
        name = _type_first_name(first, tokens[1:])
        if name is None:
            return None
        return _Street(match.start(), name[-1][1], _type_first_strength(first, name), "number_type_name")
    # Name words, then a street type; the strongest type wins ("12 Green Park Road").
    lower_case = first.islower()
    best: tuple[int, str] | None = None  # (token index, strength) of the type
    for index, (_, _, word) in enumerate(tokens):
        if _is_stop(word) or index == 0 and word.lower().rstrip(".") in _NOT_STREET_NAMES:
            break
        strength = _type_after_strength(word) if index >= 1 else None
        if strength:
            if best is None or _RANK[strength] > _RANK[best[1]]:
                best = (index, strength)
            if strength == "strong":
                break
            continue
        if lower_case and not word.islower():
            break
        if not lower_case and not (_is_name_token(word) or word.lower() in _PARTICLES):
            break
    if best is None:
        return None
    index, strength = best
    end = tokens[index][1]
    if tokens[index][2].endswith(".") and tokens[index][2].lower().rstrip(".") not in _ABBREVIATIONS:
        end -= 1  # "Main Street." ends a sentence; "Main St." keeps its dot
    if lower_case:
        strength = "weak"  # "12 main street": believable with evidence only
    return _Street(match.start(), end, strength, "number_name_type")


def _name_number(text: str, match: re.Match[str]) -> _Street | None:
    """ "Via Garibaldi 87", "Lindenstrasse 19", "Petőfi út 8", or a bare "Kuuse 12"."""
    tokens = _tokens(text, match.start("name"), match.end("name"))
    following = text[match.end() : match.end() + 12].split()
    if following and following[0].lower().strip(".,") in _QUANTITY_WORDS:
        return None  # "Bergen 12 people"
    # Type first: the rightmost type word with only name words after it.
    for index in range(len(tokens) - 2, -1, -1):
        token = tokens[index][2]
        rest = tokens[index + 1 :]
        if any(_is_stop(t) and t.lower() not in _PARTICLES for _, _, t in rest):
            break
        if token.lower() in _TYPES_FIRST:
            name = _type_first_name(token, rest)
            if name is not None and name[-1][1] == tokens[-1][1]:
                return _Street(tokens[index][0], match.end(), _type_first_strength(token, name), "type_name_number")
    last = tokens[-1][2]
    last_key = last.lower()
    # A separate type word after a capitalised name: "Passauer Strasse 33", "Karl Johans gate 5".
    if last_key in _TYPES_BEFORE_NUMBER and len(tokens) >= 2 and _is_name_token(tokens[-2][2]):
        if last_key in _LOWER_CASE_ONLY_TYPES and not last.islower():
            return None
        start = tokens[-2][0]
        if len(tokens) >= 3 and _is_name_token(tokens[-3][2]):
            start = tokens[-3][0]
        return _Street(start, match.end(), "strong", "name_type_number")
    if _has_compound_suffix(last) and (_is_name_token(last) or last.islower()):
        start = tokens[-1][0]
        if len(tokens) >= 2 and tokens[-2][2].endswith("er") and _is_name_token(tokens[-2][2]):
            start = tokens[-2][0]  # a German place adjective: "Brucker Bundesstrasse 31"
        return _Street(start, match.end(), "strong", "compound_name_number")
    if not _is_name_token(last):
        return None
    # Bare "Name 12": up to three capitalised words (particles inside); needs evidence.
    kept = [tokens[-1]]
    for token in reversed(tokens[:-1]):
        if len(kept) == 3 or not (_is_name_token(token[2]) or token[2].lower() in _PARTICLES):
            break
        kept.insert(0, token)
    while kept and kept[0][2].lower() in _PARTICLES:
        kept.pop(0)
    words = [t.lower().rstrip(".") for _, _, t in kept]
    if not kept or words[0] in _NOT_STREET_NAMES or words[-1] in _NOT_STREET_NAMES:
        return None
    if re.fullmatch(r"(?:19|20)\d\d", match.group("num")):
        return None  # "Christmas 2020", "Euro 2024"
    if "," in text[kept[-1][1] : match.start("num")]:
        return None  # "Foundation, 51 Franklin Street"
    if not any(t[:1].isupper() and t[1:] != t[1:].upper() for _, _, t in kept):
        return None  # "RFC 2142", "NISTIR 5469"
    return _Street(kept[0][0], match.end(), "weak", "name_number")


def _intersection(text: str, match: re.Match[str]) -> _Street | None:
    """ "corner of Main St and Elm Ave", "corner of Beiteveien 2 and Sieda Radial"."""
    first = _tokens(text, match.start("a"), match.end("a"))
    if not first or not _is_capitalised(first[0][2]) and first[0][2].lower() not in _TYPES_FIRST:
        return None
    if any(_is_stop(t) and t.lower() not in _PARTICLES for _, _, t in first):
        return None
    end = None
    for _, stop, token in _tokens(text, match.start("b"), match.end("b")):
        if not _is_name_token(token):
            break
        end = stop - 1 if token.endswith(".") and token.lower().rstrip(".") not in _ABBREVIATIONS else stop
    if end is None:
        return None
    return _Street(match.start("a"), end, "strong", "intersection")


def _merged(streets: list[_Street]) -> list[_Street]:
    """Overlapping candidates as one street, the strongest strength kept: "91211 Koepenicker
    Str." and "Koepenicker Str. 74" are one street. Sorted, non-overlapping."""
    merged: list[_Street] = []
    for street in sorted(streets, key=lambda s: (s.start, -s.end)):
        if merged and street.start < merged[-1].end:
            if street.end > merged[-1].end:
                strength = max(merged[-1].strength, street.strength, key=_RANK.__getitem__)
                merged[-1] = merged[-1]._replace(end=street.end, strength=strength)
            continue
        merged.append(street)
    return merged


def street_candidates(text: str) -> dict[int, _Street]:
    """Every street line in ``text``, by start."""
    found = [street for m in NUMBER_FIRST.finditer(text) if (street := _number_first(text, m))]
    found += [street for m in NAME_NUMBER.finditer(text) if (street := _name_number(text, m))]
    found += [_Street(m.start(), m.end(), "strong", "numbered_road") for m in NUMBERED_ROAD.finditer(text)]
    found += [street for m in INTERSECTION.finditer(text) if (street := _intersection(text, m))]
    believable = _merged([s for s in found if s.strength != "weak"])
    starts = [s.start for s in believable]

    def overlaps_believable(street: _Street) -> bool:
        index = bisect.bisect_left(starts, street.end) - 1
        return index >= 0 and believable[index].end > street.start

    # A bare "Name 12" that overlaps a real street is not one: "Visit 350 Fifth Avenue".
    bare = [s for s in found if s.strength == "weak" and not overlaps_believable(s)]
    return {street.start: street for street in _merged(believable + bare)}


# --- what follows a street --------------------------------------------------------------

# Parts tried, in order, where an address may continue (then a street, then a place name).
_PARTS = (("military", MILITARY), ("po_box", PO_BOX), ("unit", UNIT), ("postcode", POSTCODE))
# Parts that let a line end in sentence text and still join ("Cyprus 36903? I am in…").
_LINE_EVIDENCE = frozenset({"military", "po_box", "unit", "postcode", "lettered_postcode", "street"})
# Parts that make a bare "Name 12" believable; a postcode only before a place ("… 46\n
# 10115 Berlin") or after a state ("Springfield, IL 62704"): "Earth 6371\nMars 3390" is a table.
_EVIDENCE = frozenset({"military", "po_box", "unit", "lettered_postcode", "street"})


def _is_evidence(parts: list[str]) -> bool:
    if _EVIDENCE.intersection(parts):
        return True
    pairs = set(zip(parts, parts[1:]))
    return bool(pairs & {("postcode", "place"), ("postcode", "state"), ("state", "postcode")})


class _Continuation:
    """The address parts after each position of one text (memoised: candidates overlap)."""

    def __init__(self, text: str, streets: dict[int, _Street]):
        self.text = text
        self.streets = streets
        self._parts: dict[int, tuple[str, int] | None] = {}

    def after(self, position: int) -> tuple[int, list[str]]:
        """Where the address that reaches ``position`` ends, and the kinds of part it gained.

        On the same line a part follows after a space or a comma. A next line (one blank
        line and "> " quoting allowed) joins when all of it is address parts, or when the
        parts it starts with include a unit, postcode or street.
        """
        text = self.text
        parts: list[str] = []
        lines = 0
        while len(parts) < MAX_PARTS:
            # "Petőfi út 8. Suite 207", "utca 121.\nH-7317 Pécs": a dotted house number
            # (Hungarian, Czech) continues only into a unit, postcode or street.
            dotted = text.startswith(".", position) and text[position - 1 : position].isdigit()
            after = position + 1 if dotted else position
            gap = SAME_LINE.match(text, after).end()
            part = self.part_at(gap) if gap > after else None
            if part is not None and not (dotted and part[0] not in _LINE_EVIDENCE):
                parts.append(part[0])
                position = part[1]
                continue
            newline = NEXT_LINE.match(text, after)
            if newline is None or lines == MAX_LINES:
                break
            line = self.line_at(newline.end())
            if not line:
                break
            kinds = [kind for kind, _ in line]
            whole_line = not dotted and LINE_END.match(text, line[-1][1]) is not None
            if not whole_line and not _LINE_EVIDENCE.intersection(kinds):
                break
            parts.extend(kinds)
            position = line[-1][1]
            lines += 1
        return position, parts

    def line_at(self, position: int) -> list[tuple[str, int]]:
        """The parts from ``position`` up to the first thing on its line that is not one."""
        found: list[tuple[str, int]] = []
        while len(found) < MAX_PARTS:
            part = self.part_at(position)
            if part is None:
                break
            found.append(part)
            gap = SAME_LINE.match(self.text, part[1]).end()
            if gap == part[1]:
                break
            position = gap
        return found

    def part_at(self, position: int) -> tuple[str, int] | None:
        """The kind and end of the address part that starts exactly at ``position``."""
        if position not in self._parts:
            self._parts[position] = self._part_at(position)
        return self._parts[position]

    def _part_at(self, position: int) -> tuple[str, int] | None:
        text = self.text
        for kind, pattern in _PARTS:
            match = pattern.match(text, position)
            if match:
                if kind == "postcode" and LETTERED_POSTCODE.fullmatch(match.group()):
                    kind = "lettered_postcode"
                return kind, match.end()
        street = self.streets.get(position)
        if street is not None and street.strength != "weak":
            return "street", street.end
        # A bare "Name 12" here is read as a place and a number ("Uruguay 64677"), never as
        # a street that would vouch for the one before it ("Alice 24\nBob 19" is a table).
        run = PLACE_RUN.match(text, position)
        if run is None:
            return None
        # Capitalised words, particles between them ("Frankfurt am Main"), "(Greek)".
        end = None
        for token in PLACE_TOKEN.finditer(text, position, run.end()):
            word = token.group()
            if word.startswith("("):
                end = token.end()
                break
            if word.islower() and word in _PARTICLES:
                continue
            if not _is_name_token(word.rstrip(".")):
                break
            end = token.end() - 1 if word.endswith(".") else token.end()
        if end is None:
            return None
        return ("state" if STATE.fullmatch(text, position, end) else "place"), end


# --- the recognizer ---------------------------------------------------------------------


class StreetAddressRecognizer(CueRecognizer):
    """Finds street addresses written the English, Romance, Germanic/Nordic or US-military way."""

    ENTITY = ADDRESS
    # Cues that make a bare "Name 12" an address; matched as word prefixes, like has_context.
    CUES = (
        "address", "adres", "live at", "lives at", "living at", "live on", "lives on", "live in",
        "reside", "located at", "located on", "ship to", "shipping", "deliver", "send to",
        "sent to", "mail to", "mailing", "billing", "return to", "moved to", "move to",
        "visit us at", "find us at", "stop at", "off at", "meet at", "meet me at",
        "corner of", "headquarter", "postal",
    )  # fmt: skip
    CUE_WINDOW_BEFORE = 60

    def __init__(self, supported_language: str = "en", cues=None, name: str | None = None):
        super().__init__(supported_language=supported_language, cues=cues, name=name)
        # One pattern for all cues: has_context compiles one per cue per call, and bare
        # "Name 12" candidates are common enough in ordinary text for that to show.
        phrases = [r"[\W_]+".join(map(re.escape, cue.lower().split())) for cue in self.cues if cue.split()]
        self._cue_pattern = re.compile(r"(?<!\w)(?:" + "|".join(phrases) + ")") if phrases else None

    def _cued(self, text: str, start: int) -> bool:
        window = text[max(0, start - self.CUE_WINDOW_BEFORE) : start].lower()
        return self._cue_pattern is not None and self._cue_pattern.search(window) is not None

    def find(self, text: str) -> Iterator[Detection]:
        streets = street_candidates(text)
        continuation = _Continuation(text, streets)
        anchors = [(s.start, s.end, "street") for s in streets.values()]
        anchors += [(m.start(), m.end(), "military") for m in MILITARY.finditer(text)]
        anchors += [(m.start(), m.end(), "po_box") for m in PO_BOX.finditer(text)]
        anchors += [(m.start(), m.end(), "weak_unit" if m.group("weak") else "unit") for m in LONE_UNIT.finditer(text)]
        anchors += [(m.start("code"), m.end("code"), "postcode") for m in CUED_POSTCODE.finditer(text)]
        covered = 0
        for start, end, kind in sorted(anchors, key=lambda a: (a[0], -a[1])):
            if start < covered:
                continue
            street = streets.get(start) if kind == "street" else None
            detection = self._address_at(text, start, end, kind, street, continuation, covered)
            if detection is not None:
                yield detection
                covered = detection.end

    def _address_at(
        self,
        text: str,
        start: int,
        end: int,
        kind: str,
        street: _Street | None,
        continuation: _Continuation,
        covered: int,
    ) -> Detection | None:
        """The address that ``text[start:end]`` (a street, unit, …) begins, or None."""
        end, parts = continuation.after(end)
        cued = self._cued(text, start)
        if street is not None:
            if street.strength == "weak" and not (cued or _is_evidence(parts)):
                return None
            before = text[max(0, start - 4) : start].rstrip(" \t,")
            if before[-1:].isalnum() and any(c.isdigit() for c in before):
                # Building numbers and a unit before the street, on its line: "6108 ", "Apt. 675 ".
                line_start = text.rfind("\n", 0, start) + 1
                leading = LEADING.search(text, max(line_start, covered, start - 40), start)
                if leading:
                    start = leading.start()
            if parts or cued:
                score = SCORE
            else:
                score = SCORE_STREET if street.strength == "strong" else SCORE_COMMON_NOUN_STREET
            return Detection(start, end, score, street.shape, cued)
        if kind == "military":
            return Detection(start, end, SCORE, "us_military", cued)
        if kind == "po_box":
            return Detection(start, end, SCORE if parts else SCORE_PO_BOX, "po_box", cued)
        if kind in ("unit", "weak_unit"):
            if "street" in parts:
                return Detection(start, end, SCORE, "unit_and_street", cued)
            if kind == "weak_unit" and not {"postcode", "lettered_postcode"}.intersection(parts):
                return None
            return Detection(start, end, SCORE_LONE_UNIT + (0.1 if parts else 0.0), "lone_unit", cued)
        return Detection(start, end, SCORE_POSTCODE, "cued_postcode", True)
