"""BACK in a flow that loops back to a step by design: only the pass it undoes is withdrawn."""

from __future__ import annotations

import itertools
from pathlib import Path

import yaml
from sqlalchemy import select

from bot.safeguarding import checks_from_env
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from storage.database import Database
from storage.tables import ANSWERS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

IDEAS = """
flow: ideas
steps:
  - id: idea
    type: open
    text: What one thing would you change?
  - id: more
    type: yesno
    text: Another idea?
    next:
      - if: answer == "yes"
        goto: idea
  - id: bye
    type: end
    text: Thank you.
"""


def _study(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "ideas.yaml").write_text(IDEAS, encoding="utf-8")
    study = {"study": "loops", "title": {"en": "Ideas"}, "languages": ["en"],
             "join": {"start_flow": "ideas", "keyword": "IDEAS"}, "flows": ["ideas.yaml"]}
    (folder / "study.yaml").write_text(yaml.safe_dump(study), encoding="utf-8")
    return folder


def test_back_after_a_loop_withdraws_only_the_pass_it_undoes(database: Database, clock: FakeClock, tmp_path: Path) -> None:
    service = ConversationService(database, StudyRegistry.from_folder(_study(tmp_path / "loops")), clock,
                                  address_key=TEST_ADDRESS_KEY, safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    ids = itertools.count(1)
    for text in ("IDEAS", "Shorter waits", "yes", "A water fountain", "back", "Chairs that recline", "yes",
                 "Clearer signs", "back", "back", "no"):
        service.receive(InboundMessage("sms", "+447700900001", f"SM{next(ids)}", text))
    with database.read_transaction() as connection:
        rows = connection.execute(select(ANSWERS.c.step_id, ANSWERS.c.raw, ANSWERS.c.withdrawn_at).order_by(ANSWERS.c.id)).all()
    standing = [(step, raw) for step, raw, withdrawn in rows if withdrawn is None]
    withdrawn = [(step, raw) for step, raw, gone in rows if gone is not None]
    assert standing == [("idea", "Shorter waits"), ("more", "yes"), ("idea", "Chairs that recline"), ("more", "no")], \
        "the first pass's idea stands: BACK undid only the second pass's"
    assert withdrawn == [("idea", "A water fountain"), ("more", "yes"), ("idea", "Clearer signs")]
