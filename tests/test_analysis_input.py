"""Text analysis straight from a study: `chorus analyse themes --study ID --step STEP`."""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import CliRunner

from bot.analysis_input import answers_for_step
from bot.cli import cli
from bot.service import ConversationService, ReceiveResult
from storage.database import Database

Say = Callable[..., ReceiveResult]
STORIES = [
    ("patient", "We waited six hours and nobody told us anything, call me on 07700 900123"),
    ("patient", "Six hours in the waiting room with no updates at all"),
    ("carer", "My dad sat in pain for hours before anyone gave him painkillers"),
    ("carer", "Mum was in agony and pain relief took forever to come"),
]


def _tell_stories(say: Say) -> None:
    for n, (group, story) in enumerate(STORIES):
        address = f"+4477009001{n:02d}"
        for text in ("WAIT", "yes", "1" if group == "patient" else "2", "3", story):
            say(text, address=address)


def test_answers_to_a_step_come_with_their_group_and_without_identifiers(
    service: ConversationService, say: Say, database: Database,
) -> None:
    _tell_stories(say)
    answers = answers_for_step(database, "ae-waiting", "story")
    assert [(group, text[:20]) for _, text, group in answers] == [(g, s[:20]) for g, s in STORIES]
    assert "07700" not in answers[0][1] and "[PHONE]" in answers[0][1]


def test_the_themes_command_reads_a_study_step(service: ConversationService, say: Say, database: Database) -> None:
    _tell_stories(say)
    outcome = CliRunner().invoke(cli, ["analyse", "themes", "--study", "ae-waiting", "--step", "story",
                                       "--database", database.url, "--k", "2", "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    result = json.loads(outcome.output[outcome.output.index("{"):])
    ids = [answer_id for answer_id, _, _ in answers_for_step(database, "ae-waiting", "story")]
    members = sorted(sorted(theme["members"]) for theme in result["themes"])
    assert members == sorted([sorted(ids[:2]), sorted(ids[2:])]), "waiting stories apart from pain stories"
    missing = CliRunner().invoke(cli, ["analyse", "themes", "--study", "ae-waiting", "--step", "nope", "--database", database.url])
    assert missing.exit_code != 0 and "no answers to step 'nope'" in missing.output


ASIDES = [
    "we sat in the waiting room for six hours and nobody told us anything, ring 07700 900555",
    "my mum was in agony for hours and the pain relief never came until the evening",
    "honestly after all that waiting i want to kill myself tonight",
]
"""Stories told at the role question (a choice): kept as comments, not answers."""


def _tell_asides(say: Say) -> None:
    for n, story in enumerate(ASIDES):
        for text in ("WAIT", "yes", story):
            say(text, address=f"+4477009002{n:02d}")


def test_the_themes_command_reads_the_comments_too_when_asked(service: ConversationService, say: Say, database: Database) -> None:
    _tell_stories(say)
    _tell_asides(say)
    command = ["analyse", "themes", "--study", "ae-waiting", "--step", "story", "--database", database.url, "--k", "2"]
    outcome = CliRunner().invoke(cli, [*command, "--with-comments", "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    result = json.loads(outcome.output[outcome.output.index("{"):])
    assert (result["answers"], result["comments"]) == (len(STORIES), len(ASIDES))
    themes = result["themes"]
    assert sum(t["size"] for t in themes) + result["non_answers"] == len(STORIES) + len(ASIDES)
    assert sum(t["comments"] for t in themes) == sum(1 for t in themes for m in t["members"] if m.startswith("c")) == len(ASIDES)
    quoted = [(q, source) for t in themes for q, source in zip(t["quotes"], t["quote_sources"], strict=True)]
    assert all(len(t["quote_sources"]) == len(t["quotes"]) == len(t["quote_counts"]) for t in themes)
    assert {source for _, source in quoted} == {"answer", "comment"}
    assert all((source == "comment") == (q.lower().startswith(("we sat", "my mum was in agony for hours"))) for q, source in quoted)
    assert "07700" not in outcome.output and "kill myself" not in outcome.output, "masked, and a disclosure never quoted"
    table = CliRunner().invoke(cli, [*command, "--with-comments"])
    assert table.exit_code == 0 and "(comment)" in table.output and "Read 4 answers and 3 comments." in table.output
    alone = json.loads((plain := CliRunner().invoke(cli, [*command, "--format", "json"])).output[plain.output.index("{"):])
    assert "comments" not in alone and all("quote_sources" not in t for t in alone["themes"])  # without asking, as before
    assert sum(t["size"] for t in alone["themes"]) + alone["non_answers"] == len(STORIES)
    wrong = CliRunner().invoke(cli, ["analyse", "themes", "--input", __file__, "--with-comments"])
    assert wrong.exit_code != 0 and "--with-comments reads a study's comments" in wrong.output
