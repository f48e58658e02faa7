"""Opting out in one's own words: whole replies that ask to be sent nothing more ('stop texting
me', 'gadewch lonydd i mi'), that may ask it or may answer ('I want out'), or that say the
number is not the participant's ('wrong number', 'rhif anghywir'). :class:`flows.words.Words`
reads the first and last as STOP; flows/engine_opt_out.py asks about the second."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from flows.reply_tidying import normalised_word

_COURTESY = frozenset({"please", "pls", "plz", "plis", "plees", "kindly", "thanks", "thank", "you", "thx", "ty", "ta", "cheers",
                       "diolch", "ok", "okay", "k", "sorry", "sori", "just", "x", "xx", "xxx", "hi", "hello", "hey", "helo",
                       "now", "nawr", "rwan", "right", "look", "seriously", "honestly", "so", "oh", "and", "then", "already",
                       "jyst", "os", "gwelwch", "yn", "dda"})
"""Words dropped from either end of a reply (and 'please' from anywhere) before it is read as a
request to stop being messaged: 'please take me off your list x', 'ok leave me alone now'."""
_ASKING = r"(?:(?:can|could|will|would) (?:you|u|ya) |i (?:want|need|would like|d like|asked|told) (?:you|u) to |i said |ive (?:asked|told) (?:you|u) (?:to )?)?"
"""How a request may begin: 'can you', 'I'd like you to', 'I said'."""
_ME = r"(?:me|us|mi|fi)"
_WHEN = r"(?: (?:now|again|anymore|any more|no more|ever again|at all|immediately|asap|for good|any longer|ever))?"
_MESSAGES = (r"(?:(?:these|this|those|the|your|ur|any|all|all these|all the|all your|all of these|them|such|more|any more|anymore)"
             r" )?(?:stupid |bloody |annoying )?(?:messages?|msgs?|texts?|txts?|sms|smses|text messages|reminders?|spam)")
_SEND = r"(?:text|txt|message|msg|contact|bother|pester|spam|send|sms)"
_SENDING = r"(?:texting|txting|textin|messaging|msging|messagin|contacting|sending|bothering|pestering|spamming|harassing|harrassing)"
"""(Not calls or emails: Chorus makes none, and 'don't call me' may answer 'How should we contact you?')"""
_LIST = (r"(?:list|lists|mailing list|texting list|text list|sms list|messaging list|contact list|contacts|database|system"
         r"|study|survey|research|project|messages|texts|this|it)")
_STUDY = r"(?:study|survey|research|project|programme|program|trial|questionnaire|list|messages|texts)"
_IN_WELSH_WANT = r"(?:dw ?i|dwi|rydw ?i|rwyf|rwy|fi|dw|mi) (?:eisiau|isio|isie|eisie|ishe|moyn|am)"
_IN_WELSH_NOT_WANT = (r"(?:dw ?i ddim|dwi ddim|dwim|dydw ?i ddim|dw ?im|sa ?i|so ?i|smo ?i|fi ddim|nid wyf) "
                      r"(?:eisiau|isio|isie|eisie|ishe|moyn|am)")
_WELSH_MESSAGES = r"(?:(?:mwy o|rhagor o|unrhyw|y|eich) )?(?:negeseuon|neges|negeseuon testun|tecstiau|decstiau|tecst|testunau)"
_TO_ME_IN_WELSH = r"(?: (?:ata i|ataf i|ataf|ata fi|ato fi|i mi|i fi|imi|a fi|a mi|gyda fi|efo fi|fi|ni))?"
_WHEN_IN_WELSH = r"(?: (?:eto|mwyach|rhagor|bellach|byth eto|dim mwy))?"

OPT_OUT_PHRASES = re.compile("|".join((
    rf"{_ASKING}stop {_SENDING}(?: {_ME})?(?: {_MESSAGES}| these| this| them| those| it)?(?: to {_ME})?{_WHEN}",
    rf"{_ASKING}stop {_MESSAGES}{_WHEN}",
    rf"(?:dont|do not|never|please dont|dont ever|do not ever) (?:{_SEND}|send) {_ME}(?: {_MESSAGES}| these| this| them)?{_WHEN}",
    rf"(?:dont|do not|never) send (?:any more |anymore |more |any )?{_MESSAGES}(?: to {_ME})?{_WHEN}",
    rf"{_ASKING}(?:take|remove|get|cross|strike|scratch) (?:me|us|my (?:phone )?number|my name|my details|my contact details)"
    rf"(?: (?:off|from|out of|off of) (?:the |your |ur |this |these |that |yer |all |all your |all the )?{_LIST})?",
    rf"{_ASKING}(?:unsubscribe|opt|sign) (?:me|us) (?:out|off|from)(?: (?:of|from) (?:the |your |this |these |all )?{_LIST})?",
    rf"{_ASKING}unsubscribe (?:me|us)(?: (?:from|off) (?:the |your |this |these |all )?{_LIST})?",
    rf"no more (?:messages?|msgs?|texts?|txts?|texting|messaging|contact|sms|spam|reminders?){_WHEN}",
    rf"{_ASKING}(?:leave|let) {_ME} (?:alone|be|in peace){_WHEN}",
    rf"(?:i )?(?:dont|do not|no longer|never) (?:want|wanna|wish) (?:to (?:get|receive|be sent|have|hear) )?"
    rf"(?:any more |anymore |more |any )?{_MESSAGES}(?: from (?:you|u|this|these))?{_WHEN}",
    rf"(?:i )?(?:dont|do not|no longer) (?:want|wanna|wish) to (?:be (?:texted|messaged|contacted|sent (?:any|these) {_MESSAGES})"
    rf"|hear from (?:you|u|this|these))(?: by you)?{_WHEN}",
    rf"(?:i )?(?:want|wanna|would like|d like|wish|need) to (?:unsubscribe|opt out|be unsubscribed|be removed|be taken off"
    rf"|stop (?:getting|receiving|being sent) {_MESSAGES})(?: (?:from|off|of) (?:the |your |this |these |all )?{_LIST})?{_WHEN}",
    rf"(?:i )?(?:want|wanna|would like|d like|wish|need|am going) to (?:leave|withdraw from|quit|drop out of|exit|opt out of"
    rf"|stop|get out of|pull out of|come out of) (?:the|this|your|ur) {_STUDY}{_WHEN}",
    rf"(?:i )?(?:dont|do not|no longer) (?:want|wanna|wish) to (?:be in|be part of|take part in|do|continue with"
    rf"|participate in|carry on with|be involved in|be on) (?:the|this|your|ur) {_STUDY}{_WHEN}",
    rf"{_ASKING}(?:take|get|remove|withdraw|sign|opt) (?:me|us) (?:out of|from|off) (?:the|this|your|ur) {_STUDY}{_WHEN}",
    # Welsh: don't send messages, stop texting me, leave me alone, no more messages, take me off the list
    rf"(?:peidiwch|paid)(?: (?:a|ag))? (?:anfon|hanfon|gyrru|yrru|tecstio|thecstio|negesu|cysylltu|chysylltu)"
    rf"(?: {_WELSH_MESSAGES})?{_TO_ME_IN_WELSH}{_WHEN_IN_WELSH}",
    rf"(?:peidiwch|paid)(?: (?:a|ag))? (?:fy|yn) (?:nhecstio|tecstio|negesu){_WHEN_IN_WELSH}",
    rf"(?:stopiwch|stopia|stopio|rhowch y gorau i|rhowch gorau i) (?:anfon|hanfon|gyrru|tecstio|decstio|negesu|cysylltu|chysylltu)"
    rf"(?: {_WELSH_MESSAGES})?{_TO_ME_IN_WELSH}{_WHEN_IN_WELSH}",
    rf"(?:stopiwch|stopia) (?:fy|yn) (?:nhecstio|tecstio|negesu){_WHEN_IN_WELSH}",
    r"(?:gadewch|gadwch|gad|gadael) (?:lonydd|llonydd) (?:i mi|i fi|imi|ifi|i ni)|(?:gadewch|gad) (?:fi|ni) (?:i )?fod",
    rf"(?:dim|na) (?:mwy|rhagor) o (?:negeseuon|neges|decstiau|tecstiau|negeseuon testun){_WHEN_IN_WELSH}",
    r"(?:tynnwch|tynna|tynnu) (?:fi|fy rhif|fy enw|fy manylion) (?:oddi ar y|oddi ar|oddiar y|oddiar|oddir|or|o|allan or|allan o)"
    r" (?:y |eich |ych )?(?:rhestr|astudiaeth|arolwg|system|prosiect|negeseuon)",
    r"(?:dad danysgrifiwch|dad danysgrifia) (?:fi|fi or rhestr)",
    rf"{_IN_WELSH_WANT} (?:dad danysgrifio|ddad danysgrifio|optio allan|stopio cael {_WELSH_MESSAGES}"
    r"|gadael yr (?:astudiaeth|arolwg|prosiect)|adael yr (?:astudiaeth|arolwg|prosiect)|tynnu allan or (?:astudiaeth|arolwg))",
    rf"{_IN_WELSH_NOT_WANT} (?:cael |derbyn )?{_WELSH_MESSAGES}{_WHEN_IN_WELSH}",
)))
"""Whole replies (tidied by :func:`_as_phrase`) that ask, in so many words, to be sent nothing
more, and could answer no question: 'stop texting me', 'take me off your list', 'no more
messages', 'leave me alone', 'peidiwch anfon negeseuon', 'gadewch lonydd i mi'. A STOP."""

MAY_OPT_OUT_PHRASES = re.compile("|".join((
    r"(?:i )?(?:want|wanna|would like|d like|need) (?:out|to (?:leave|stop|quit|give up|get out|be left alone|opt out|end this"
    r"|stop this|stop now|stop doing this|finish this|be done|pull out|drop out|withdraw))(?: now| please)?",
    r"(?:i )?(?:quit|give up|am out|m out|im out)|count me out|im done with (?:this|it|these|you)|i am done with (?:this|it|you)",
    r"(?:i )?(?:dont|do not|no longer|dont really|really dont) (?:want|wanna|wish) (?:to )?(?:do|continue|carry on|take part|participate"
    r"|answer|be part of|go on|keep going|be involved|reply|respond|keep doing|do any more|do anymore)"
    r"(?: (?:with|in|to|of))?(?: (?:this|it|these|any more questions|more questions|the questions|them|any more of this))?"
    r"(?: (?:anymore|any more|no more|any longer|now))?",
    r"(?:im |i am )?(?:not|no longer) interested(?: (?:anymore|any more))?",
    r"no more questions",
    r"(?:fuck|fuk|fck|f|eff|piss|sod|bugger|naff|bog) off(?: (?:mate|m8|pal))?|go away|get lost|jog on|do one"
    r"|(?:fuck|sod|screw|bugger) (?:this|that|it|this shit|off with this)",
    r"(?:cer|dos|cerwch|ewch|cer di) (?:o ma|o yma|i grafu|bant|i ffwrdd|o na)",
    rf"{_IN_WELSH_WANT} (?:gadael|adael|stopio|rhoi r gorau iddi|rhoir gorau iddi|mynd allan|tynnu allan|peidio)(?: nawr| rwan)?",
    rf"{_IN_WELSH_NOT_WANT} (?:gwneud|neud|wneud|cymryd rhan|parhau|ateb|bod yn rhan)"
    r"(?: (?:hyn|hwn|o hyn|rhagor o gwestiynau|mwy o gwestiynau|y cwestiynau))?(?: (?:mwyach|rhagor|bellach|dim mwy|eto))?",
    r"(?:dim|does gen i ddim|sgen i ddim|sgeni ddim|does dim) diddordeb(?: gen i)?(?: mwyach| bellach)?",
)))
"""Whole replies that may ask to stop taking part, or may answer the question ('I want out' to
'What would help?', 'I don't want to do this anymore' to 'How do you feel about your treatment?',
'not interested'; 'fuck off', 'go away', 'cer o 'ma' from someone tired of being asked): the
engine asks which (flows/engine_opt_out.py)."""


_WHO_IS_THIS = r"(?:who is this|whos this|who is it|who are you|who are u|who r u|who r you|who is that|whos that|who dis|who this)"
_WRONG = r"(?:wrong (?:number|no|num|nmbr|numbr|#|person|phone|mobile|contact))"
_YOU_HAVE = (r"(?:you|u|ya|youve|uve|you have|u have|ya have|you got|u got|ya got|youve got|you have got|you must have|you must have got"
             r"|you might have|you may have|have|have got|got|youre texting|you are texting|youre messaging|you are messaging|texting"
             r"|youve texted|you have texted|you texted|u texted|youve messaged|you have messaged|you messaged|you sent this to"
             r"|youve sent this to|you have sent this to|this is|its|it is|thats|that is)")
_WRONG_TAIL = r"(?: (?:mate|pal|m8|lol|love|hun|hon|bro|buddy|dude|i think|im afraid|sry|soz|haha|sorry mate|mate sorry))?"
_KNOW_YOU = (r"(?:i )?(?:dont|do not|dunno|really dont) know (?:who (?:you are|u are|you r|u r|ya are|this is|is this|you people are)"
             r"|you|u)|(?:i (?:have|got) )?no idea who (?:you are|u are|this is)")
_WHO_IN_WELSH = r"(?:pwy ydych chi|pwy dych chi|pwy dach chi|pwy ych chi|pwy wyt ti|pwy di hwn|pwy yw hwn|pwy ydy hwn|pwy syn|pwy sy na)"
_WRONG_IN_WELSH = r"(?:rhif|rif|nifer) (?:anghywir|rong|anghwyr)"
_YOU_HAVE_IN_WELSH = (r"(?:(?:mae |ma )?(?:gennych chi|gennych|gynnoch chi|gynnoch|gen ti|gyda chi|gyda ti|da chi)(?: y| yr)?"
                      r"|(?:mae )?(?:gennych chir|gynnoch chir|gen tir|gyda chir|da chir)"
                      r"|(?:rydych chi|dach chi|dych chi|ych chi|wyt ti)? ?wedi (?:cael|tecstio|anfon at|anfon i|negesu) (?:y|yr)"
                      r"|mae hwn yn|dyma|y)")
_KNOW_YOU_IN_WELSH = (r"(?:dw ?i ddim|dwi ddim|dydw ?i ddim|dw ?im|sa ?i ddim|fi ddim) (?:yn )?(?:gwybod|gwbod) pwy (?:ydych chi|dych chi|dach chi"
                      r"|ych chi|wyt ti|ydi hwn|yw hwn)|dwn i ddim pwy (?:ydych chi|dych chi|dach chi|ych chi|wyt ti)"
                      r"|(?:dw ?i ddim|dwi ddim|dydw ?i ddim|dw ?im|fi ddim) (?:yn )?(?:eich |dy )?(?:nabod|adnabod)(?: chi| ti)?")

WRONG_NUMBER_PHRASES: dict[str, re.Pattern[str]] = {
    "en": re.compile("|".join((
        rf"(?:{_WHO_IS_THIS} )?(?:i think |im afraid |i believe |i think that )?(?:{_YOU_HAVE} )?(?:the |a )?{_WRONG}{_WRONG_TAIL}"
        rf"(?: {_WHO_IS_THIS})?",
        rf"(?:{_WHO_IS_THIS} )?(?:{_KNOW_YOU})(?: {_WHO_IS_THIS})?",
    ))),
    "cy": re.compile("|".join((
        rf"(?:{_WHO_IN_WELSH} )?(?:{_YOU_HAVE_IN_WELSH} )?{_WRONG_IN_WELSH}(?: (?:yw hwn|ydy hwn|di hwn|ywr rhif hwn))?"
        rf"(?: {_WHO_IN_WELSH})?",
        rf"(?:{_WHO_IN_WELSH} )?(?:{_KNOW_YOU_IN_WELSH})(?: {_WHO_IN_WELSH})?",
    ))),
}
"""Whole replies (tidied by :func:`_as_phrase`) that say the number is not the participant's
now (numbers are passed on to someone new): 'wrong number', 'you have the wrong number', 'who
is this? wrong number', "I don't know who you are", 'rhif anghywir', 'dw i ddim yn gwybod pwy
ydych chi'. A STOP, answered with an apology in the language the words are in."""
_BARE_WRONG_NUMBER = re.compile(rf"{_WRONG}|{_WRONG_IN_WELSH}")
"""'wrong number', 'wrong person', 'rhif anghywir' and nothing else (but courteous words): words
that could as well answer a question ('What went wrong?') as tell us the number is not theirs."""


@lru_cache(maxsize=4096)
def _as_phrase(text: str) -> tuple[str, ...]:
    """A reply as opt-out phrases are read: global words' tidying (:func:`normalised_word`), accents,
    apostrophes and 'please' dropped, punctuation and hyphens as spaces ('Don't text me!' is 'dont
    text me'); then the same with courteous words at either end dropped too ('ok leave me alone
    now x' is also 'leave me alone')."""
    folded = unicodedata.normalize("NFKD", normalised_word(text).replace("'", "").replace("\u2018", ""))
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    words = [word for word in re.split(r"[\s,.;:!?()\"/_-]+", plain) if word and word not in ("please", "pls", "plz", "plis")]
    whole = " ".join(words)
    while words and words[0] in _COURTESY:
        words.pop(0)
    while words and words[-1] in _COURTESY:
        words.pop()
    core = " ".join(words)
    return (whole, core) if core and core != whole else (whole,)


def asks_to_opt_out(text: str) -> bool:
    """Whether a whole reply asks in words to be sent nothing more ('stop texting me', 'take me
    off your list', 'no more messages', 'leave me alone', 'peidiwch anfon negeseuon', 'gadewch
    lonydd i mi'): a STOP. A sentence that only has such words in it ('my mum said leave me
    alone when she was ill') does not."""
    return any(OPT_OUT_PHRASES.fullmatch(phrase) for phrase in _as_phrase(text) if phrase)


def may_ask_to_opt_out(text: str) -> bool:
    """Whether a whole reply may ask to stop taking part, or may answer the question ('I want
    out', "I don't want to do this anymore", 'dw i eisiau gadael', 'dim diddordeb'): asked which."""
    return any(MAY_OPT_OUT_PHRASES.fullmatch(phrase) for phrase in _as_phrase(text) if phrase)


def wrong_number_language(text: str) -> str | None:
    """The language ('en', 'cy') of a whole reply that says the number is not the participant's
    now ('wrong number', 'who is this? wrong number', "I don't know who you are", 'rhif
    anghywir'): a STOP. None for any other reply, and for a sentence that only has such words in
    it ('the surgery had the wrong number for me')."""
    phrases = [phrase for phrase in _as_phrase(text) if phrase]
    return next((code for code, said in WRONG_NUMBER_PHRASES.items() if any(said.fullmatch(phrase) for phrase in phrases)), None)


def only_wrong_number(text: str) -> bool:
    """Whether a reply that says the number is not the participant's says no more than 'wrong
    number' ('Wrong number.', 'wrong person thanks', 'rhif anghywir'): nothing in it speaks to
    the sender ('you have the wrong number', 'who is this?', "I don't know you"), so at a
    question that takes any words ('What went wrong?') it may be the answer, and is asked about
    (flows/engine_opt_out.py)."""
    phrases = [phrase for phrase in _as_phrase(text) if phrase]
    return bool(phrases) and _BARE_WRONG_NUMBER.fullmatch(phrases[-1]) is not None
