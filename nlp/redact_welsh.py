"""The Welsh half of finding names (:mod:`nlp.redact_names`): Chorus talks with people in
Welsh too, and they name themselves the Welsh way ("Fy enw i yw Elin", "Elin Wyn Jones ydw
i", "fy mab Osian"). Kept apart so the English cues stay readable; the cues here are regex
fragments that :mod:`nlp.redact_names` joins to its own.
"""

from __future__ import annotations

import re

NAMING = (r"(?:fy|ei|eu|ein)\s+enw(?:\s+(?:i|hi|e|o|fi))?\s+(?:yw|ydy|ydi|oedd)"
          r"|enw\s+fi\s+(?:yw|ydy|ydi)")
"""'My name is' ("fy enw i yw", "fy enw ydy", "enw fi yw"): followed by a name, in any case."""
SIGN_OFFS = r"cofion(?:\s+(?:cynnes|gorau))?|yn\s+gywir"
"""Sign-offs before a name ("Cofion, Elin", "Yn gywir, Dafydd Jones")."""
INTRODUCTIONS = r"fi\s+(?:yw|ydy|ydi)"
"""'I am' ("Fi yw Elin"): a given name or a capitalised word that is no ordinary one."""
RELATIONS = (
    r"(?:fy|ein)\s+(?:mab|merch|ngŵr|ngwr|ngwraig|mhartner|mam|nhad|mrawd|chwaer|ffrind|nain|nhaid|mam-gu|"
    r"nhad-cu|ŵyr|wyr|wyres|mhlentyn|mabi|babi|nai|nith|modryb|ewythr|nghefnder|nghyfnither|nghymydog|"
    r"ngofalwr|ngofalwraig|nghariad|cariad)")
"""'My son', 'our daughter' and so on, mutated as they are after "fy" ("fy mab Osian", "fy ngŵr Dafydd")."""
SELF_NAMED = re.compile(
    r"(?P<cue>\s+(?:ydw\s+i|ydy\s+i|ydi\s+i|sy\s+['\u2019]?ma|sydd\s+yma|yw\s+fy\s+enw|ydy\s+fy\s+enw"
    r"|is\s+my\s+name)|\s+dw\s+i)"
    r"(?=\s*(?:$|[.,!?;:)\n])|\s+(?:a|ac|ond|and|but|o|from|yma|fan\s+hyn)\b)",
    re.IGNORECASE)
"""A name *before* its cue: "Elin ydw i" ("I'm Elin"), "Elin sy 'ma" ("it's Elin here"),
"Elin yw fy enw" ("Elin is my name"), the cue ending the sentence or followed by "and", "but"
or "from" ("Elin ydw i o Fangor"): "Atebwch YDW i ddileu" is "Reply YES to delete". After "dw
i", colloquial and also the start of many sentences, only a given name counts (group ``cue``
starts with "dw")."""

_ORDINARY = """
a ac ar am at i o y yr yn ym yng wedi ddim dim na nac nad ie do naddo oes ydw ydy ydi yw mae roedd oedd bod
ond felly hefyd wel achos oherwydd os pan yna wedyn dyna dyma efallai falle ella nawr rŵan heddiw ddoe fory
heno bore prynhawn noswaith nos helo shwmae diolch iawn da gwael drwg bach mawr hen ifanc newydd unig pwy beth
sut pam ble lle pryd faint fi fy mi ti dy ni chi nhw hi fe fo e ei eu ein eich yma 'ma dyn menyw dynes
nyrs meddyg doctor claf cleifion mam tad gofalwr gofalwraig gofalwyr gwirfoddolwr gweithiwr athro athrawes
myfyriwr myfyrwraig cymro cymraes cymraeg gymraeg sais saesnes saesneg gŵr gwr gwraig merch mab plentyn plant
rhiant nain taid mam-gu tad-cu ffrind cymydog staff pensiynwr hapus trist blin grac crac sâl sal tost ofnus
pryderus blino diolchgar siomedig anabl beichiog diabetig byddar dall priod sengl gweddw
"""
ORDINARY = frozenset(_ORDINARY.split())
"""Welsh words that stand where a name could ("Nyrs ydw i" is "I'm a nurse", "Nac ydw" is
"no"), and are none."""
PLACE_BEFORE = frozenset({"ysbyty", "capel", "eglwys", "sant", "santes", "tywysog", "tywysoges", "brenin", "brenhines"})
"""A given name after these is part of a place ("Ysbyty Dewi Sant", "Capel Sion")."""
PLACE_AFTER = frozenset({"sant", "santes"})
"""... and so is one before these ("Dewi Sant")."""
