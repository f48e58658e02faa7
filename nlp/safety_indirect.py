"""Risk said indirectly, in English: added to the ``suicide`` patterns of :mod:`nlp.safety_patterns`
(the Welsh twin is :mod:`nlp.safety_welsh_indirect`). Worn-out phrases ("I can't go on like this",
"I've had enough of living"), goodbyes ("I've been giving my things away", "goodbye letters"),
going back to a place to jump from ("I went to the bridge again last night"), and being gone
("nobody would notice if I wasn't here"). The same words fill ordinary complaints ("I can't go on
waiting like this for an appointment", "the bridge roadworks made me late", "fed up of the car
park"), so each phrase counts only where it ends a clause or is followed by the words that make it
a risk, never by what it is about ("like this with the waiting lists", "away to charity").

Written against tests/data/safety_indirect_dev.csv and measured once on
tests/data/safety_indirect_heldout.csv (tests/test_safety_indirect.py has the figures).
"""

from __future__ import annotations

from nlp.safety_text import _compile

_END = r"(?=\s*(?:$|[.!?,;:)-]|(?:and|but|so|cos|because|though|tbh|anyway)\b))"
"""Where a clause ends: end of message, punctuation, or a word that starts the next clause (a voice
note's transcript has no punctuation)."""
_CANT = r"(?:can'?t|cannot|can not|couldn'?t|unable to|don'?t think i can)"
_IF_GONE = (r"(?:if (?:i (?:was|were|am)|i'?m) (?:gone|dead|not (?:here|around|alive))|if i (?:wasn'?t|weren'?t) (?:here|around|alive)"
            r"|if i (?:died|disappeared|was to die|were to die))\b(?! (?:in|on|at|from|of|for|waiting|home|out|to|back|into)\b)")
"""Being gone, as the writer's condition ("if I was gone", "if I wasn't here"), whole so that the
prefilter (:mod:`nlp.safety_prefilter`) reads it as its literals, not "better" or "nobody"."""
_THINGS = r"(?:things|stuff|belongings|possessions|treasures|jewellery|clothes|books|records)"
_PLACE = (r"(?:bridge|railway(?: line| bridge)?|train tracks|tracks|level crossing|cliffs?|cliff edge|cliff top|"
          r"viaduct|quarry|reservoir|top of the (?:multi-?storey|car park)|roof)")

INDIRECT = _compile(
    # "I can't go on like this", "i cant keep going like this", "can't carry on." -- not "like this with the waiting lists"
    r"\b" + _CANT + r" (?:go on|carry on|keep going|keep on|keep doing this|continue|live)(?: living)? like (?:this|that)\b"
    r"(?=\s*(?:$|[.!?;:-]|(?:and|but|so|cos|because)\b|(?:, ?)?(?:any ?more|any longer|much longer|for much longer|no more|i|i'?m|im|honestly|really|nothing|nobody|no one)\b))",
    r"\b" + _CANT + r" (?:go on|carry on|keep going)(?: any ?more| any longer)?" + _END,
    r"\b" + _CANT + r" face (?:another|one more|any more) day\b(?=\s*(?:$|[.!?,;:-]|(?:and|but|so)\b|like this\b|of this\b|of living\b|alive\b|any ?more\b))",
    # "I've had enough of living", "sick of being alive", "so tired of life" -- not "of the phone queue", "of life on the ward"
    r"\b(?:had enough|tired|sick|sick and tired|fed up|weary|done)(?: of| with) (?:living|life|being alive|being here|existing|my life|this life)\b"
    r"(?! (?:in|on|at|out of|with|near|next to|by|so far|miles|as a|without|here)\b)",
    r"\b(?:had enough|tired|sick|fed up|done)(?: of| with) (?:everything|it all|all of it|fighting|trying|pretending|struggling)" + _END,
    # "I just want it all to stop", "want it to be over" -- not "to stop being so complicated"
    r"\b(?:want|need|wish)(?:ed)? (?:(?:it all|everything|all of it|all of this|all this) to (?:stop|end|be over)|(?:it|this) to (?:all )?(?:end|be over))"
    r"(?: now| for good| forever)?" + _END,
    r"\b(?:want|wanted) to (?:go to sleep|sleep|fall asleep) (?:and|to) (?:never|not) (?:wake|waking)(?: up)?\b|\bsleep (?:for ever|forever) and\b",
    # "I've been giving my things away", "I gave all my stuff away to my brother" -- not "away to charity"
    r"\b(?:giv(?:e|es|ing|en)|gave) (?:(?:away (?:all |most |some |most of |all of |some of )?my " + _THINGS + r")|(?:all |most |some |most of |all of |some of )?my "
    + _THINGS + r" away)\b"
    r"(?![^.?!]{0,40}\b(?:charity|charities|charity shop|oxfam|hospice shop|clear-?out|declutter\w*|tip|moving|downsiz\w*|loan store|jumble)\b)",
    # "written goodbye letters", "written a note for my wife to find"
    r"\b(?:goodbye|farewell|good-bye) (?:letters?|notes?|messages?|videos?)\b",
    r"\b(?:written|wrote|writing|left|leaving) (?:a|my|the) (?:note|letter)s? (?:for|to) (?:my|the) (?:\w+ ){0,2}?"
    r"(?:to find|for when i'?m gone|explaining why|to say goodbye|for after i'?m gone)\b",
    # "I went to the bridge again last night", "stood at the edge of the cliff" -- not "the bridge club", "went over the bridge"
    r"(?<!\bwe )(?<!\bthey )\b(?:went|go|goes|going|gone|been|walked|walking|walk|drove|driving|drive|keep going|kept going|back) (?:back |up |down |out )?"
    r"(?:to|onto|on to|up to|down to|out to) ((?:the|that) " + _PLACE + r")\b"  # a group: its literals, not "to the"
    r"(?: (?:again|last night|at night|tonight|every night|in the night|alone|on my own|yesterday|today|this week|on \w+day))*"
    r"(?=\s*(?:$|[.!?;:-]|,(?! ?(?:then|to|for|before|after|and then)\b)|(?:and )?(?:i )?(?:just )?(?:stood there|sat there|stared|thinking|thought about|looking (?:down|over))\b))",
    r"\b(?:stood|standing|stand|sat|sitting|been standing|climbed|climbing|leaning) (?:on|at|by|over|onto) (?:the )?(?:edge of (?:the|a) |side of (?:the|a) )?"
    r"(?:bridge|cliffs?|cliff edge|railway line|train tracks|tracks|platform edge|ledge|parapet|roof)\b(?! (?:club|party|repairs?|roadworks|works|closure)\b)",
    # "they'd be better off / happier / fine without me", "better off if I was gone", "the sooner I'm gone the better"
    r"\b(?:better off|better|happier|easier|fine|cope better|manage better)(?: \w+)? without me\b(?! (?:for|on|at|while|today|tomorrow|this|next)\b)",
    r"\b(?:better|happier|easier|favou?r|relief|no ?one|nobody|everyone|everybody|they'?d|they would)\b[^.?!]{0,40}?\b" + _IF_GONE,
    r"\b(?:no ?one|nobody|noone)(?: would| 'd|'d| will)?(?: even| really| ever)? (?:miss me|notice|care|know)\b[^.?!]{0,12}?\b" + _IF_GONE,
    r"\bthe sooner i'?m (?:gone|dead)\b",
    # "I won't be around much longer", "I won't be here for the next appointment" -- not "as we're moving"
    r"\b(?:won'?t|will not|wont|not going to|i'?m not gonna) be (?:around|here)(?: for)? (?:much|very much|a lot|any|that much) longer\b(?! (?:at|in|on) (?:this|the|that)\b)",
    r"\b(?:won'?t|will not|wont|not going to) be (?:around|here) for (?:the|my|your) next (?:one|appointment|visit|round|survey|time)(?=\s*(?:$|[.!?;:-]|anyway\b))",
    # "there's no point in anything", "nothing left to live for", "I see no way out"
    r"\b(?:no|the|any) point (?:in |of |to )?(?:anything|any of it|it all|me|me even|me being here|me even being here|trying)" + _END,
    r"\bnothing (?:left )?to (?:live|keep going|go on|get up) for\b|\bnothing (?:left )?for me (?:here|now|any ?more)?" + _END,
    r"\bno (?:other )?way out\b(?=\s*(?:$|[.!?,;:-]|(?:and|but|so)\b|for me\b|any ?more\b|now\b|of (?:this|it|it all)" + _END + r"))",
    # "I'm just a drain on everyone", "a weight around everyone's neck", "a waste of space"
    r"\b(?:i'?m|i am|im|being|i feel like|i feel|i'?ve become|i have become)(?: just| only| such| nothing but| a complete)? "
    r"(?:a|an) (?:drain on|weight (?:around|round|on)|millstone|waste of (?:space|oxygen|air|a life))\b",
    # "I've made my plans and I know how I'd do it"
    r"\b(?:know|worked out|decided|planned|picked|chosen) (?:how|when|where|the day|the date) (?:i'?d|i would|i'?ll|i will|i'?m going to|i am going to|to) do it\b"
    r"(?! (?:differently|better|again|next|if|myself|properly|right)\b)",
)
