"""Names after a title ("Dr Okafor", "dr patel", "Mr smith", "nurse jackie") for
:mod:`nlp.redact_names`.

A capitalised word after a title is a name, whatever it is. A lower-case one is harder: people
type "dr patel" and "Mr smith", but also "the dr said", "dr surgery" and "nurse led clinic".
So a lower-case word after a title is a name when it is a common given name ("nurse jackie"),
or when it follows a title that is nearly always one ("dr", "Mr", "Mrs", "Prof"; "Nurse",
"Sister", "Matron", "Miss", "Doctor" capitalised in mid-sentence) and reads as no ordinary
word (``AFTER_TITLE``, common verb endings). After "the", "my", "a" and the like ("the dr
said", "my dr surgery") the title is a role, and only a given name counts. A lower-case
"nurse", "doctor" or "ms" (multiple sclerosis: "ms symptoms") and a role word opening a
sentence ("Nurse led clinics") are roles too; "MS" and lower-case "miss" ("I miss Wales") are
no title at all.
"""

from __future__ import annotations

import re

TITLES = re.compile(
    r"(?<![\w'])(?P<title>(?!MS\b)(?i:dr|doctor|mr|mrs|ms|mx|prof|professor)\.?|Miss|(?i:nurse|sister|matron|nyrs))\s+$")
"""A title just before a word; "Nyrs" is Welsh."""
TITLE_WORDS = frozenset({"dr", "doctor", "mr", "mrs", "ms", "mx", "prof", "professor", "miss", "nurse", "sister",
                         "matron", "nyrs"})
ROLE_TITLES = frozenset({"doctor", "professor", "miss", "nurse", "sister", "matron", "nyrs"})
"""Titles that are also roles ("the nurse was kind"): lower case, or opening a sentence, a
lower-case word after them counts only if it is a given name."""
_ROLE_WHEN_LOWER = ROLE_TITLES | {"ms"}
_DETERMINER = re.compile(
    r"(?<![\w'])(?:the|a|an|my|our|your|his|her|their|this|that|these|those|another|every|each|any|no|which|what|"
    r"same|other|one|some|new|old|y|yr|fy|ein|eich|ei|eu)\s+$", re.IGNORECASE)
_SENTENCE_START = re.compile(r"(?:^|[.!?\n:;\"(]\s*)$")

_AFTER_TITLE = """
is was are were be been being has had have having do does did done doing will would can could shall should may
might must wont cant dont didnt doesnt isnt wasnt wouldnt couldnt shouldnt hasnt havent hadnt arent werent
aint said says say saying told tells tell telling asked asks ask asking came come comes coming went go goes
going gone gave give gives giving saw see sees seeing seen looked look looks looking checked check checks
checking sent send sends sending rang ring rings ringing called call calls calling phoned phone phones
prescribed prescribe prescribes put puts made make makes making explained explain explains listened listen
listens listening examined examine examines thought think thinks wanted want wants needed need needs knew know
knows took take takes taking tried try tries trying seemed seem seems got get gets getting kept keep keeps let
lets left arrived admitted discharged diagnosed mentioned agreed suggested recommended insisted refused forgot
ignored laughed smiled shouted wrote write writes writing read reads spoke speak speaks speaking talked talk
talks talking treated treat treats helped help helps visited visit visits dismissed referred refer refers
changed stopped started missed booked cancelled rushed sorted organised arranged explained reassured
about after again ago all already also always any anyway back because before both even eventually ever
finally first from here how immediately instead into later like more most much never next now off once only
over quickly really right round since soon still straight than that then there these they this those though
through too twice under until up very what when where whether which while who whom whose why yet afterwards
actually apparently basically clearly definitely especially honestly kindly literally obviously personally
probably simply surely totally usually
appointment appointments appt appts apt surgery surgeries practice practices receptionist receptionists visit
review reviews cover shortage shortages rounds round rota note notes letter letters referral referrals
prescription prescriptions call calls consultation consultations assessment assessments checkup check-up
advice input opinion time times list lists name names office room station team staff shift shifts
bag bill fees pay home house line number numbers phone led run based
staffing levels ratios training uniform uniforms bank agency vacancies posts associate associates
himself herself themselves google etc ur cos coz tho tbh asap
"""
AFTER_TITLE = frozenset(_AFTER_TITLE.split())
"""Lower-case words that follow a title used as a role ("dr said", "dr surgery", "Nurse led")
and are no name."""
_VERB_ENDINGS = ("ed", "n't", "n\u2019t", "'d", "'ll", "'ve", "'re", "\u2019d", "\u2019ll", "\u2019ve", "\u2019re")


def ordinary_after_title(lower: str, also_words: frozenset[str] = frozenset()) -> bool:
    """Whether a lower-case word after a title reads as an ordinary word ("said", "checked",
    "wouldn't", "may") rather than a surname ("patel"). Names ending "-eed" (Saeed, Rasheed)
    are kept."""
    return (lower in AFTER_TITLE or lower in also_words or len(lower) <= 1
            or (len(lower) >= 4 and lower.endswith(_VERB_ENDINGS) and not lower.endswith("eed")))


def after_title_is_name(lower: str, before: str, given: frozenset[str], also_words: frozenset[str]) -> bool:
    """Whether a lower-case word, after the title that ends ``before``, is a name."""
    if lower in given:
        return True
    found = TITLES.search(before)
    if found is None:
        return False
    title = found.group("title")
    bare = title.lower().rstrip(".")
    ahead = before[:found.start()]
    if bare in _ROLE_WHEN_LOWER and (title[0].islower() or (bare in ROLE_TITLES and _SENTENCE_START.search(ahead))):
        return False
    if _DETERMINER.search(ahead):
        return False
    return not ordinary_after_title(lower, also_words)
