"""Veiled threats for :mod:`nlp.abuse` (its ``threat`` kind): harm implied, never named, against a
person ("someone should teach that receptionist a lesson", "I know where the manager lives", "I
know what car she drives", "she'll get what's coming to her", "I'll be waiting for him in the car
park", "it would be a shame if something happened to her", Welsh "dylai rhywun ddysgu gwers i'r
derbynnydd", "bydd hi'n cael beth sy'n dod iddi").

Only against a person (:data:`nlp.abuse._TARGET`'s roles and pronouns), and only in the forms that
carry the threat: strong criticism is not flagged, however strongly put ("someone should teach the
receptionists some manners", "the manager needs to learn a lesson from this", "they'll regret
closing the clinic", "I'll be waiting for her call", "I know where the clinic is"). Read lower
case, accents folded, as :func:`nlp.safety_text.normalise` leaves a text.
"""

from __future__ import annotations

from nlp.safety_text import _compile

_ROLE = (r"(?:nurse|doctor|receptionist|consultant|manager|porter|gp|paramedic|midwife|surgeon|woman|man|bloke|guard|"
         r"pharmacist|carer|sister|matron|secretary)s?")
_SOMEONE = rf"(?:him|her|them|you|(?:that|the|this|those|these) (?:\w+ )?{_ROLE}|(?:dr|nurse|sister|mr|mrs|ms|miss) \w+)"
"""A person a veiled threat is aimed at: a pronoun, a role, or a titled name."""
_ACTOR = (r"(?:someone|somebody|some(?:one|body) needs to|i'?ll|i will|i'?m going to|im going to|i'?m gonna|im gonna|i'?d|"
          r"we'?ll|we will|we should|i should|they should)")
"""Who would do it: the writer, or 'someone' urged to."""
_HE_OR_SHE = rf"(?:he|she|you|(?:that|the) (?:\w+ )?{_ROLE}|(?:dr|nurse|sister|mr|mrs|ms|miss) \w+)"

VEILED = _compile(
    # "someone should teach that receptionist a lesson", "I'll teach him a lesson" (not "a lesson in manners")
    rf"\b(?P<words>{_ACTOR}(?: \w+)? (?:teach|learn) {_SOMEONE} a (?:lesson|thing or two))\b(?! (?:in|about|on|from)\b)",
    # "I know what car she drives", "I know where her kids go to school", "found out where he lives"
    rf"\b(?P<words>i know (?:what|which) car {_HE_OR_SHE} (?:drives|has)|i know where (?:his|her|their|your) "
    r"(?:kids|children|family|wife|husband) (?:go|goes|live|lives|are)|(?:i(?:'ve)?|we(?:'ve)?) found out where "
    rf"{_HE_OR_SHE} lives|i know (?:what time|when) {_HE_OR_SHE} (?:finishes|leaves|gets off|goes home))\b",
    # "she'll get what's coming to her", "he will get his"
    r"\b(?P<words>(?:he|she|they|you)(?:'ll| will| is going to| are going to|'s going to|'re going to) get "
    r"(?:what'?s coming(?: to (?:him|her|them|you))?|what is coming|his|hers|theirs)(?: one day| soon)?)\b(?! \w)",
    # "I'll be waiting for him in the car park", "... after her shift", "... when she finishes"
    r"\b(?P<words>(?:i'?ll|i will|we'?ll|we will) be waiting for (?:him|her|them|you)(?: \w+){0,2} "
    r"(?:outside|in the car ?park|by (?:his|her|their|your) car|after (?:his|her|their|your) shift|when (?:he|she|they|you) "
    r"(?:finish(?:es)?|leaves?|gets? off)))\b",
    # "it would be a shame if something happened to her", "I'll make sure he regrets it", "I'll pay the manager a visit"
    rf"\b(?P<words>(?:be )?a (?:shame|pity) if something (?:happened|happens|were to happen|was to happen) to {_SOMEONE})\b",
    rf"\b(?P<words>(?:i'?ll|i will|i'?m going to|im going to) make (?:sure )?(?:{_SOMEONE}|{_HE_OR_SHE}) (?:regrets?|pays?) (?:it|this|that|for (?:it|this|that)))\b",
    r"\b(?P<words>(?:you|he|she)'?ll regret (?:this|it|that)(?: one day)?)\b(?= *(?:$|[.!,]))",
    rf"\b(?P<words>(?:i'?ll|i will|i'?m going to|im going to|i'?m gonna) (?:pay|be paying) {_SOMEONE} a (?:little )?visit)\b",
    rf"\b(?P<words>{_HE_OR_SHE}(?:'d| had| would)? better watch (?:out|it|(?:him|her|your|them)sel(?:f|ves)|(?:his|her|your|their) step))\b",
    # Welsh: "dylai rhywun ddysgu gwers i'r derbynnydd", "dysga i wers iddo fe"
    r"\b(?P<words>(?:dylai rhywun|mae angen i rywun|wna i|fe wna i|mi wna i|dw i'n mynd i|dwi'n mynd i|dysga i) "
    r"(?:ddysgu |dysgu )?(?:gwers|wers) (?:i'?r (?:nyrs|meddyg|doctor|derbynnydd|rheolwr|porthor)|iddo|iddi|iddyn|i (?:e|o|hi|nhw)))\b",
    # "bydd hi'n cael beth sy'n dod iddi" (she'll get what's coming to her), "dw i'n gwybod pa gar mae hi'n ei yrru"
    r"\b(?P<words>(?:cael|gael) (?:beth|be) sy'?n dod (?:iddo|iddi|iddyn|iddi hi|iddo fe|iddo fo))\b",
    r"\b(?P<words>(?:gwybod|gwbod) pa (?:gar|car) (?:mae|ma) (?:e|o|hi|fe|fo|nhw)(?:'n| yn) (?:ei |eu )?(?:yrru|gyrru|dreifio))\b",
    r"\b(?P<words>(?:bydd|fydd|byddi|fyddi) (?:e|o|hi|fe|fo|di|nhw)(?:'n| yn) (?:difaru|ddifaru|edifaru))\b(?= *(?:$|[.!,]))",
)
"""The veiled threats, in English and Welsh (see the module's docstring)."""
