"""Risk said indirectly, in Welsh: added to the ``suicide`` patterns of :mod:`nlp.safety_patterns`,
the twin of :mod:`nlp.safety_indirect`. Worn out with living ("llond bol ar fyw", "dw i wedi cael
digon ar fywyd", "wedi laru byw"), no point to anything ("does dim pwynt i ddim byd"), giving
things away ("rhoi fy mhethau i ffwrdd"), going back to the bridge ("es i i'r bont eto neithiwr"),
and being gone ("fyddai neb yn gweld fy eisiau", "bydden nhw'n hapusach hebdda i"). The same
words fill ordinary complaints ("llond bol ar aros", "does dim pwynt ffonio", "es i at y bont i
ddal y bws"), so each phrase counts only where it ends a clause or is followed by the words that
make it a risk. Read after accents are dropped; first consonants mutate ("byw", "ar fyw"; "bywyd",
"fy mywyd"; "pethau", "fy mhethau").

Written against tests/data/safety_indirect_dev.csv and measured once on
tests/data/safety_indirect_heldout.csv (tests/test_safety_indirect.py has the figures).
"""

from __future__ import annotations

from nlp.safety_text import _compile

_JOIN = r"(?:a|ac|ond|achos|felly|and|but)\b"
"""A word that starts the next clause (a voice note's transcript has no punctuation)."""
_END = r"(?=\s*(?:$|[.!?,;:)-]|" + _JOIN + r"))"
_STILL = r"(?:rhagor|bellach|mwyach|(?:d|dd)im mwy|o gwbl|nawr|rwan|rwan hyn)"
"""Words that end a clause of giving up as well as its end does ("ddim mwy", "bellach")."""
_CLAUSE_END = r"(?=\s*(?:$|[.!?,;:)-]|" + _JOIN + r"|" + _STILL + r"\b))"
_LIFE = r"(?:(?:b|f)yw|(?:b|f)ywyd|(?:fy|'y) mywyd|'m bywyd|(?:b|f)od yn fyw|(?:b|f)odoli)"
_NOT_WHERE = (r"(?! (?:yn|ym|yng|mewn|gyda|gydag|efo|hefo|ger|drws|yno|fan|lle|ar ben|ar fy mhen|ar ei ben|ar ei phen|heb|tan|nes|"
              r"o dan|dan|drws nesa|fel (?:hyn|hynny) (?:yn|mewn|ym|yng|gyda|efo|heb))\b)")
"""Not "byw mewn ciw", "byw ar fy mhen fy hun" (living in, living alone): where one lives is no risk."""
_CANT = r"(?:methu|ffaelu|ffili|ffilu|alla i ddim|alla i'?m|fedra i ddim|fedra i'?m|sai'?n gallu|sa i'?n gallu|dwi'?m yn gallu|ddim yn gallu)"
_ON = r"(?:(?:ym|'?m)laen|ati)"
_WITHOUT_ME = r"(?:heb(?:dd(?:o|a|of)|of) (?:i|fi)|heb fi)\b(?!')"
_IF_GONE = (r"(?:taswn i|taswn|pe bawn i|petawn i|pe bai fi|tase fi|os bydda i|os fydda i|bo fi|mod i)(?:'n| yn)? "
            r"(?:wedi (?:mynd|marw|diflannu)|(?:d|dd)im yma|(?:d|dd)im o gwmpas|yn marw|marw)\b")

WELSH_INDIRECT = _compile(
    # "llond bol ar fyw", "wedi cael digon ar fywyd", "wedi blino byw", "laru ar fyw" -- not "llond bol ar aros", "ar fyw mewn ciw"
    r"\b(?:llond (?:(?:fy |'y )?m?bol|bol)|(?:hen )?(?:d|dd)igon|(?:b|f)lino(?:'n lan| yn lan)?|(?:a|l)?laru|(?:s|hy)?syrffedu)"
    r"(?: (?:yn )?llwyr)?(?: (?:ar|o|efo|gyda))? " + _LIFE + r"\b" + _NOT_WHERE,
    # "does dim pwynt i ddim byd", "sdim pwynt i ddim byd rhagor" -- not "i ddim byd ar y wefan", "i aros"
    r"\b(?:dim|ddim|sdim|heb|unrhyw)(?: \S+)?? (?:pwynt|diben|pwrpas|rheswm) (?:i |mewn |yn )?(?:(?:d|dd)im byd|unrhyw beth|dim|o gwbl|i ddim)"
    + _CLAUSE_END,
    # "rhoi fy mhethau i ffwrdd", "wedi rhoi fy holl bethau i ffwrdd" -- not "rhoddon ni ddillad y babi i ffwrdd", "i'r elusen"
    r"\b(?:rh|r)o(?:i|ddi|ddais|ddes|ddodd|es|is|dd)(?: \S+)?? (?:(?:fy|'y|'n) (?:holl )?(?:mhethau|bethau|stwff|eiddo|nhrysorau)|fy holl (?:bethau|stwff|eiddo))"
    r"(?: i gyd)? (?:i ffwrdd|bant|i fwrdd|i bobl|i'r teulu|i (?:fy|'y) \w+)\b"
    r"(?![^.?!]{0,30}\b(?:elusen|siop|tip|symud|clirio|oxfam|hosbis)\w*)",
    # "llythyrau ffarwel", "wedi sgwennu nodyn i'r teulu"
    r"\b(?:llythyr(?:au)?|nodyn|nodiadau|neges(?:euon)?) (?:ffarwel|ffarwel(?:io)?|hwyl fawr|olaf)\b",
    r"\b(?:sgwennu|sgrifennu|ysgrifennu|'sgwennu|gadael) (?:nodyn|llythyr) (?:i'?r|i fy|i 'y|i|ar gyfer y|ar gyfer fy) "
    r"(?:teulu|plant|ngwr|ngwraig|mhartner|mam|nhad|merch|mab|wr|wraig)" + _END,
    # "es i i'r bont eto neithiwr", "sefyll ar ymyl y clogwyn" -- not "es i at y bont i ddal y bws", "dros y bont"
    r"\b(?:es i|aethais|mynd|mi es|bues i|bues|bum i|wedi bod|cerddais|cerdded|gyrrais|gyrru|nol|'nol|yn ol)"
    r" (?:i'?r|at y|ar y|i ben y|lan i'?r|fyny i'?r|lawr i'?r|draw i'?r|i) (?:bont|clogwyn|clogwyni|glogwyn|rheilffordd|lein|trac|traciau|to|chwarel)\b"
    r"(?: (?:eto|neithiwr|heno|bob nos|yn y nos|gyda'r nos|ar fy mhen fy hun|ddoe|heddiw|wythnos yma|(?:dd|n)ydd \w+))*"
    r"(?=\s*(?:$|[.!?,;:-]|(?:a |i |ac )?(?:sefyll|edrych|syllu|meddwl|feddwl|eistedd)\b|yn (?:sefyll|edrych|syllu|meddwl)\b))",
    r"\b(?:sefyll|sefais|safais|eistedd|eisteddais|'n sefyll|yn sefyll|dringo|dringais|pwyso)\b[^.?!]{0,10}? (?:ar|ar ymyl|wrth ymyl|ar ochr|dros ymyl) "
    r"(?:y |'r )?(?:bont|clogwyn|glogwyn|clogwyni|rheilffordd|trac|traciau|platfform|to)\b(?! (?:i|a|ac) (?:ddal|aros|gwylio|wylio|weld|gweld|gwrdd|cwrdd)\b)",
    # "bydden nhw'n hapusach hebdda i", "fyddai neb yn gweld fy eisiau", "fyddai neb yn sylwi taswn i wedi mynd"
    r"\b(?:hapusach|haws|esmwythach|well eu byd|iawn|ddim gwaeth|dim gwaeth)(?: (?:bant|i ffwrdd|o lawer|yn llwyr))? " + _WITHOUT_ME,
    r"\bneb(?:'n| yn)? (?:gweld|weld) (?:fy |'y )?(?:eisiau|isio|ishe|isie|ngholli|ngholled)\b(?:(?: i)? (?!yn\b|ym\b|yng\b|ar\b|mewn\b|yn y\b)|\s*$|[.!?,;])",
    r"\bneb(?:'n| yn)? (?:sylwi|hidio|poeni|becso|malio|gofalu)\b[^.?!]{0,8}?" + _IF_GONE,
    r"\b(?:well|gwell|hapusach|haws)\b[^.?!]{0,20}?\b" + _IF_GONE,
    # "fydda i ddim yma'n hir", "fydda i ddim o gwmpas llawer hirach"
    r"\b(?:fydda i|bydda i|fyddai i|fyddaf i|fydda'i|wna i)(?:'n| yn)? (?:d|dd)im (?:yma|o gwmpas)(?:'?n| yn)? "
    r"(?:(?:am )?(?:lawer |lot |llawer |fawr )?hirach|yn hwy|hir(?: eto)?(?=\s*(?:$|[.!?])))\b",  # not "yma'n hir, dim ond am y prawf"
    # "alla i ddim mynd ymlaen fel hyn", "methu wynebu diwrnod arall" -- not "fel hyn heb lifft"
    r"\b" + _CANT + r"(?: \S+)?? (?:mynd|cario|(?:d|dd)al|byw) " + _ON + r"? ?fel hyn" + _CLAUSE_END,
    r"\b" + _CANT + r" (?:wynebu|diodde|dioddef|godde|goddef) (?:diwrnod|noson|wythnos|bore) arall\b"
    r"(?=\s*(?:$|[.!?,;:-]|" + _JOIN + r"|fel hyn\b|o hyn\b|" + _STILL + r"\b))",
    # "does dim ffordd allan i fi", "dw i ddim yn gweld dyfodol" -- not "o'r maes parcio", "i'r feddygfa"
    r"\b(?:dim|ddim|sdim|heb|unrhyw)(?: \S+)?? ffordd (?:allan|mas|ma's)\b(?=\s*(?:$|[.!?,;:-]|" + _JOIN + r"|i fi\b|i mi\b|o hyn\b|o hyn i gyd\b|" + _STILL + r"\b))",
    r"\b(?:d|dd)im(?:'n| yn) (?:gweld|weld) (?:unrhyw )?(?:d|dd)yfodol\b(?=\s*(?:$|[.!?,;:-]|" + _JOIN + r"|i fi\b|i mi\b|i'?n hun\b|" + _STILL + r"\b))",
)
