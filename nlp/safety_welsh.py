"""The Welsh half of the lexicon (:mod:`nlp.safety_patterns` adds each category's patterns to the
English ones, and every message is read in both languages, whatever the session's: people
switch). Read after accents are dropped (:func:`nlp.safety_text.normalise`: "stroc" is "strôc").
A first consonant mutates after some words ("lladd", "am ladd"; "brest", "fy mrest"), so each
word has its forms, north and south ("isio", "moyn"). Overdose: :mod:`nlp.safety_medicines`.
"""

from __future__ import annotations

import re

from nlp.safety_text import _compile, normalise

_CY_WANT = r"(?:eisiau|eisie|isio|isie|ishe|isho|moyn|mo'?yn|awydd|dymuno)"
_CY_DONT_WANT = r"(?:\b(?:ddim|dim|sai|sa i|so fi|so i)|'m)(?:'n| yn)? " + _CY_WANT
_CY_MYSELF = r"(?: fy| 'y| 'yn| fi'?n| fi fy|'n) hun(?:an)?\b"  # "fy hun", "fy hunan", the spoken "'n hun", "fi'n hun"
_CY_ALL = r"(?:'r (?:cyfan|cwbl|cwbwl)|y (?:cyfan|cwbl|cwbwl)|(?:p|ph|b)opeth|f?o i gyd|f?e i gyd|hyn i gyd|(?:fy|'y) mywyd(?: i)?|'m bywyd|(?:p|b)ethau)"
_CY_ON = r"(?:(?:ym|'?m)laen)"
_CY_NOT_PLACE = r"(?! (?:yn|ym|yng|mewn|gyda|efo|hefo|ger|drws|yno|fan|lle|ar ben|ar fy mhen|heb|tan|nes)\b(?! y byd))"  # "byw yng Nghaerdydd"
_CY_NOT_HOME = r"(?! (?:gartref|gartre|adref|adre|adra|yn (?:yr |y |ei |fy |eu )?(?:ysbyty|hosbis|nghartref|gartref|cartref|chartref|wely)|mewn hosbis)\b)"
_CY_CHEST = r"(?:(?:fy|'y) (?:mrest|mron)|ei (?:frest|brest|fron|bron)|y frest|'r frest)"
_CY_ME = r"(?:fi|fy (?:mhlant|mab|merch|mam|nhad|ngwraig|ngwr|mhartner)|y plant|'r plant)\b"
_CY_CANT = r"(?:methu|ffaelu|ffili|ffilu|ddim yn gallu|dim yn gallu|alla i ddim|fedra i ddim|fedrith (?:e|o|hi) ddim|all (?:e|o|hi) ddim)"

WELSH: dict[str, list[re.Pattern[str]]] = {
    "suicide": _compile(
        r"\bhunanladd|\b(?:ll|l)add(?:" + _CY_MYSELF + r"| ei hun(?:an)?\b)",
        r"\b(?:" + _CY_WANT + r"(?: cael)?|(?:i|fi|dwi) am|(?:hoffwn|licien|liciwn|leiciwn) i) (?:marw|farw)\b" + _CY_NOT_HOME
        + r"|\b(?:(?:c|g)ymryd|(?:d|dd)iweddu) (?:fy|'y) mywyd\b(?! drosodd)",
        r"\b(?:dymuno|biti|piti|trueni|well|gwell)\b[^.?!]{0,20}?\b(?:taswn i|pe bawn i|faswn i|fyswn i|fyddwn i|fydden i|sen i|bo fi|mod i|fy mod i|i fi|i mi)(?:'n| yn)? (?:wedi )?(?:marw|farw)\b",
        r"\b(?:dim byd|dim|ddim byd) i (?:fyw|byw) (?:amdano|ar ei gyfer|iddo)\b|\bd?dod (?:a|ag) ?" + _CY_ALL + r" i ben\b|\b(?:rh|r)oi (?:diwedd|terfyn|pen) ar " + _CY_ALL,
        r"\b(?:" + _CY_WANT + r"|am|barod i|meddwl am|mynd i|digon i|jyst|jest) (?:g)?orffen (?:y cyfan|y cwbl|y cwbwl|f?o i gyd|hyn i gyd|fy mywyd)\b(?! o'r| o | (?:g|w)aith| cyn| erbyn| heddiw| yfory| fory)"
        r"|\b(?:g)?orffen (?:y cyfan|y cwbl|y cwbwl|hyn i gyd|f?o i gyd) (?:heno|am byth|unwaith ac am byth)\b",
        r"\b(?:dim|ddim|sdim|heb|unrhyw|beth yw'r|be 'di'r|be di'r|be ydi'r|be'r|gweld)\s(?:\S+ ){0,2}?(?:pwynt|pwrpas|rheswm|diben)(?: \S+){0,3}? "
        r"(?:byw|fyw|(?:b|f)od yn fyw|(?:b|f)od yma|(?:c|g)ario " + _CY_ON + r"|(?:m|f)ynd " + _CY_ON + r"|(?:b|f)odoli)\b(?! (?:a|ag|gyda|efo|hefo)\b)",
        _CY_DONT_WANT + r" (?:byw|fyw|bod yn fyw|fod yn fyw|bodoli|fodoli)\b" + _CY_NOT_PLACE,
        _CY_DONT_WANT + r" (?:(?:b|f)od yma\b(?! (?:yn y|yn yr|ym|yng|tan|am (?:f|m)wy|am oriau|heno)\b)|(?:d|dd)effro(?: eto| byth)?\b(?!'?n gynnar| yn gynnar| am| mor| tan| cyn))",
        r"\bna (?:fydda|fyddaf|wna|wnaf|wnai) i(?:'n| yn)? (?:dd|d)effro\b|\bbyth (?:yn )?(?:dd|d)effro(?: eto)?\b",
        r"\b(?:g)?well (?:bant |i ffwrdd |eu byd |ei byd |ei fyd |ein byd |off )?(?:heb(?:dd(?:o|a|of)|of) (?:i|fi)|heb fi)\b(?!'| (?:ddweud|fod|wneud|gael|ni)\b)",
        r"\b(?:dw i|dwi|rwy|rydw i|wi|ydw i|dw)(?:'n| yn) (?:ddim ond |ormod o |gymaint o |jyst |jest )?(?:f|b)aich\b|\bbaich (?:ydw i|ydw|dw i|wyf i|ydwi)\b|\bteimlo fel (?:b|f)aich\b",
        r"\b(?:alla i ddim|alla i'?m|alla'i ddim|fedra i ddim|fedrai ddim|fedra i'?m|methu|ffaelu|ffili|sai'n gallu|sa i'n gallu|dwi'?m yn gallu|ddim yn gallu)(?: \S+)?? "
        r"(?:mynd " + _CY_ON + r"|cario " + _CY_ON + r"|dal ati|ymdopi|diodde|dioddef|godde|goddef|cymryd hyn|g?wneud hyn|neud hyn)(?: fel hyn)?(?: \S+)?? (?:ddim mwy|dim mwy|rhagor|bellach|mwyach)\b",
        r"\b(?:neidio|taflu fy hun|daflu fy hun|camu|cerdded|gorwedd)\b[^.?!]{0,25}?\bo (?:flaen|dan) (?:y |'r |rhyw )?(?:tren|dren|bws|lori|car|traffig)\b"
        r"|\bneidio (?:oddi ar|o ben|off|dros) (?:y |'r )?(?:bont|pont|clogwyn|glogwyn|to|adeilad|maes parcio)\b",
    ),
    "self_harm": _compile(
        r"\bhunan[- ]?niweid|\bnes (?:iddo|iddi|iddyn nhw|bod e'?n|bod o'?n|ei fod yn) g?waedu\b",
        r"\b(?:niweidio|anafu|(?:b|f)rifo|(?:t|d)orri|(?:ll|l)osgi|(?:c|g)osbi)" + _CY_MYSELF + r"(?! (?:i )?ffwrdd| allan)",
        r"\b(?:t|d)orri (?:fy|'y) (?:ngarddyrnau|nghroen|mreichiau|ngluniau|nghoesau)\b|\b(?:ysfa|awydd|chwant) i (?:dd?orri|f?rifo|niweidio|anafu)\b",
    ),
    "abuse": _compile(
        r"\b(?:fy|'y) (?:nharo|mwrw|nghuro|nghicio|nyrnu|nhagu|ngham-? ?drin|nhreisio|mygwth|nghlatsio|mhwnio|nhrywanu)\b",
        r"\b(?:taro|daro|bwrw|fwrw|curo|guro|cicio|gicio|hitio|dyrnu|ddyrnu|tagu|dagu|slapio|pwnio|bwnio|cam-? ?drin|gam-? ?drin|bygwth|fygwth|treisio|dreisio) "
        + _CY_ME + r"(?! (?:fel|fod|bod|mai|pa mor)\b)",
        r"\b(?:b|f|m)ygwth (?:fy |'y )?(?:lladd|ladd|brifo|frifo|mrifo|nhrywanu|trywanu|drywanu|llosgi|losgi|niweidio|anafu)\b|\b(?:b|f)ygythiodd (?:fi|fy|ni)\b"
        r"|\bwedi (?:fy |'y )?(?:b|m)ygwth\b(?! (?:cau|codi|gadael|streicio|ymddiswyddo|canslo|cwyno)\b)",
        r"\b(?:ofn|ofni|ofnus)\b[^.?!]{0,15}?\b(?:mynd|fynd) (?:nol )?(?:adre|adref|adra|gartre|gartref|i'r ty|nol i'r ty)\b"
        r"|\b(?:ofn|ofni|ofnus)\b[^.?!]{0,12}?\b(?:ohono (?:fe|fo|e|o)|ohoni(?: hi)?|ohonyn nhw|fy (?:ngwr|mhartner|nhad|nghyn-? ?bartner|nghariad|ngwraig|nghyn-? ?wr|nghyn-? ?wraig|mrawd))\b",
        r"\b(?:ddim|dim|sai|sa i)(?:'n| yn)? (?:teimlo|deimlo)(?:'n| yn) (?:ddiogel|saff|diogel)\b"
        r"|\b(?:ddim|dim)(?:'n| yn) (?:ddiogel|saff) (?:adre|adref|adra|gartre|gartref|yn y ty|yn fy nghartref|gyda fe|gyda fo|efo fo|gydag e|gyda hi|efo hi)\b",
        r"\b(?:" + _CY_WANT + r"|am|mynd i|'n mynd i)\s(?:ei |'i |'w )?(?:(?:ll|l)add|(?:b|f)rifo|(?:t|d)rywanu|(?:ll|l)osgi) "
        r"(?:e|o|fe|fo|hi|nhw|rhywun|fy (?:ngwr|ngwraig|mhartner|nhad|mam|mrawd|chwaer|nghymydog|mhennaeth|rheolwr|mos|bos))\b",
        r"\b(?:t|d|nh|th)rywan(?:u|wyd|odd)\b|\b(?:t|d|nh|th)reis(?:io|iwyd|iodd)\b|\btrais\b",
        r"\b(?:gen i|gyda fi|'da fi|da fi|gynno i|gynno fo|gyda fe|'da fe|cario|gario|chario)(?: \w+)?? (?:g|c|ch)yllell\b"
        r"|\b(?:c|g|ngh|ch)am-? ?drin|\bcamdriniaeth|\bymosod(?:odd|wyd)? (?:arna i|arnaf|arnon ni)\b|\bymosod(?:iad)? rhywiol\b",
        r"\b(?:rheoli|cymryd|gymryd) (?:fy|'y|ein) (?:h)?arian i gyd\b|\b(?:e|o|hi|fe|fo)(?:'n| yn) rheoli (?:fy|'y|ein) (?:h)?arian\b",
    ),
    "medical": _compile(
        r"\b(?:p|b|ph|mh)oen(?:au)?\b(?:(?: \w+){0,3}? (?:yn|ar|ar draws|yng nghanol) " + _CY_CHEST + r"| (?:y )?(?:f|b)rest\b)",
        r"\b(?:brest|frest|mrest|fy mron|ei bron|ei fron)(?:'n| yn) (?:dynn|tynn|brifo|gwasgu|boenus)\b"
        r"|\b(?:t|d|th|nh)yndra\b[^.?!]{0,10}? (?:yn|ar|ar draws) " + _CY_CHEST + r"|\bg?wasgu ar " + _CY_CHEST,
        r"\b(?:t|d|th|nh)rawiad ar y galon\b|\b(?:cael|gael|chael|cafodd (?:e|o|hi|fe|fo)|gafodd (?:e|o|hi|fe|fo)|ges i|ces i) (?:t|d)rawiad\b"
        r"|\b(?:cael|gael|chael|cafodd|gafodd|ges|ces)(?: \w+){0,2}? strocs?\b",
        r"\b(?:(?:g|ng|h)?wyneb|(?:c|g|ch|ngh)eg)\b[^.?!]{0,10}?\b(?:wedi|yn|'n) (?:disgyn|cwympo|syrthio|gwympo|llithro|lithro)\b"
        r"|\b(?:siarad|lleferydd|leferydd)(?:'n| yn) (?:aneglur|floesg)\b|\bslyri(?:o|an)\b",
        r"\b" + _CY_CANT + r" (?:symud|teimlo|deimlo) (?:fy|'y|ei) (?:mraich|fraich|braich|mreichiau|breichiau|nghoes|choes|goes|coes|nghoesau|ochr|hochr|wyneb|hwyneb)\b",
        r"\b(?:" + _CY_CANT + r"|prin yn|prin|cael trafferth|trafferth|anodd|stryglo|brwydro i) (?:anadlu|cael (?:fy|'y|ei) (?:ngwynt|wynt|gwynt|hanadl|anadl))\b"
        r"|\b(?:brwydro|ymladd) am (?:ei |fy |'y )?(?:anadl|aer|wynt|gwynt|ngwynt|hanadl)\b",
        r"\b(?:gwefusau|wefusau|ngwefusau|(?:g|ng|h)?wyneb|babi|croen|groen)(?:'n| yn)? ?(?:troi|droi|mynd|wedi troi|wedi mynd)?(?:'n| yn) (?:las|glas|llwyd|lwyd)\b"
        r"|\bg?waedu(?:'n| yn) (?:drwm|ddrwg|ofnadwy|ddi-?stop|lot|yn ofnadwy|yn drwm|gormod)\b|\bg?waedu(?: \w+){0,4}? (?:ddim|dim)(?:'n| yn) stopio\b",
        r"\b(?:methu|ffaelu|ffili|ddim yn|dim yn) (?:stopio|atal) ?(?:y |'r )?g?waed(?:u)?\b|\b(?:chwydu|pesychu|peswch|taflu i fyny|cyfogi) g?waed\b|\bg?waed ym mhob(?:man|lle)\b",
        r"\b(?:ll|l)ewyg(?:u|odd|ais)\b|\banymwybodol\b|\banaff?yla|\b(?:methu|ffaelu|ffili|alla i ddim|fedra i ddim|ddim yn gallu) (?:ei (?:dd|d)effro|(?:dd|d)effro (?:e|o|fe|fo|hi|nhw)\b|(?:dd|d)effro'r (?:babi|plentyn))",
        r"\b(?:(?:g|ng|w)?wdd(?:f|w)|(?:t|d|nh|th)afod|(?:g|ng|w)?wefus(?:au)?)\b[^.?!]{0,25}?(?:wedi |yn |'n )(?:chwyddo|chwyddedig|cau)\b"
        r"|\b(?:c|g)ur pen (?:gwaethaf|gwaetha)\b|\b(?:p|b)en tost (?:gwaethaf|gwaetha)\b|\bbrech (?:sydd |sy )?(?:ddim|dim|nad yw'?n|nad ydy'?n)(?: yn)? (?:diflannu|pylu)\b",
        r"\b(?:taro|daro|bwrw|fwrw|tharo) (?:fy|'y|ei) (?:mhen|ben|phen)\b|\b(?:yn|'n) cael (?:ffit|ffitiau|trawiad)\b(?! o\b)",
    ),
}


_CY_WORD_LIST = """
y yr yn mae mai roedd oedd ro roeddwn wedi di ddim fy ein eich eu ei gyda efo hefo gan ar ac ond neu hefyd iawn dw dwi wi rwy
rydw rydyn ydw ydy ydi yw oes does doedd dyw dydy nid nad nhw ni chi fi mi fe fo r n ges ches cefais gefais cafodd gafodd
cael gael chael bod fod mynd fynd dod ddod daeth aeth es gwneud wneud wnaeth wnes nes beth pwy sut pam lle yma yno hwn hon
hyn hynny rhaid angen eisiau isio moyn gallu methu neb rhywun pob bob mwy dda diolch heb wrth yng ym mewn drwy trwy dros
rhwng arna wrtha wrthon nos dydd heddiw ddoe fory yfory wythnos wythnosau awr oriau adre adref adra gartref ysbyty meddyg
feddyg feddygfa aros amser achos oherwydd felly gwybod wybod fuodd buodd bu fydd bydd byddai oedden ydych dych dach nawr rwan
dyna dyma cyfan gwaith byd cymryd gymryd marw farw dim tan dylen dylai dylid pobl rhagor sdim sai sa bydda byddwn pawb
dechreuais cymerais gweld pwynt fel heno popeth phopeth ben fyw byw hun hunan teimlo deimlo gyd ofn wir neges anfon gormod
ormod tabledi dabledi nhabledi ofnadwy hir gyflym mawr bach mam nain taid nhad ngwr gwr gwraig ngwraig merch mab ffrind
ffonio ffon fferyllfa nyrs apwyntiad apwyntiadau rhestr canlyniadau gwaed poen boen teulu gofal cefn nghefn eto rhy llawer
gwell gwaeth drwg ddrwg hapus trist blino wedyn cyn ol ers erbyn tua rhywbeth dwy dau tri tair pedwar deg ydyn ydan oeddwn
fyddai buasai baswn faswn hwyr cynnar arall eraill ddiwrnod diwrnod mis misoedd blwyddyn llynedd
"""
_CY_WORDS = frozenset(_CY_WORD_LIST.split())
"""Common Welsh words that are not English ones (nor "i", "a", "o", "am", "hi", which are both), for
:func:`reads_as_welsh`; read after :func:`nlp.safety_text.normalise`, apostrophes splitting words."""
_EN_WORD_LIST = """
the and to of was is my he she we they not no with for had have has been were it that this you be at on in but so me her
him his our us there when what all just very would could don didn can t s m d ve ll re an are do did as by from if or
"""
_EN_WORDS = frozenset(_EN_WORD_LIST.split())
"""Common English words, for :func:`reads_as_welsh` to weigh against."""
WELSH_SHARE = 2.0
"""How many Welsh words (:data:`_CY_WORDS`) per English one a message needs to read as Welsh."""


def reads_as_welsh(text: str) -> bool:
    """Whether a message is written in Welsh: at least two common Welsh words, and ``WELSH_SHARE``
    times as many as common English ones ("Ches i ddim gwybod y dyddiad rhyddhau tan y funud olaf"),
    so that an English sentence with a Welsh word or two ("diolch, but I can't go on") is English.
    The embedding model is an English one: Welsh is noise to it (:mod:`nlp.safety_vote`)."""
    words = re.findall(r"[a-z]+", normalise(text))
    welsh = sum(word in _CY_WORDS for word in words)
    english = sum(word in _EN_WORDS for word in words)
    return welsh >= 2 and welsh >= WELSH_SHARE * english
