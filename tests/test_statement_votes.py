"""Statement votes as people type them on a basic phone, in English and Welsh. Testers saw
"not agree", "dont agree", "i dont really agree", 'ddim yn cytuno', 'dw i ddim yn cytuno' and 'dim
yn siŵr' asked again, 'no comment' read as a disagreement and 'I agree but I also disagree' as an
agreement. Agreement with a 'not' is a disagreement; a reply that votes both ways, or agrees only
in part, is asked again (never a pass: the participant holds a view, and may pick the nearer vote
or pass themselves); 'maybe', 'no comment' and 'on the fence' are a pass. A reply that is a new
idea rather than a vote is asked again unless it starts with ADD (or opens with a yes or a no,
which is read as the vote it gives)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flows.parsing import parse_yes_no
from flows.steps.base import Reply
from flows.steps.statements import read_vote, vote_display
from tests.engine_chat import RecordingChat

NOW = datetime(2030, 1, 1, tzinfo=UTC)

AGREE = [
    "agree", "Agree", "yes", "Yes!", "yep", "yeah", "defo", "deffo", "100%", "100% agree", "👍", "👍🏽", "✅", "a", "1",
    "i agree", "I agree with that", "strongly agree", "yes definitely", "for sure", "exactly", "spot on", "too right",
    "very true", "agree x", "agree please", "cytuno", "Cytuno!", "ydw", "yndw", "ie", "rwy'n cytuno", "dw i'n cytuno",
    "dwi'n cytuno", "rydw i'n cytuno", "cytuno'n gryf", "cytuno plis", "gant y cant",
    # how strongly, with no verb: an agreement (until session 17 'totally' was asked again)
    "totally", "Totally!", "absolutely", "definitely", "yes totally", "yn bendant", "yn hollol",
]
DISAGREE = [
    "disagree", "no", "No.", "nope", "nah", "Nah.", "not really", "NOT REALLY", "no i disagree", "no, I disagree", "👎",
    "❌", "d", "2", "not agree", "don't agree", "dont agree", "do not agree", "i dont agree", "I don't agree",
    "i dont really agree", "I don't really agree", "i really don't agree", "I don't agree with that at all",
    "no i don't agree", "nope, dont agree", "can't agree", "cant agree", "not agreed", "i dont think so", "not true",
    "strongly disagree", "not at all", "anghytuno", "Anghytuno!", "anghytuno xx", "rwy'n anghytuno", "dw i'n anghytuno",
    "ddim yn cytuno", "dim yn cytuno", "dw i ddim yn cytuno", "dwi ddim yn cytuno", "dydw i ddim yn cytuno",
    "dydw i ddim wir yn cytuno", "sa i'n cytuno", "sai'n cytuno", "smo fi'n cytuno", "na, dw i ddim yn cytuno",
    "nac ydw", "nag ydw",
    "not for me", "Not for me thanks", "no, not for me", "ddim i fi",
]
PASS = [
    "pass", "P", "3", "not sure", "Not sure tbh", "I'm not sure", "im not sure", "unsure", "dunno", "don't know",
    "dont know", "no idea", "can't decide", "cant decide", "skip", "skip this", "no comment", "no opinion", "neither",
    "neutral", "on the fence", "neither agree nor disagree", "maybe", "it depends", "50/50", "I don't mind", "dim yn siŵr",
    "dim yn siwr", "ddim yn siŵr", "dw i ddim yn siŵr", "sai'n siwr", "sa i'n siŵr", "pasio", "pasio plis", "hepgor",
    "dwn i ddim", "dim syniad", "methu penderfynu", "efallai", "na cytuno na anghytuno",
]
ASKED_AGAIN = [
    # both ways: no vote is recorded, and neither is a pass
    "agree with the first part but not the second", "I agree with the first part but not the second",
    "I agree but I also disagree", "i agree and i disagree", "agree and disagree", "yes i disagree", "no i agree",
    "agree with the nurses, disagree on parking", "yes and no", "cytuno a anghytuno",
    # agreeing in part, or not disagreeing: neither vote
    "i don't fully agree", "I dont totally agree", "i don't strongly agree", "not strongly agree", "i don't disagree",
    "i dont really disagree", "ddim yn anghytuno", "dw i ddim yn cytuno'n llwyr", "not sure I agree",
    # no vote at all
    "banana", "?", "4", "100", "next",
    # a new idea, not a vote (without ADD)
    "More GP appointments in the evening would help working parents", "No one listens to patients",
    "Nobody answers the phone at the surgery", "Not enough parking at the hospital",
]


@pytest.mark.parametrize("reply", AGREE)
def test_an_agreement_is_read_as_agree(reply: str) -> None:
    assert read_vote(Reply(reply)) == 1


@pytest.mark.parametrize("reply", DISAGREE)
def test_a_disagreement_is_read_as_disagree(reply: str) -> None:
    assert read_vote(Reply(reply)) == -1


@pytest.mark.parametrize("reply", PASS)
def test_a_pass_or_unsure_is_read_as_pass(reply: str) -> None:
    assert read_vote(Reply(reply)) == 0


@pytest.mark.parametrize("reply", ASKED_AGAIN)
def test_a_reply_that_is_no_single_vote_is_asked_again(reply: str) -> None:
    assert read_vote(Reply(reply)) is None


@pytest.mark.parametrize(("reply", "display"), [
    ("i dont really agree", "disagree"), ("don't agree", "disagree"), ("dw i ddim yn cytuno", "disagree"),
    ("dw i'n cytuno'n gryf", "agree (strongly)"), ("dwi'n anghytuno'n gryf", "disagree (strongly)"), ("defo", "agree"),
    ("100%", "agree"), ("agree x", "agree"), ("no comment", "pass"),
])
def test_a_negated_agreement_is_a_plain_disagreement_and_a_welsh_i_keeps_its_strength(reply: str, display: str) -> None:
    vote = read_vote(Reply(reply))
    assert vote is not None and vote_display(vote, Reply(reply)) == display


@pytest.mark.parametrize(("reply", "meant"), [
    ("i dont think so", False), ("dont think so", False), ("im not", False), ("i wont", False), ("id rather not", False),
    ("im happy to", True), ("i dont know", None), ("i dont mind", None), ("im not sure", None), ("i wouldnt mind", None),
])
def test_a_yes_or_no_without_its_apostrophe_reads_as_with_it(reply: str, meant: bool | None) -> None:
    assert parse_yes_no(reply) is meant


# ----------------------------------------------------------------------------- through the engine

STEP: dict[str, Any] = {
    "id": "views", "type": "statements", "text": {"en": "Do you agree?", "cy": "Ydych chi'n cytuno?"},
    "statements": [{"id": "s1", "text": {"en": "More nurses at night.", "cy": "Mwy o nyrsys gyda'r nos."}},
                   {"id": "s2", "text": {"en": "Free parking for carers.", "cy": "Parcio am ddim i ofalwyr."}}],
    "per_session": 2,
}


class Chat(RecordingChat):
    """A participant at a two-statement step, in English or Welsh."""

    def __init__(self, language: str) -> None:
        super().__init__(STEP, language=language, seed=5, now=NOW)

    def votes(self) -> list[tuple[Any, str]]:
        return [(r.value, r.display) for r in self.recorded if r.item]


@pytest.mark.parametrize(("language", "first", "second", "recorded"), [
    ("en", "dont agree", "defo", [(-1, "disagree"), (1, "agree")]),
    ("en", "i dont really agree", "no comment", [(-1, "disagree"), (0, "pass")]),
    ("cy", "dw i ddim yn cytuno", "dim yn siŵr", [(-1, "disagree"), (0, "pass")]),
    ("cy", "ddim yn cytuno", "dw i'n cytuno'n gryf", [(-1, "disagree"), (1, "agree (strongly)")]),
])
def test_votes_typed_on_a_phone_are_recorded_in_either_language(language: str, first: str, second: str,
                                                                recorded: list[tuple[int, str]]) -> None:
    chat = Chat(language)
    chat.send(first)
    said = chat.send(second)
    assert chat.votes() == recorded
    assert said[-1] == ("Bye." if language == "en" else "Hwyl.")


@pytest.mark.parametrize(("language", "hint"), [
    ("en", "Please reply A (agree), D (disagree) or P (pass). (Or reply ADD and a statement of your own.)"),
    ("cy", "Atebwch A (cytuno), D (anghytuno) neu P (pasio). (Neu atebwch YCHWANEGU a datganiad eich hun.)"),
])
def test_a_reply_both_ways_is_asked_again_and_the_next_vote_counts_for_the_same_statement(language: str, hint: str) -> None:
    chat = Chat(language)
    both = "agree with the first part but not the second" if language == "en" else "cytuno a anghytuno"
    assert chat.send(both) == [hint]
    assert chat.votes() == []
    chat.send("pass")
    assert chat.votes() == [(0, "pass")]


def test_a_new_idea_without_add_is_asked_again_and_with_add_is_held_for_moderation() -> None:
    """An idea sent without ADD gets the vote hint, which says how to add it (until session 17 it
    did not mention ADD), and is not stored; 'No, ...' is a disagreement with a reason, read as
    the vote it opens with."""
    chat = Chat("en")
    assert chat.send("No one listens to patients") == [
        "Please reply A (agree), D (disagree) or P (pass). (Or reply ADD and a statement of your own.)"]
    assert chat.recorded == []
    chat.send("ADD No one listens to patients")
    proposals = [r for r in chat.recorded if r.item]
    assert [p.value for p in proposals] == [{"kind": "statement", "text": "No one listens to patients"}]
    chat.send("No, the phone is never answered")
    assert chat.votes()[-1] == (-1, "disagree")
