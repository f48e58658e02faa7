"""Patient-safety incidents told in free text, by staff, patients or carers: a failure of care that
harmed or could have harmed someone ('she was left on the floor for an hour', 'nobody came when he
pressed the buzzer all night', 'they gave him the wrong medication', 'left in soiled sheets').

THIS IS NOT A CLINICAL OR INCIDENT-REPORTING TOOL. It raises a ``patient_safety`` flag so that the
coordinator reads the message and can follow the organisation's incident process; it sends the
participant no crisis signposting (nobody is at risk of harming themselves, and 999 or Samaritans
would be the wrong answer to a story about last month's ward). It is independent of the crisis
checks (:mod:`nlp.safety_patterns`, the model of :mod:`nlp.safety_vote`): a message that tells an
incident and a risk is flagged as both, and the model reads what it says beside the incident
(:func:`beside_incident`), so that the incident neither hides the risk nor is read as one.

Written narrowly, for the failure itself, never the waiting that people complain of: 'I waited an
hour to be seen', 'the buzzer rang for 20 minutes before anyone came', 'my prescription was late'
and 'my daughter fell asleep on the floor' are not incidents. Read with :func:`nlp.safety_text.
normalise` (lower case, no accents, straight apostrophes), in English and Welsh.
tests/test_safety_incidents.py measures it on every text corpus in tests/data.
"""

from __future__ import annotations

import re

from nlp.safety_text import _compile, normalise
from nlp.safety_vote import CLAUSE_BREAK

_SOMEONE = r"(?:him|her|me|them|us|my \w+|mum|dad|nan|grandad|the patient|patients|a patient|residents?)"
_NOBODY = r"(?:nobody|no one|no-one|noone|no staff|no nurse|no carer|none of the (?:staff|nurses|carers))"
_BELL = r"(?:buzzer|call bell|the bell|his bell|her bell|my bell|call button|alarm|emergency cord|pull cord)"
_MEDICINE = (r"(?:medication|medications|medicine|medicines|meds|drugs?|tablets?|pills?|dose|dosage|strength|injection|insulin"
             r"|blood|antibiotics?|painkillers?|pain relief|prescription|patch(?:es)?|inhaler|eye drops|drip|fluids)")
_HOURS = (r"(?:(?:an|one|two|three|four|five|six|\d+|several|many|a few|a couple of) (?:hours?|days?)|hours|days|ages"
          r"|all night|all day|the whole (?:night|day|time|weekend)|overnight|the night)")
_NOT_GIVEN = r"(?:not given|wasn'?t given|weren'?t given|never given|never got|not had|hadn'?t had|went without|missed|didn'?t get|did not get)"

ENGLISH = _compile(
    # left on the floor, or found there, after a fall or a slip, for a time
    r"\bleft (?:lying |laying |sitting )?on the floor\b",
    r"\b(?:he|she|i|mum|dad|nan|gran|grandad|grandma|grandpa|my \w+|the patient|a patient|the resident)(?: had)? (?:was|been|lay|lying|laying|stayed|remained)"
    r" on the floor (?:for )?" + _HOURS,
    r"\bon the floor\b[^.?!]{0,30}\b(?:before|until|till) (?:anyone|anybody|somebody|someone|a nurse|staff|a carer) (?:came|found|noticed|helped)\b",
    # a call for help that nobody answered
    r"\b" + _NOBODY + r" (?:came|answered|responded|turned up|helped|checked)\b[^.?!]{0,60}\b" + _BELL + r"\b",
    r"\b" + _BELL + r"\b[^.?!]{0,60}\b" + _NOBODY + r" (?:came|answered|responded|turned up|helped)\b",
    r"\b" + _BELL + r" (?:was |were )?(?:ignored|never answered|not answered|taken away|out of (?:his |her |my )?reach|switched off|unplugged)\b",
    r"\b(?:ignored|ignoring|switched off|unplugged|took away|taken away|moved) (?:the|his|her|my|their) (?:buzzer|call bell|bell|call button)\b",
    r"\b" + _NOBODY + r" (?:came|came near (?:him|her|me|them|us)|checked on (?:him|her|me|them|us)) (?:all night|overnight|the whole night)\b",
    r"\b" + _NOBODY + r" checked on (?:him|her|me|them|us)\b[^.?!]{0,20}\b(?:for )?" + _HOURS,
    # the wrong medicine, dose, patient or site, or one given despite an allergy
    r"\b(?:gave|give|given|giving|got|had|administered|dispensed|prescribed|injected|put up) (?:" + _SOMEONE + r" )?(?:the |a |an )?wrong " + _MEDICINE + r"\b",
    r"\bwrong (?:dose|dosage|strength) of\b",
    r"\b(?:someone|somebody) else'?s (?:medication|medicine|tablets|meds|prescription|blood|results|notes)\b",
    r"\b(?:operated on|operate on|amputated|removed|injected|x-?rayed|scanned) (?:the |his |her |my )?wrong (?:leg|arm|side|eye|knee|hip|foot|toe|finger|kidney|site|patient|person)\b",
    r"\b(?:gave|given|prescribed) (?:" + _SOMEONE + r" )?[^.?!]{0,30}\b(?:(?:he|she|i|they) (?:is|was|am|are|were)|(?:he'?s|she'?s|i'?m|they'?re)) allergic to\b",
    r"\b(?:despite|even though|although) (?:his|her|my|their|the) (?:allergy|allergies)\b",
    # time-critical medicines and the basics of care withheld
    r"\b" + _NOT_GIVEN + r" (?:his|her|my|their|any) (?:insulin|parkinson'?s (?:medication|meds|tablets)|epilepsy (?:medication|meds)|anticoagulants?|blood thinners?|oxygen|antibiotics)\b",
    r"\b(?:not given|wasn'?t given|weren'?t given|never given|no|without) (?:any )?(?:food|water|a drink|anything to (?:eat|drink)|pain relief|painkillers)(?: or (?:a )?(?:drink|water|food))?(?: at all)? (?:for )?" + _HOURS,
    r"\b(?:was|were|been|wasn'?t|weren'?t|not|never) (?:fed|given a drink|given water|turned|washed|changed)\b[^.?!]{0,20}\b(?:for )?" + _HOURS,
    r"\bleft (?:in|with) (?:his|her|my|their) own (?:urine|wee|faeces|poo|mess|vomit|sick|excrement)\b",
    r"\bleft (?:lying |sitting )?in (?:soiled|wet|dirty|soaking|soaked) (?:sheets|bedding|clothes|pads?|nappies|bed)\b",
    r"\b(?:pressure (?:sore|ulcer)s?|bed ?sores?)\b[^.?!]{0,40}\b(?:because|as) (?:no ?one|nobody|they|staff|the nurses) (?:was|were|wasn'?t|weren'?t|didn'?t|never|did not)\b",
    r"\bnever (?:told|informed)(?: (?:us|me))? (?:that )?(?:mum|dad|he|she|my \w+|nan|grandad) (?:had|had had) a fall\b",
    # dropped, or hurt in handling
    r"\bdropped (?:him|her|me|them|the baby|my (?:mum|dad|nan|grandad|son|daughter|husband|wife|baby))\b(?! off| at| home| back| a\b| an\b| in\b| out\b| round| by\b| over\b| to\b| from\b)",
    r"\b(?:fell|fallen|slid|slipped) (?:out of|from) (?:the |a |his |her |my )?(?:hoist|bed|trolley|wheelchair|commode|chair)\b[^.?!]{0,40}\b(?:nobody|no one|no-one|staff|nurses?|carers?|because|as)\b",
)
"""The incidents, in English (see the module's docstring)."""

_CY_NOBODY = r"(?:neb|dim un o'r staff|dim nyrs)"
_CY_HOURS = r"(?:awr|oriau|diwrnod|ddiwrnod|dyddiau|ddyddiau|drwy'?r nos|trwy'?r nos|drwy'?r dydd|trwy'?r dydd|dros nos)"
_CY_MEDICINE = r"(?:feddyginiaeth|meddyginiaeth|moddion|foddion|tabledi|dabledi|tabled|dabled|dos|ddos|cyffur|gyffur|inswlin|pigiad|bigiad)"

WELSH = _compile(
    r"\b(?:ei |eu |fy )?(?:gadael|adael|gadawyd|gadawon nhw|gadawson nhw)\b[^.?!]{0,30}\bar y llawr\b",
    r"\bar y llawr (?:am )?(?:\w+ )?" + _CY_HOURS,
    r"\b(?:ddaeth|daeth|atebodd|ateb) " + _CY_NOBODY + r"\b[^.?!]{0,60}\b(?:gloch|cloch|botwm|larwm)\b",
    r"\b(?:gloch|cloch|botwm|larwm)\b[^.?!]{0,60}\b(?:ddaeth|daeth|atebodd) " + _CY_NOBODY + r"\b",
    r"\b(?:y |yr )?" + _CY_MEDICINE + r" (?:anghywir|rong)\b",
    r"\b(?:dos|ddos) (?:rhy uchel|anghywir|dwbl)\b",
    r"\b(?:meddyginiaeth|feddyginiaeth|tabledi|moddion|presgripsiwn) rhywun arall\b",
    r"\b(?:heb|dim) (?:fwyd|bwyd|ddiod|diod|dwr|ddwr)\b[^.?!]{0,20}\b(?:am )?(?:\w+ )?" + _CY_HOURS,
    r"\b(?:gadael|adael|gadawyd)\b[^.?!]{0,20}\bmewn (?:dillad gwely|cynfasau|dillad) (?:budr|gwlyb|brwnt)\b",
    r"\b(?:gollwng|ollwng|gollyngodd|gollyngon|gollyngwyd)(?: y gofalwyr| y gofalwr| y nyrs| nhw| hi| e| o)? (?:fy mam|fy nhad|y claf|y babi|mam|dad|fi)\b"
    r"(?! (?:adre|adref|adra|yn|yng|ym|wrth|ger|tu|i ffwrdd|ar|off)\b)",
)
"""The incidents, in Welsh: 'ar y llawr am awr' (on the floor for an hour), 'ddaeth neb ... y gloch'
(nobody came ... the bell), 'y feddyginiaeth anghywir' (the wrong medicine), 'heb fwyd am oriau'
(without food for hours), 'gollwng fy mam' (dropped my mum), the mutated forms with them."""

_ANY_OF = re.compile("|".join(f"(?:{pattern.pattern})" for pattern in ENGLISH + WELSH))
REASON = "possible patient-safety incident (for the organisation's incident process, not crisis signposting)"


def incident_match(text: str) -> str | None:
    """The words of a patient-safety incident a message tells ('left on the floor', 'gave him the
    wrong medication', 'ar y llawr am awr'), or None."""
    found = _ANY_OF.search(normalise(text))
    return found.group(0) if found else None


def beside_incident(text: str) -> str:
    """What a message says beside the patient-safety incident it tells, for the risk model to read:
    its clauses (between punctuation and joining words, :data:`nlp.safety_vote.CLAUSE_BREAK`) that
    hold no word of the incident, joined (normalised); the message as it is when it tells none; ''
    when all of it is the incident. Read whole, the story sways the model both ways: 'the nurse gave
    me the wrong tablets and I have had enough of being alive' sat among medication talk and was
    not flagged, while 'Mum was left lying on the floor' read as an emergency happening now."""
    said = normalise(text)
    told = [found.span() for found in _ANY_OF.finditer(said)]
    if not told:
        return text
    kept: list[str] = []
    start = 0
    for brk in [*CLAUSE_BREAK.finditer(said), None]:
        end = brk.start() if brk is not None else len(said)
        part = said[start:end].strip()
        if part and not any(first < end and start < last for first, last in told):
            kept.append(part)
        start = brk.end() if brk is not None else end
    return ", ".join(kept)
