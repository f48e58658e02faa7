"""The overdose and self-poisoning patterns of :mod:`nlp.safety`, and the medicine vocabulary
they are built from.

Among medication talk the sentence vectors read the topic, not the dose, so "I take 2
paracetamol for my back" and "20 paracetamol and vodka" sit side by side (18 of 30 ordinary
remarks about medicines and drink were flagged, and "20 paracetamol and vodka", too short for
the vote, was not). The patterns read what decides: a quantity already too many ("20", "a
handful", "the whole box", "all my"; not "2") after a verb of taking, or with drink either way
round; medicines saved up or hidden ("saving up my tablets", "a stash of pills"); intent ("on
purpose", "for the right moment"). Measured on 60 messages never tuned on:
tests/test_overdose_language.py. OVERDOSE and KEPT_FROM_ME end with the Welsh ones (below).
"""

from __future__ import annotations

import re

from nlp.safety_text import _compile, normalise

_DRUG = (
    r"(?:tablets?|pills?|meds|medications?|medicines?|capsules|painkillers|antidepressants|prescription|"
    r"paracetamol|co-?codamol|co codamol|codeine|ibuprofen|aspirin|naproxen|sertraline|citalopram|fluoxetine|"
    r"amitriptyline|mirtazapine|diazepam|valium|xanax|zopiclone|pregabalin|gabapentin|tramadol|morphine|"
    r"oxycodone|methadone|insulin|lithium|quetiapine|olanzapine|propranolol|calpol)\b"
)
"""Medicines people take too many of: the generic words and the drugs most often named in overdoses."""
_CONTAINERS = r"(?:packets?|packs?|box(?:es)?|bottles?|strips?|pots?|tubs?|blister packs?)"
_MANY = (
    r"(?:(?:like|about|around|maybe|over|nearly|almost|at least) )?"
    r"(?:\d{2,}(?! ?(?:mg|mcg|ml|g|units?|micrograms?|hours?|minutes?|days?|weeks?|years?)\b)"
    r"|(?:ten|eleven|twelve|(?:thir|four|fif|six|seven|eigh|nine)teen|(?:twen|thir|for|fif|six|seven|eigh|nine)ty|a hundred)"
    r"|too many|a handful|handfuls|loads|lots|a load|a lot|the lot|the rest|all|every"
    rf"|(?:(?:the|a|my|her|his) )?(?:whole|full|entire)(?: {_CONTAINERS})?|(?:a|the|\d|two|three|four|five|a few|several) {_CONTAINERS})"
    r"(?: of)?(?: (?:my|her|his|the|their|them|those|these|mums?|dads?|nans?|\w+'s))?(?: \w+)? " + _DRUG
)
"""A quantity of a medicine already too many to take at once ("20 paracetamol", "a handful of
my diazepam", "a whole strip of zopiclone", "3 boxes of ibuprofen"); "2 paracetamol" is not."""
_NOT_TAKEN = (r"(?! (?:checked|reviewed|changed|stopped|swapped|reduced|increased|sorted|delivered|dispensed|taken away"
              r"|to (?:the|my|a|be)|back|into|in to|with me|with us|along|on holiday)\b)")
"""After a quantity taken: the words that say it was not swallowed ("took all my tablets to the GP")."""
_DRINK = r"(?:vodka|wine|whisky|whiskey|gin|rum|brandy|cider|beer|lager|cans|booze|spirits|tequila|alcohol|a bottle)\b"
_AND = r"(?:\band\b|\bwith\b|\bplus\b|\bthen\b|washed down with|\+|&)"
_INTENT = (r"(?:on purpose|deliberately|and let it happen|want(?:ed)? (?:it|everything|it all) to (?:stop|end|be over)|to (?:end it|make it (?:all )?stop|finish it|not wake up)"
           r"|for (?:the right (?:moment|time|day)|when i'?ve had enough)|so (?:they|nobody|no one) (?:don'?t|doesn'?t|won'?t) notice)")
"""Words that say a medicine is taken, or kept, to do harm."""

_OWNER = r"(?:(?:my|her|his|the|their|those|these|all|all the|all my|mums?|dads?|nans?|\w+'s) )?"
_PILL = r"(?:tablets?|pills?|meds|medications?|medicines?|capsules|painkillers|antidepressants|sleeping tablets)\b"
"""The words for the pills themselves, not "prescription": "collecting my prescription" is an errand."""
_ERRAND = (r"(?![^.?!]{0,40}?\b((from|at) (the |my |our |a )?(pharmacy|pharmacist|chemists?|surgery|gp|doctors?|hospital|clinic|dispensary|boots)"
           r"|back|return|returning|dispos\w*|get rid|holiday|trip|delivered|delivery)\b)")
"""After medicines collected: the words of an errand ("collected extra tablets before my
holiday", "collecting old pills to take back to the chemist")."""
_HOARDING = (
    # counting that will not stop ("i keep counting my tablets"), not counting out a week's
    # doses ("I counted my tablets into the dosette box") or a pharmacy's miscount
    r"\b(keep|keeps|kept|keeping|constantly|obsessively) (on )?(counting|recounting|re-counting)( out| up| through)?( of)? "
    + _OWNER + r"(\w+ )?" + _DRUG + r"(?! (wrong|wrongly|incorrectly|short)\b)",
    r"\b" + _DRUG + r"[^.?!]{0,40}?\b(keep|keeps|kept) (on )?(counting|recounting) (them|it)\b(?! (wrong|wrongly|incorrectly|short)\b)",
    r"\b(counting|counted|count) and re-?count(ing|ed)? " + _OWNER + r"(\w+ )?" + _DRUG,
    r"\b" + _DRUG + r"[^.?!]{0,40}?\b(counting|counted|count) (them |it )?and re-?count",
    r"\bcount(ing|ed)? " + _OWNER + r"(\w+ )?" + _DRUG + r" (over and over|again and again|over again|all the time|all day|constantly)\b",
    # collecting that gathers more than the month's supply ("collecting spare pills", "been collecting
    # tablets for months"), not collecting a prescription from the pharmacy
    r"\b(collecting|collected|gathering|gathered) (up )?(enough|loads of|lots of|a lot of|spare|extra|old|unused|left ?over|leftover) "
    r"(of )?" + _OWNER + r"(\w+ )?" + _PILL + _ERRAND,
    r"\b(collecting|collected|gathering|gathered) (up )?" + _OWNER + r"(\w+ )?" + _PILL
    + r" (for|over) (weeks|months|years|ages|a while|a long time|some time|the (last|past) (few )?(weeks|months|years))\b" + _ERRAND,
    r"\b(building|built|build) up (a |my )?(supply|stock|store|stash|pile|collection) of (\w+ )?" + _DRUG,
    # saved once named ("my tablets, i've been saving them up"), or kept instead of taken
    r"\b" + _DRUG + r"[^.?!]{0,40}?\b(saving|saved|hoarding|hoarded|stashing|stashed|squirrelling|collecting) (them|these|those|it) (up|away|aside|back)\b",
    r"\b(saving|keeping|hiding|storing|stashing) (them|" + _OWNER + r"(\w+ )?" + _DRUG + r") (instead of|rather than) (taking|swallowing)\b",
)
"""Medicines hoarded: the signal is the keeping, not the medicine ("i keep counting my tablets",
"collecting spare pills for months", "building up a supply of tablets")."""

# ----------------------------------------------------------------------------- Welsh
# Read without accents (nlp.safety_text.fold_accents). Welsh mutates a word's first consonant after
# certain words ("tabledi", "o dabledi", "fy nhabledi", "a thabledi"), so each word is written with
# its mutated forms; the verbs too ("cymryd", "wnes i gymryd"; "llyncu", "wnes i lyncu").
_CY_DRUG = (
    r"(?:(?:(?:t|d|nh|th)abled(?:i|s)?|(?:t|d|nh|th)abs|(?:p|b|mh|ph)ils(?:en)?|(?:m|f)oddion|(?:m|f)eddyginiaeth(?:au)?"
    r"|(?:c|g|ngh|ch)yffuriau|(?:p|b|mh|ph)ara?[cs]etamol|(?:c|g|ngh|ch)o-?codamol|(?:c|g|ngh|ch)odin|(?:c|g|ngh|ch)apsiwl(?:au)?"
    r"|inswlin)\b|" + _DRUG + ")"
)
"""A medicine in Welsh, with its mutations ("o dabledi", "fy nhabledi", "o barasetamol"), or in English."""
_CY_MANY = (
    r"(?:\d{2,}(?! ?(?:mg|mcg|ml|g|uned|unedau|awr|oriau|munud|diwrnod|wythnos|mlynedd)\b)"
    r"|deg|un ar ddeg|deuddeg|pymtheg|ugain|(?:dau|tri|pedwar|pump|chwe|saith|wyth|naw) deg|deugain|hanner cant|cant"
    r"|llond (?:llaw|dwrn|ceg)|(?:ll|l)wyth|(?:ll|l)wythi|lot|lotiau|g?ormod|(?:d|dd)igon|(?:yr |'r )?holl|y cyfan|y cwbl|'r cyfan|'r cwbl"
    r"|pob(?: un)?|(?:(?:y|'r|fy|ei) )?(?:p|b|ph)aced(?:i)? (?:c|g)yfan|(?:(?:y|'r|fy|ei) )?(?:b|f|m)ocs (?:c|g)yfan|(?:(?:y|'r|fy|ei) )?(?:p|b|ph|mh)otel (?:c|g)yfan"
    r"|(?:(?:y|'r|fy|ei) )?stribed (?:c|g)yfan|(?:dau|dwy|tri|tair|pedwar|pedair|sawl|ychydig o) (?:b|p)aced(?:i)?|(?:dau|tri|sawl) (?:b|f|m)ocs(?:ys)?)"
    r"(?: o| o'r|'r| o fy| o'm| o'i)?(?: \w+)?? ?" + _CY_DRUG
    + r"|" + _CY_DRUG + r"(?: \w+)?? i gyd\b"
)
"""A quantity of a medicine already too many to take at once: "ugain o barasetamol", "llond llaw o
dabledi", "y paced cyfan", "fy nhabledi i gyd" (all my tablets); "dau barasetamol" is not."""
_CY_TAKE = (
    r"(?:(?:wedi|am|eisiau|isio|isie|moyn|mo'?yn|meddwl am|mynd i|wnes i|nes i|naethon|wnaethon|(?:w|n)aeth (?:e|o|hi|fe|fo)"
    r"|barod i|awydd|ysfa i|temtio i) (?:c|g)ymryd|(?:wedi|am|eisiau|isio|isie|moyn|mo'?yn|meddwl am|mynd i|wnes i|nes i"
    r"|(?:w|n)aeth (?:e|o|hi|fe|fo)|barod i|awydd|ysfa i) (?:ll|l)yncu|(?:c|g)ymer(?:ais|odd|es|on)|(?:c|g)ymres|(?:ll|l)ync(?:ais|odd|es))\b"
)
"""A verb of taking that says it was done or is meant ("wedi cymryd", "wnes i lyncu", "am gymryd",
"llyncais"), not the habit of "dw i'n cymryd fy nhabledi i gyd bob bore"."""
_CY_NOT_TAKEN = (
    r"(?![^.?!]{0,25}?\b(?:y dydd|bob dydd|y diwrnod|bob bore|bob nos|bob nosweth|bob noson|bob wythnos|gyda (?:brecwast|swper|bwyd|chinio|(?:f|b)wyd)"
    r"|efo (?:brecwast|swper|bwyd|chinio)|amser (?:brecwast|gwely|cinio)|fel arfer|fel y dylwn|yn ol y cyfarwyddiadau|bore 'ma|bore ma"
    r"|(?:i'r|yn ol i'r|at y|at yr|o'r) (?:fferyllfa|fferyllydd|meddyg|feddygfa|ysbyty|clinig)|gyda fi|efo fi|ar (?:w|g)yliau)\b)"
)
"""After a quantity taken, the words of a regimen or an errand ("y tabledi i gyd gyda brecwast",
"fy nhabledi i gyd i'r fferyllfa")."""
_CY_DRINK = r"(?:(?:f|ph)odca|(?:g|ng)win|win|(?:ch)?wisgi|chwisgi|seidr|(?:c|g|ch)wrw|jin|rym|alcohol|(?:p|b|ph|mh)otel o)\b"
_CY_INTENT = (
    r"(?:yn fwriadol|o bwrpas|ar bwrpas|i (?:f|m)arw|i beidio (?:d|dd)effro|i (?:dd|d)od a'?r (?:cyfan|cwbl) i ben|i (?:r|rh)oi (?:diwedd|terfyn)"
    r"|i orffen (?:y cyfan|y cwbl|(?:p|b)opeth|pethau|fy hun|y peth)|(?:ar gyfer|at) (?:y diwrnod|yr amser|yr adeg) iawn)"
)
"""Words that say a medicine is taken, or kept, to do harm ("yn fwriadol", "i orffen y cyfan")."""
_CY_KEEP = (r"(?:cadw|gadw|chadw|cynilo|gynilo|chynilo|cuddio|guddio|casglu|gasglu|chasglu|hel|safio|sefio|arbed|celcio|gelcio|pentyrru|bentyrru)")
_CY_ERRAND = (r"(?![^.?!]{0,40}?\b(?:(?:o'r|yn y|yn yr|i'r) (?:fferyllfa|fferyllydd|feddygfa|meddyg|ysbyty|clinig|cwpwrdd|drar|dror|bocs|oergell)"
              r"|presgripsiwn|yn ol|i'w taflu|i'w dychwelyd|(?:g|w)yliau|rhag y plant)\b)")
"""After medicines kept or collected, an errand or a safe place ("o'r fferyllfa", "rhag y plant")."""

_OVERDOSE_CY = _compile(
    r"\b(?:g)?orddos",
    r"\b" + _CY_TAKE + r"(?: i| e| o| hi| fe| fo)?(?: |'r |'r)(?:[^.?!]{0,12}? )??(?:" + _CY_MANY + r")" + _CY_NOT_TAKEN,
    # with drink, either way round ("tabledi a fodca", "potel o win a'r pils i gyd")
    r"\b" + _CY_DRUG + r"(?: \w+)?? (?:a|ac|gyda|efo|hefo|a'r|gyda'r|efo'r)\b[^.?!]{0,15}?\b" + _CY_DRINK,
    r"\b" + _CY_DRINK + r"[^.?!]{0,20}?\b(?:a|ac|gyda|efo|hefo)\b[^.?!]{0,15}?\b(?:" + _CY_MANY + r")",
    # put by: hoarded, stockpiled, kept instead of taken, kept or collected for months or spare
    r"\b(?:(?:c|g)elcio|(?:p|b)entyrru)\b[^.?!]{0,30}?" + _CY_DRUG,
    r"\b" + _CY_DRUG + r"[^.?!]{0,30}?\b(?:(?:c|g)elcio|(?:p|b)entyrru)\b",
    r"\b" + _CY_KEEP + r"\b[^.?!]{0,40}?" + _CY_DRUG + r"[^.?!]{0,25}?\byn lle (?:eu |ei )?(?:(?:c|g|ch)ymryd|(?:ll|l)yncu)\b",
    r"\b" + _CY_KEEP + r"\b(?: [^.?!]{0,25}?)? " + _CY_DRUG + r"(?: \w+)?? (?:sbar|ychwanegol|dros ben)\b" + _CY_ERRAND,
    r"\b" + _CY_KEEP + r"\b(?: [^.?!]{0,25}?)? (?:(?:sbar|ychwanegol|dros ben|digon o|llwyth o|lot o)) ?" + _CY_DRUG + _CY_ERRAND,
    r"\b" + _CY_KEEP + r"\b(?: [^.?!]{0,25}?)? " + _CY_DRUG + r"[^.?!]{0,25}?\b(?:ers|am|dros) (?:wythnosau|misoedd|fisoedd|blynyddoedd|sbel|amser hir)\b" + _CY_ERRAND,
    r"\b" + _CY_DRUG + r"[^.?!]{0,20}?\b(?:o'r neilltu|wedi'?u cuddio(?! rhag))",
    r"\b(?:dos|ddos) (?:marwol|angheuol)\b",
    r"\bfaint o (?:\w+ ){0,2}?" + _CY_DRUG + r"[^.?!]{0,30}?\b(?:i (?:f|m)arw|i (?:l|ll)add)",
    r"\b" + _CY_DRUG + r"[^.?!]{0,40}?\b" + _CY_INTENT,
    r"\b" + _CY_INTENT + r"[^.?!]{0,40}?\b" + _CY_DRUG,
)
"""Overdose in Welsh: "gorddos", a quantity swallowed or meant ("wedi llyncu'r tabledi i gyd"), with
drink, or medicines put by ("celcio tabledi", "cadw fy nhabledi yn lle eu cymryd")."""

_KEPT_FROM_ME_CY = _compile(
    r"\b(?:ddim|dim|byth)(?:'n| yn) (?:gadael|adael) (?:i )?(?:fi|mi|i) (?:(?:g|c|ch)ymryd|(?:g|c|ch)ael) (?:fy|'y|'m) " + _CY_DRUG,
    r"\b(?:e|o|hi|fe|fo)(?:'n| yn) (?:cuddio|cadw) (?:fy|'y|'m) (?:\w+ )?" + _CY_DRUG + r"(?! (?:yn|mewn|rhag|i mi)\b)",
    r"\b" + _CY_DRUG + r"[^.?!]{0,15}?\boddi (?:wrtha|arna) i\b",
)
"""Medicines kept from someone, in Welsh ("dyw e ddim yn gadael i mi gymryd fy meddyginiaeth"): abuse."""

OVERDOSE = _compile(
    r"\b(overdose|overdosed|overdosing|o\.d\.)\b",
    # something taken: a quantity after a verb in the past ("took 30 co-codamol", "had all my tablets")...
    r"\b(took|taken|swallowed|swallowd|had|necked|downed|ate|eaten|popped|injected) " + _MANY + _NOT_TAKEN,
    # ... or about to be ("thinking about taking all my tablets"); not the habit of "I take 14 tablets", "a
    # handful of pills every morning" or "all my tablets at once with breakfast"
    r"\b(thinking (about|of)|going to|gonna|want(ed)? to|planning to|plan to|tempted to|urge to) (take|taking|swallow|swallowing) "
    r"(" + _MANY + _NOT_TAKEN + r"|(them|it) all\b|all of (them|it)|the lot\b|enough\b)",
    rf"\b((whole|full|entire) {_CONTAINERS}|(\d+|two|three|four|five|several|a few) {_CONTAINERS}) of (\w+ )?" + _DRUG + _NOT_TAKEN,
    # a quantity of a medicine with drink, either way round ("20 paracetamol and vodka")
    r"\b" + _MANY + r"\b[^.?!]{0,30}?" + _AND + r"[^.?!]{0,25}?\b" + _DRINK,
    r"\b" + _DRINK + r"[^.?!]{0,30}?" + _AND + r" " + _MANY,
    r"\b(pills|tablets|meds) (and|with) (a bottle|half a bottle|vodka|whisky|gin|wine|cider|booze)\b",
    # medicines put by ("saving up my tablets", "stashed away enough pills", "a stash of tablets")
    r"\bstockpil",
    r"\b(saving|saved|save|hoarding|hoarded|hoard|stashing|stashed|squirrelling|kept back|keeping back|putting aside|put aside|putting by|put by)"
    r"( up| away| aside| back| by)?( all| some| enough| a few)?( of)?( (my|her|his|the|their))?( \w+)? " + _DRUG,
    r"\b(putting|put|keeping|kept|saving|saved) (my|her|his|the|some) (\w+ )?" + _DRUG + r" (aside|by|back|up)\b",
    r"\b" + _DRUG + r" (saved up|stashed|hoarded|hidden away|put aside|put by|stockpiled)\b",
    r"\b(stash|hoard) of (\w+ )?" + _DRUG,
    *_HOARDING,
    r"\b(lethal|fatal|deadly) (dose|amount)\b",
    r"\bhow many (of (my|these|them|the|her|his) )?(\w+ )?(it would|would it|it'?d|will it|does it|do i need to|i'?d need to|i would need to) (take|kill)\b",
    # a medicine named with words of intent, either way round ("took extra insulin on purpose")
    r"\b" + _DRUG + r"[^.?!]{0,40}?\b" + _INTENT,
    r"\b" + _INTENT + r"[^.?!]{0,40}?\b" + _DRUG,
    r"\btook something\b",
) + _OVERDOSE_CY

KEPT_FROM_ME = _compile(
    r"\b(won'?t|will not|doesn'?t|does not) (let me (take|have)|give me) my (\w+ )?" + _DRUG,
    r"\b(hides|hid|hiding|withholds|withheld|withholding) my (\w+ )?" + _DRUG,
    r"\bkeeps my (\w+ )?" + _DRUG + r" from me\b",
) + _KEPT_FROM_ME_CY
"""Medicines kept from someone ("won't let me take my medication", "hides my tablets"): abuse."""

_MEDICINE_OR_DRINK = re.compile(rf"\b{_DRUG}|\b{_DRINK}")


def names_medicine(text: str) -> bool:
    """Whether ``text`` names a medicine or a drink ("my tablets", "paracetamol", "wine")."""
    return _MEDICINE_OR_DRINK.search(normalise(text)) is not None
