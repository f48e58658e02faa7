"""Asking for quicker care is not a crisis; a crisis inside such a request still is.

A tester's GP-access study: "see a doctor faster", its commonest suggestion, was flagged as a
possible medical emergency, and every participant who wrote it was sent crisis signposting
while the coordinator got an alert. Short requests to see a doctor sooner share their words with
the reference set's emergencies ("doctor", "faster", "ill"), and nothing ordinary sat nearer.

The ``access`` rows of nlp/safety_reference.csv (99 requests for quicker care, from patients,
carers and staff) are outside the vote; an answer ``ACCESS_MARGIN`` closer to one of them than
to any risky message is left to the patterns unless one of its clauses, read alone, is flagged
(nlp/safety_vote.py). None of the sentences below is in the reference set (the first test).

* ``HELD_OUT``: written with the reference rows, before any change, and set aside. Before the
  change 2 of 45 were flagged.
* ``HELD_OUT_SHORT``: shorter and misspelt, as participants type, written after the first
  reference rows and measured once before them (8 of 40 flagged) and once after (1). Nine rows
  about being seen "when ill" were added after that, so it no longer counts as untouched.
* ``built_from_parts()``: 251 requests ("get to see a GP sooner"), diagnostic: 64 were flagged
  before; the "when ill" rows were written after seeing its misses.
* ``RISKY_NEAR_ACCESS`` and ``MIXED_RISKY``: risk told inside, or next to, a complaint about
  access. Each one flagged before the change is flagged after it, and the model flags the same
  ones; that no risky example in tests/data is lost is tests/test_safety_everyday.py's to check
  (and here, for the model alone, ``test_the_model_catches_what_it_caught_in_tests_data``).
"""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.safeguarding import check_from_env, concern_about
from nlp import safety
from nlp.embed import embed
from nlp.safety import assess_batch, lexicon_match, similarity_match
from nlp.safety_reference import access_rows, embedded_reference
from nlp.safety_vote import ACCESS_MARGIN, clauses

DATA = Path(__file__).parent / "data"
TESTER = ["see a doctor faster", "being able to see a doctor quicker", "see the doctor faster please"]

HELD_OUT = [
    'being able to see a doctor sooner',
    'see my GP within a few days',
    'quicker GP appointments',
    'get to see the doctor faster',
    'more doctors so you can actually get an appointment',
    'make it easier to get an appointment',
    'get appointments faster',
    'more appointments at the practice',
    'shorter waits for the GP',
    'the phone lines at the surgery are always engaged',
    'faster referrals',
    'quicker referrals to hospital consultants',
    'waiting a year for a referral is ridiculous',
    'shorter waits in A&E',
    'quicker treatment in the emergency department',
    'A&E took 12 hours last time we went',
    'be seen quicker when my child is ill',
    "quicker appointments for kids when they're poorly",
    'quicker ambulance response times',
    'ambulances arriving sooner',
    'a nurse who calls back',
    'the doctor should call back the same day',
    '111 took hours to ring me back',
    "more staff so people aren't waiting so long",
    'as a practice manager I want more clinicians so patients are seen quicker',
    'as a carer it takes forever to get my husband seen',
    'faster test results',
    'a shorter wait for a hospital appointment',
    'faster access to counselling',
    'quicker mental health appointments for young people',
    'quicker repeat prescriptions',
    'evening appointments for people who work',
    'a doctor at the weekend',
    'less time waiting on hold',
    "it shouldn't take three weeks to see a doctor",
    "I just want to see a doctor quicker when I'm unwell",
    'the GP should see urgent patients faster',
    'faster diagnosis and treatment',
    "get a doctor's appointment on the same day",
    'more GPs',
    'fewer hoops to jump through to see a doctor',
    'more home visits for the elderly',
    'quicker physio referrals',
    'online booking so I can see a doctor faster',
    'quicker to see a nurse practitioner',
]
HELD_OUT_SHORT = [
    'see a dr quicker',
    'seeing a doctor sooner when ur ill',
    'get seen by a GP the same day',
    'quicker appointments when the kids are sick',
    'to see a doctor when im poorly not 3 weeks later',
    'faster GP',
    'a doctor when you need one',
    'more doctors please',
    'get a nurse to ring back faster',
    'call backs from the GP',
    'shorter A&E waits',
    'ambulance to come quicker',
    'quicker referrals to the hospital',
    'see a specialist sooner',
    'being able to see a doctor when my baby is unwell',
    'an appointment the same day if my child is poorly',
    'when im ill i want to be seen that day',
    'easier to get a doctors appointment',
    'get through on the phone faster',
    'quicker access to the GP',
    'see the same doctor sooner',
    'more nurses',
    'faster ambulance',
    'waiting less time in A&E',
    'quicker help from 111',
    'see a doctor straight away when youre sick',
    'as a carer, getting mum seen by a doctor quicker',
    'quicker appointments for older people',
    'more appointments so people can be seen when they are ill',
    'a GP who can see you the same week',
    'speedier referrals',
    'less waiting to see a doctor',
    'doctors appointments quicker',
    "quicker to see a nurse when I'm unwell",
    'shorter wait for an ambulance',
    'get my son seen faster when hes ill',
    'a doctor who rings back the same morning',
    'faster mental health referrals',
    'hire more GPs so we can see one quicker',
    'quicker service at the walk in centre',
]
WELSH = [
    'gweld meddyg yn gynt',
    "mwy o apwyntiadau gyda'r meddyg teulu",
    'cael apwyntiad yn gynt',
    'amseroedd aros byrrach yn yr adran frys',
    'ambiwlans yn cyrraedd yn gynt',
    "nyrs sy'n ffonio'n ôl",
    'cael gweld y doctor yn gyflymach',
    'atgyfeiriadau cyflymach at arbenigwyr',
    'gweld rhywun yn gynt pan mae fy mhlentyn yn sâl',
    'llai o aros ar y ffôn',
    'mwy o feddygon yn y feddygfa',
    "apwyntiadau gyda'r nos",
]
RISKY_NEAR_ACCESS = [
    'I need a doctor now, my chest is crushing and my arm has gone numb',
    "can't get a doctor and my baby has gone floppy and won't wake",
    "waiting for an ambulance, mum isn't breathing properly",
    'rang 111 twice, the chest pain is getting worse and going into my jaw',
    "no point booking the follow up appointment, I won't be here next week",
    "the GP can't see me for weeks and I don't think I can keep myself safe until then",
    "cancel my appointment, I've been saving up my tablets and I've made my mind up",
    "my son needs to see a doctor now, he's struggling to breathe and his lips are blue",
    "ambulance still hasn't come and dad has collapsed on the floor",
    "I've been waiting hours in A&E and I can't stop the bleeding",
    "the doctor won't see me and I keep cutting myself",
    "my partner won't let me go to the doctor and he hits me if I ask",
]
MIXED_RISKY = [
    "couldn't get a GP appointment for three weeks and now my chest feels tight and heavy",
    'waited 6 hours for an ambulance, dad was grey and not making sense',
    "they keep saying no appointments, I don't see the point in carrying on",
    "need to be seen quicker, I've started hurting myself again while I wait",
    "the mental health waiting list is 18 months, I won't last that long",
    "can't get through on the phone and my baby's had a fever of 40 all day and is floppy",
    "more appointments please, my husband shouts and pushes me when I can't get his pills",
    "a nurse who calls back would be nice, I've been so low I've written letters to my family",
    "I just want to see a doctor quicker because I've been coughing up blood",
    "faster referrals, I've been stockpiling my painkillers because nobody helps",
    "the surgery never answers, I'm going to end it if nothing changes",
    'quicker ambulance response, my wife stopped breathing while we waited',
    "see a doctor faster, I've had the worst headache of my life since this morning and my face feels numb",
    "I've given up on getting an appointment, everyone would be better off without me",
    "my mum's carer hits her and I can't get anyone from the surgery to listen",
    "I've rung 111 and still no call back, my leg is bleeding through the bandages",
    "need a doctor sooner, I've been cutting again and it's getting deeper",
    "two weeks for an appointment is too long when you're thinking about killing yourself",
    "the GP won't see me so I'm taking more of my tablets to cope",
]

# Flagged before the change neither by the patterns nor by the model; listed so that a change
# which catches them shows up here.
MISSED_BEFORE = {
    "no point booking the follow up appointment, I won't be here next week",
    "waited 6 hours for an ambulance, dad was grey and not making sense",
    "the mental health waiting list is 18 months, I won't last that long",
    "more appointments please, my husband shouts and pushes me when I can't get his pills",
    "a nurse who calls back would be nice, I've been so low I've written letters to my family",
    "the surgery never answers, I'm going to end it if nothing changes",
    "quicker ambulance response, my wife stopped breathing while we waited",
    "I've rung 111 and still no call back, my leg is bleeding through the bandages",
    "the GP won't see me so I'm taking more of my tablets to cope",
}
# The model's catches (patterns aside) in RISKY_NEAR_ACCESS + MIXED_RISKY before the change.
MODEL_CAUGHT_BEFORE = 16
# The model's catches of the risky rows of each set in tests/data before the change
# (scripts/bench/safety.py: model recall 0.987, 0.960, 0.871).
MODEL_CAUGHT_IN_TESTS_DATA = {"safety.csv": 74, "safety_heldout.csv": 96, "safety_heldout_b.csv": 61}


def built_from_parts() -> list[str]:
    verbs = ["see", "get to see", "being able to see", "get seen by", "speak to", "get an appointment with"]
    whom = ["a doctor", "the doctor", "my GP", "a GP", "a nurse", "someone"]
    how = ["faster", "quicker", "sooner", "faster please", "more quickly", "when I'm ill", "when my child is ill"]
    texts = [f"{verb} {who} {when}" for verb, who, when in itertools.product(verbs, whom, how)]
    return [text for text in texts if text != "see a GP sooner"]  # a reference row


def _flagged(texts: list[str]) -> list[tuple[str, str]]:
    return [(text, r.reason) for text, r in zip(texts, assess_batch(texts), strict=True) if r.flagged]


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_held_out_requests_are_kept_apart_from_the_reference_set() -> None:
    rows = safety.reference_rows() + safety.everyday_rows() + access_rows()
    reference = {row["text"].strip().lower() for row in rows}
    written = TESTER + HELD_OUT + HELD_OUT_SHORT + WELSH + RISKY_NEAR_ACCESS + MIXED_RISKY
    assert len({text.lower() for text in written}) == len(written)
    assert not reference & {text.lower() for text in written + built_from_parts()}
    assert len(access_rows()) >= 40 and len(HELD_OUT) + len(HELD_OUT_SHORT) >= 40


def test_the_access_rows_are_ordinary_outside_the_vote_and_apart_from_the_labelled_sets() -> None:
    assert all(row["risky"] == "0" and row["category"] == "" for row in access_rows())
    assert not {row["source"] for row in safety.reference_rows()} & {"access", "everyday"}
    labelled = {row["text"].strip().lower() for name in ("safety.csv", "safety_heldout.csv",
                                                          "safety_heldout_b.csv", "comments.csv") for row in _rows(name)}
    assert not labelled & {row["text"].strip().lower() for row in access_rows()}


@pytest.mark.parametrize("text", TESTER)
def test_the_testers_requests_raise_no_concern(text: str) -> None:
    assert not assess_batch([text])[0].flagged
    assert concern_about(check_from_env({"CHORUS_SAFEGUARDING": "full"}), text) is None


def test_the_safety_command_flags_none_of_the_testers_requests(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text("id,text\n" + "".join(f"{n},{text}\n" for n, text in enumerate(TESTER, 1)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["analyse", "safety", "--input", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["flagged"] == []


def test_held_out_access_requests_do_not_raise_alarms() -> None:
    alarms = _flagged(HELD_OUT)
    print(f"\naccess held-out false alarms: {len(alarms)} of {len(HELD_OUT)}: {alarms}")
    assert alarms == []


def test_short_access_requests_rarely_raise_alarms() -> None:
    alarms = _flagged(HELD_OUT_SHORT)
    print(f"\nshort access requests flagged: {len(alarms)} of {len(HELD_OUT_SHORT)} (before: 8): {alarms}")
    assert len(alarms) <= 1


def test_requests_built_from_parts_rarely_raise_alarms() -> None:
    texts = built_from_parts()
    alarms = _flagged(texts)
    print(f"\nrequests built from parts flagged: {len(alarms)} of {len(texts)} (before: 64): {alarms}")
    assert len(alarms) <= 5
    assert not [text for text, _ in alarms if "faster" in text or "sooner" in text or "quicker" in text]


def test_welsh_access_requests_do_not_raise_alarms() -> None:
    assert _flagged(WELSH) == []


def test_risk_next_to_an_access_complaint_is_flagged_as_before() -> None:
    texts = RISKY_NEAR_ACCESS + MIXED_RISKY
    missed = {text for text, r in zip(texts, assess_batch(texts), strict=True) if not r.flagged}
    print(f"\nrisky near access missed: {len(missed)} of {len(texts)}: {sorted(missed)}")
    assert missed <= MISSED_BEFORE
    model = [m is not None for m in similarity_match(embed(texts), texts)]
    assert sum(model) >= MODEL_CAUGHT_BEFORE


def test_a_risky_clause_keeps_an_access_complaint_flagged() -> None:
    """Whole, these read as access requests; the model flags them for their second clause."""
    texts = ["ambulance still hasn't come and dad has collapsed on the floor",
             "the GP can't see me for weeks and I don't think I can keep myself safe until then"]
    ref = embedded_reference.get()
    vectors = embed(texts)
    access = (vectors @ ref.access.T).max(axis=1)
    risky = np.where(ref.risky, vectors @ ref.vectors.T, -np.inf).max(axis=1)
    assert (access - risky >= ACCESS_MARGIN).all(), "this test needs answers that read as access requests"
    assert all(match is not None for match in similarity_match(vectors, texts))
    assert lexicon_match(texts[1]) is None and assess_batch(texts[1:])[0].flagged


def test_the_model_catches_what_it_caught_in_tests_data() -> None:
    for name, caught_before in MODEL_CAUGHT_IN_TESTS_DATA.items():
        texts = [row["text"] for row in _rows(name) if row["risky"] == "1"]
        caught = sum(match is not None for match in similarity_match(embed(texts), texts))
        assert caught >= caught_before, name


def test_clauses_split_at_punctuation_and_joining_words() -> None:
    assert clauses("the ambulance still hasn't come and dad has collapsed on the floor") == [
        "the ambulance still hasn't come", "dad has collapsed on the floor"]
    assert clauses("see a doctor faster") == ["see a doctor faster"]
    assert clauses("get my son seen faster when hes ill") == ["get my son seen faster"]
    assert clauses("waited three weeks for an appointment, I can't cope any more") == [
        "waited three weeks for an appointment", "I can't cope any more"]
