"""Safeguarding phrase patterns read Welsh.

Found by exploratory testing: "Dw i eisiau marw" ("I want to die") raised no alert and no
signposting with CHORUS_SAFEGUARDING=patterns, in an English or a Welsh session, because the
patterns had no Welsh. Welsh mutates a word's first consonant after certain words ("lladd",
"am ladd"; "tabledi", "fy nhabledi", "o dabledi"; "poen", "mae gen i boen"), has north and south
forms ("isio", "moyn"; "adra", "adre"), and is often typed without its accents ("stroc",
"dod a'r cyfan i ben"), so these sentences do too.

DEVELOPMENT_* are the sentences the patterns were written against. HELD_OUT was written and
fixed (sha256 below) before any Welsh pattern, and no pattern was changed because of it: the
thresholds are what it gave when first measured (34 of 34 risky, 0 of 32 ordinary). One person
wrote both the set and, straight after, the patterns, so that figure flatters: ten oblique
phrasings written afterwards ("llond bol ar fyw", "fyddai neb yn gweld fy eisiau") were all
missed, as oblique English is by the patterns (and the embedding model is an English one)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.service import ConversationService, ReceiveResult
from nlp.safety import content_words, lexicon_match, normalise
from storage.database import Database
from storage.tables import FLAGS

DEVELOPMENT_RISKY: list[tuple[str, str]] = [
    ("suicide", "Dw i eisiau marw"),
    ("suicide", "dwi isio marw, go iawn"),
    ("suicide", "wi'n moyn marw a dyna'r gwir"),
    ("suicide", "Dw i eisiau lladd fy hun"),
    ("suicide", "dwi am ladd fy hunan heno"),
    ("suicide", "weithiau dw i'n meddwl am ladd 'yn hun"),
    ("suicide", "dw i isio dod â'r cyfan i ben"),
    ("suicide", "dw i isio dod a'r cyfan i ben"),
    ("suicide", "dw i am orffen y cyfan, sori"),
    ("suicide", "does dim pwynt byw"),
    ("suicide", "sdim pwynt i fi fyw rhagor"),
    ("suicide", "bydden nhw i gyd yn well bant hebddo i"),
    ("suicide", "bydda pawb yn well hebdda i"),
    ("suicide", "dw i ddim eisiau byw ddim mwy"),
    ("suicide", "sa i moyn byw rhagor"),
    ("suicide", "dw i wedi cael meddyliau hunanladdol ers wythnos"),
    ("suicide", "dw i'n faich ar bawb"),
    ("suicide", "fedra i ddim mynd ymlaen fel hyn ddim mwy"),
    ("suicide", "dw i'n meddwl am roi diwedd ar fy mywyd"),
    ("suicide", "hoffwn i farw yn fy nghwsg"),
    ("self_harm", "dw i wedi bod yn niweidio fy hun eto"),
    ("self_harm", "dwi'n brifo fy hun pan dw i'n drist"),
    ("self_harm", "mae'r awydd i frifo fy hun yn gryf heddiw"),
    ("self_harm", "dw i'n torri fy hun bob nos"),
    ("self_harm", "dechreuais i dorri fy hun eto"),
    ("overdose", "dw i'n meddwl am gymryd gorddos"),
    ("overdose", "nes i orddosio ddoe"),
    ("overdose", "dw i wedi llyncu'r tabledi i gyd"),
    ("overdose", "wnes i lyncu fy nhabledi i gyd neithiwr"),
    ("overdose", "wedi cymryd llond llaw o dabledi"),
    ("overdose", "cymerais i ugain o barasetamol"),
    ("overdose", "dw i wedi bod yn cadw fy nhabledi yn lle eu cymryd"),
    ("overdose", "dw i'n casglu tabledi sbâr ers misoedd"),
    ("overdose", "dw i wedi bod yn celcio tabledi cysgu"),
    ("overdose", "tabledi a fodca heno"),
    ("abuse", "mae e'n fy nharo i"),
    ("abuse", "mae hi'n fy mwrw"),
    ("abuse", "mae o'n fy nghuro i ar ôl yfed"),
    ("abuse", "mae ofn arna i fynd adre"),
    ("abuse", "ofn arna i fynd adra heno"),
    ("abuse", "mae e'n fy mygwth i drwy'r amser"),
    ("abuse", "mae e wedi bygwth fy lladd"),
    ("abuse", "dw i ddim yn teimlo'n ddiogel adre"),
    ("abuse", "mae fy ngŵr yn cam-drin fi"),
    ("abuse", "dyw e ddim yn gadael i mi gymryd fy meddyginiaeth"),
    ("abuse", "dw i'n mynd i ladd e"),
    ("medical", "mae gen i boen yn fy mrest"),
    ("medical", "poen yn fy mrest ers awr"),
    ("medical", "mae poen ofnadwy yn ei frest"),
    ("medical", "dw i'n methu anadlu"),
    ("medical", "mae'r babi'n ffaelu anadlu"),
    ("medical", "dw i'n meddwl bod Dad yn cael strôc"),
    ("medical", "mae hi'n cael stroc dw i'n credu"),
    ("medical", "mae e wedi cael trawiad ar y galon"),
    ("medical", "mae fy mrest yn dynn ac yn gwasgu"),
    ("medical", "mae hi'n gwaedu'n drwm"),
    ("medical", "mae e'n anymwybodol ar y llawr"),
    ("medical", "mae ei wyneb wedi disgyn ar un ochr"),
    ("medical", "mae ei gwefusau'n troi'n las"),
    ("medical", "mae fy ngwddf yn chwyddo ar ôl y pigiad"),
    ("suicide", "dwi isie marw"),
    ("suicide", "isio lladd fi'n hun"),
    ("suicide", "dod â phopeth i ben"),
    ("suicide", "sai'n gweld pwynt byw"),
    ("suicide", "does dim rheswm i fyw"),
    ("overdose", "dw i am gymryd yr holl dabledi"),
    ("overdose", "cymerais i'r pils i gyd gyda gwin"),
    ("abuse", "mae o'n hitio fi"),
    ("abuse", "mae e'n cuddio fy nhabledi"),
    ("medical", "phoen yn ei brest"),
    ("medical", "methu stopio'r gwaedu"),
    ("medical", "mae e wedi taro ei ben"),
]

DEVELOPMENT_ORDINARY: list[str] = [
    "roedd y boen yn ofnadwy yn y nos",
    "mae'r batri wedi marw",
    "bron â marw o syched yn yr ystafell aros",
    "ro'n i eisiau marw o gywilydd",
    "dw i wedi cymryd deuddeg tabled y dydd ers blynyddoedd",
    "roeddwn i bron â marw eisiau mynd i'r tŷ bach",
    "bu farw fy mam y llynedd",
    "mae fy nhad wedi marw ers deg mlynedd",
    "roedd Dad eisiau marw adre, ac mi wnaeth",
    "dw i'n cymryd fy nhabledi bob bore",
    "dw i'n cymryd fy nhabledi i gyd bob bore gyda brecwast",
    "dw i'n cymryd dau barasetamol pan mae fy nghefn yn brifo",
    "dw i'n cymryd deg tabled y dydd",
    "dw i'n casglu fy nhabledi o'r fferyllfa bob mis",
    "dw i'n cadw fy nhabledi yn y drôr",
    "mae'r tabledi lladd poen yn helpu",
    "mae'r aros yn lladd fi",
    "dw i'n lladd fy hun yn gweithio",
    "bron i fi gael gorddos o goffi",
    "wnaeth e fy nharo i fel rhyfedd",
    "mi wnaeth fy nharo i fod neb yn gwrando",
    "dw i ddim eisiau byw yn y dref",
    "dw i ddim isio byw ar fy mhen fy hun",
    "does dim pwynt ffonio cyn wyth",
    "does dim pwynt mynd ymlaen gyda'r gŵyn",
    "mae'n well heb y system newydd",
    "mae gen i boen yn fy nghefn",
    "cefais i boen yn fy mhen ar ôl y pigiad",
    "gwrandawodd y meddyg ar fy mrest",
    "mae'r uned strôc yn wych",
    "dw i'n gorffen y cyfan o'r gwaith heddiw",
    "wnes i dorri fy nghoes y llynedd",
    "dw i'n byw ar fy mhen fy hun",
    "mae hi'n bwrw glaw eto",
    "mae'r plant yn cicio pêl yn yr ardd",
    "dw i ofn nodwyddau",
    "mae fy ngwallt yn mynd yn llwyd",
    "mae'r awyr yn las heddiw",
    "roedd y nyrsys yn dda iawn, diolch",
    "roedd yr aros yn hir ond roedd pawb yn garedig",
    "daeth y cyfan i ben yn gyflym",
    "dw i eisiau dod â'r cyfarfod i ben yn gynnar",
    "dw i'n poeni am farw cyn gweld fy wyrion",
    "wedi cymryd fy nhabledi i gyd bore 'ma fel arfer",
    "mae'r feddygfa wedi bygwth cau",
    "wnaethon nhw ein curo ni 3-0 ddydd Sadwrn",
    "mae hi'n well hebddo i ddweud y gwir",
    "mae fy mab yn cael ffit o chwerthin",
    "dw i ddim eisiau deffro'n gynnar i'r apwyntiad",
    "mae'r meddyg teulu'n rheoli fy meddyginiaeth yn dda",
]

HELD_OUT_SHA256 = "286804f4ee241d804f83e3667406e1288cb78b1beea55d509c20f6156ca61630"
HELD_OUT: list[tuple[str, str, str]] = [
    ("1", "suicide", "dwi jyst isio marw, dwi di cael llond bol"),
    ("1", "suicide", "Sa i moyn byw rhagor, wir"),
    ("1", "suicide", "Weithiau dw i'n meddwl am ladd fy hunan"),
    ("1", "suicide", "mae'r meddyliau hunanladdol wedi dod nôl"),
    ("1", "suicide", "fyddai pawb yn well eu byd hebdda i"),
    ("1", "suicide", "Beth yw'r pwynt byw fel hyn"),
    ("1", "suicide", "dwi di bod yn meddwl am roi diwedd ar y cwbl"),
    ("1", "suicide", "Dw i am gymryd fy mywyd fy hun"),
    ("1", "suicide", "ma fe'n dweud bod e moyn lladd ei hunan"),
    ("1", "suicide", "gobeithio na fydda i'n deffro bore fory"),
    ("1", "suicide", "alla i ddim cario mlaen fel hyn ddim mwy"),
    ("1", "suicide", "dwi isio dod a fo i gyd i ben"),
    ("1", "self_harm", "ro'n i'n arfer torri fy hun a mae'r ysfa nôl"),
    ("1", "self_harm", "dwi wedi bod yn hunan-niweidio eto"),
    ("1", "self_harm", "nes i frifo fy hun neithiwr yn fwriadol"),
    ("1", "overdose", "wnes i gymryd gorddos llynedd a dwi'n teimlo run fath eto"),
    ("1", "overdose", "llyncais i'r paced cyfan o barasetamol"),
    ("1", "overdose", "dwi di bod yn cadw fy nhabledi cysgu yn lle eu cymryd"),
    ("1", "overdose", "mae gen i ddigon o dabledi wedi'u cuddio i orffen popeth"),
    ("1", "overdose", "wedi cymryd llwyth o dabledi efo fodca"),
    ("1", "abuse", "Mae o'n fy nghuro i pan mae o wedi meddwi"),
    ("1", "abuse", "dw i ofn mynd adra ato fo"),
    ("1", "abuse", "Mae fy mhartner yn fy mygwth i drwy'r amser"),
    ("1", "abuse", "wnaeth e fy nharo i o flaen y plant"),
    ("1", "abuse", "dyw hi ddim yn gadael i fi gael fy meddyginiaeth"),
    ("1", "abuse", "Dw i eisiau ei ladd e am beth wnaeth e"),
    ("1", "abuse", "dw i ddim yn teimlo'n saff yn y tŷ gyda fe"),
    ("1", "medical", "ma poen ofnadwy yn fy mrest i ac yn fy mraich chwith"),
    ("1", "medical", "mae Dad yn ffaelu anadlu'n iawn ac mae ei wefusau'n las"),
    ("1", "medical", "dwi'n meddwl bod Mam yn cael stroc, mae ei hwyneb wedi disgyn"),
    ("1", "medical", "mae'r babi'n gwaedu'n drwm a dyw e ddim yn stopio"),
    ("1", "medical", "Mae e wedi llewygu a dydy o ddim yn ymateb"),
    ("1", "medical", "methu cael fy ngwynt ac mae fy mrest yn dynn"),
    ("1", "medical", "mae fy nhafod a'm gwefusau wedi chwyddo ar ôl y tabled newydd"),
    ("0", "", "mae batri fy ffôn wedi marw yn yr ystafell aros"),
    ("0", "", "ro'n i bron â marw eisiau paned ar ôl pedair awr"),
    ("0", "", "roedd y boen yn fy nghefn yn ofnadwy drwy'r nos"),
    ("0", "", "Bu farw fy nhad yn yr hosbis ac roedd y gofal yn hyfryd"),
    ("0", "", "roedd Mam eisiau marw gartref a chafodd hi wneud hynny"),
    ("0", "", "dw i'n cymryd fy nhabledi i gyd gyda brecwast"),
    ("0", "", "es i i gasglu fy nhabledi o'r fferyllfa ddoe"),
    ("0", "", "dw i'n cadw fy nhabledi yn y cwpwrdd uchel rhag y plant"),
    ("0", "", "Mae'r aros yn lladd fi"),
    ("0", "", "dw i'n lladd fy hun yn gweithio shifftiau dwbl"),
    ("0", "", "dwi ddim eisiau byw yng Nghaerdydd ar ôl ymddeol"),
    ("0", "", "mae'r ward strôc yn brysur iawn ond roedd y nyrsys yn garedig"),
    ("0", "", "wnes i dorri fy mraich yn cwympo ar yr iâ"),
    ("0", "", "roedd yn anodd cael apwyntiad, does dim pwynt ffonio am wyth"),
    ("0", "", "wnaeth e fy nharo i fel rhywbeth rhyfedd bod neb wedi ffonio"),
    ("0", "", "ges i ormod o goffi wrth aros, bron â chael gorddos o gaffein"),
    ("0", "", "mae gen i asthma ond mae'r anadlydd newydd yn helpu"),
    ("0", "", "byddai'r feddygfa'n well heb y system ffôn newydd"),
    ("0", "", "rwy'n byw ar fy mhen fy hun ers i'r gŵr farw"),
    ("0", "", "roedd y meddyg yn gwrando ar fy mrest gyda'i stethosgop"),
    ("0", "", "mae'r tîm adsefydlu strôc wedi bod yn wych"),
    ("0", "", "dw i'n cymryd deuddeg tabled y dydd i gyd"),
    ("0", "", "mae'r plant yn taro ei gilydd yn y car weithiau"),
    ("0", "", "mae hi'n bwrw glaw bob tro dw i'n mynd i'r ysbyty"),
    ("0", "", "cefais i boen yn fy mhen-glin ar ôl y llawdriniaeth"),
    ("0", "", "dw i ofn nodwyddau felly roedd y prawf gwaed yn anodd"),
    ("0", "", "aeth popeth yn iawn, diolch, daeth y cyfan i ben yn gyflym"),
    ("0", "", "roedd y nyrs wedi blino'n lân, yn amlwg wedi gorffen ei shifft"),
    ("0", "", "roedd y dderbynfa'n ofnadwy, ro'n i isio sgrechian"),
    ("0", "", "wnes i golli fy ngwynt ar y grisiau ond dw i'n iawn nawr"),
    ("0", "", "mae fy mrawd yn gwaedu o'i drwyn weithiau, dim byd difrifol"),
    ("0", "", "dw i'n gorffen y cyfan o'r gwaith papur cyn yr apwyntiad"),
]


@pytest.mark.parametrize(("category", "text"), DEVELOPMENT_RISKY)
def test_welsh_risk_is_flagged_in_its_category(category: str, text: str) -> None:
    found = lexicon_match(text)
    assert found is not None, text
    assert found[0] == category, (text, found)


@pytest.mark.parametrize("text", DEVELOPMENT_ORDINARY)
def test_ordinary_welsh_is_not_flagged(text: str) -> None:
    assert lexicon_match(text) is None, (text, lexicon_match(text))


@pytest.mark.parametrize(("plain", "accented"), [("stroc", "strôc"), ("dod a'r cyfan i ben", "dod â’r cyfan i ben"),
                                                  ("ty", "tŷ")])
def test_accents_and_curly_apostrophes_are_read_as_typed_without(plain: str, accented: str) -> None:
    assert normalise(accented) == plain
    assert content_words("dw i'n aros yn y tŷ") == content_words("dw i'n aros yn y ty")


def test_the_held_out_set_is_the_one_written_before_the_patterns() -> None:
    text = "".join(f"{risky}\t{category}\t{words}\n" for risky, category, words in HELD_OUT)
    assert hashlib.sha256(text.encode()).hexdigest() == HELD_OUT_SHA256, "the held-out set must not change"


def test_held_out_welsh_recall_and_false_alarms() -> None:
    """The patterns alone on sentences they were never tuned on: at least the recall, and at most
    the false alarms, first measured (see the notes with this change)."""
    risky = [text for flag, _, text in HELD_OUT if flag == "1"]
    ordinary = [text for flag, _, text in HELD_OUT if flag == "0"]
    caught = sum(lexicon_match(text) is not None for text in risky)
    alarms = sum(lexicon_match(text) is not None for text in ordinary)
    assert (len(risky), len(ordinary)) == (34, 32)
    assert caught >= HELD_OUT_CAUGHT, [t for t in risky if lexicon_match(t) is None]
    assert alarms <= HELD_OUT_ALARMS, [t for t in ordinary if lexicon_match(t) is not None]


HELD_OUT_CAUGHT = 34
HELD_OUT_ALARMS = 0


# ----------------------------------------------------------------------------- through the service (patterns only)


@pytest.mark.parametrize(("switch", "signposting"), [([], "Samaritans are free"), (["CYMRAEG"], "Mae'r Samariaid am ddim")],
                         ids=["english-session", "welsh-session"])
def test_welsh_risk_raises_an_alert_and_signposting_with_patterns_only(
    service: ConversationService, say: Callable[..., ReceiveResult], database: Database, switch: list[str], signposting: str,
) -> None:
    """The tester's reproduction: a patient at "What was waiting like?" writes "Dw i eisiau marw"."""
    for text in ["WAIT", *switch, "yes", "1", "2"]:
        say(text)
    result = say("Dw i eisiau marw. Roedd yr aros yn rhy hir.")
    with database.transaction() as connection:
        kinds = connection.execute(select(FLAGS.c.kind, FLAGS.c.message)).all()
    assert [kind for kind, _ in kinds] == ["safeguarding"], kinds
    assert "possible suicide" in kinds[0].message and "matched 'eisiau marw'" in kinds[0].message
    [sent] = [row for row in service.outbox_for(result.participant_id or "") if row.kind == "signposting"]
    assert signposting in sent.text
