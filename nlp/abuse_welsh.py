"""The Welsh half of :mod:`nlp.abuse` (every statement is read in both languages: people switch),
read lower case and without accents ("ffwl" is "ffŵl"). A first consonant mutates after some
words ("buwch", "hen fuwch"; "lladd", "mynd i ladd"; "cael", "ei gael e", "ei chael hi"), so each
word has its forms. As in English, a complaint is not flagged ("roedd y derbynnydd yn
anghwrtais", "mae'r system yn hurt", "diawl o aros"), nor the writer's own feeling ("teimlo fel
ffwl"); a name called, a slur or a threat is.
"""

from __future__ import annotations

import re

from nlp.safety_text import _compile

_CY_PERSON = (r"(?:staff|nyrs(?:ys|us)?|meddyg(?:on)?|doctor(?:iaid|s)?|derbynnydd|derbynyddion|rheolwr|rheolwyr|porthor(?:ion)?|"
              r"bydwraig|bydwragedd|fferyllydd|(?:dr|nyrs) \w+|e|o|fe|fo|hi|nhw|chi|ti)")
"""Someone a statement may attack: a role, a pronoun or a titled name."""
_CY_NOT_FEELING = r"(?<!\bfel )(?<!\bfel rhyw )"
"""Not a comparison: "teimlo fel ffwl" (feeling a fool) is the writer's own feeling."""

WELSH: dict[str, list[re.Pattern[str]]] = {
    "insult": _compile(
        # names called anywhere: idiot, twpsyn, lembo, penbwl, pen dafad, coc oen, bastad, ffwl, cachwr
        _CY_NOT_FEELING + r"\b(?P<words>idiot(?:iaid)?|(?:t|d)wps(?:yn|od)|lembo|(?:p|b)enbwl|(?:p|b)en dafad|(?:c|g)oc oen|"
        r"(?:b|f)as(?:t|d)ad(?:s|iaid)?|(?:b|f)astardiaid|ffwl|ffyliaid|(?:c|g)achwr|(?:c|g)achgwn|(?:s|)guthan)\b",
        # "hen fuwch", "hen ast", "yn hen wrach", "hwch dew": a person called an animal or a witch
        r"\b(?P<words>(?:hen|'n|yn|yr|y) (?:fuwch|buwch|ast|wrach|gwrach|fochyn|mochyn|hwch|gnawes|jaden)|"
        r"(?:buwch|fuwch|mochyn|fochyn|hwch|gwrach|wrach) (?:dwp|ddwl|hurt|ddiwerth|dew|dwl|ddiog|hyll))\b",
        # "mae'r staff yn dwp", "mae'r doctoriaid yn hurt": a person, not a system, called stupid
        r"\b" + _CY_PERSON + r"\b(?: i gyd)?(?:'n| yn) (?:hollol |rhy |mor |gwbl |uffernol o )?(?P<words>dwp|dwl|ddwl|hurt|stiwpid|thic|"
        r"hyll|dew)\b",
        r"\b(?P<words>cer i grafu|dos i grafu|cer i'r diawl|dos i'r diawl|ffyc off)\b",
    ),
    "slur": _compile(),
    "threat": _compile(
        # "fe wna i ei ladd e", "mi wna i dy daro di", "dw i'n mynd i'w gael e", "dw i'n mynd i ladd y nyrs"
        r"\b(?P<words>(?:wna|wnaf|wnai|'na) i (?:dy|ei|eu) (?:ladd|lladd|daro|tharo|fwrw|bwrw|bwnio|phwnio|frifo|brifo|anafu|hanafu|"
        r"chwalu|gael|chael)|(?:mynd|am) i(?:'w| dy|'ch)? (?:ladd|daro|fwrw|bwnio|frifo|anafu|chwalu)(?: \S+)?)"
        r"(?! (?:e |o |hi |nhw |di )?(?:i|i'r|yn|at|draw|adre|adref|adra|gartref|gartre)\b)(?! (?:fy|'y) hun)",
        r"\b(?P<words>(?:gwybod|gwbod) (?:lle|ble) (?:mae|maen|wyt|rwyt|ma)\b[^.!?]{0,30}?\b(?:byw|gweithio|parcio))\b",
        r"\b(?P<words>gobeithio (?:y|yr|bydd|fydd|ei fod|ei bod)(?: \S+){0,3}? (?:yn )?(?:marw|farw|diodde|dioddef))\b",
    ),
}
