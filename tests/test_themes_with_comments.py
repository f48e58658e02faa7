"""Theme analysis reads comments (stories told at questions that take no free text,
bot/comments.py) alongside an open question's answers when asked (``comments=true``; the desk's
second button): masked as answers are, counted apart, each theme saying how many of its texts
are comments and each quote whether it is an answer's words or a comment's. Without asking,
the answers are read alone, as before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import nlp.themes
from bot.comments import comments_for_step, is_comment
from nlp.themes import ThemeResult
from storage import repository
from tests.desk_helpers import Desk, desk_app
from tests.test_themes_desk_privacy import STUDY, answer_each, themes

ANSWERS = ["the wait was far too long", "nobody told us what was happening", "the staff were kind"]
COMMENT = "we sat there for six hours and my dad was in pain, call me on 07700 900123"


def answers_then_comments(texts: list[tuple[str, str, str | None]]) -> ThemeResult:
    """A stand-in theme finder: one theme of every text, quoting the first answer and the first comment."""
    first_answer = next(t for t in texts if not is_comment(t[0]))
    first_comment = next((t for t in texts if is_comment(t[0])), first_answer)
    quotes = list(dict.fromkeys([first_answer[1], first_comment[1]]))
    return ThemeResult([nlp.themes.Theme(1, "waiting", ["wait"], len(texts), quotes, [t[0] for t in texts], [1] * len(quotes))],
                       {t[0]: 1 for t in texts})


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path, theme_finder=answers_then_comments) as made:
        made.client.headers["Authorization"] = f"Bearer {made.token('coordinator', (STUDY,))}"
        answer_each(made, "understand", "story", ANSWERS)
        yield made


def add_comment(desk: Desk, text: str, step: str = "role") -> str:
    participant, _ = desk.join(STUDY, "carer")
    with desk.database.transaction() as connection:
        repository.add_comments(connection, [{
            "participant_id": participant, "study_id": STUDY, "flow_id": "understand", "flow_version": "v", "session_id": None,
            "step_id": step, "item": None, "text": text, "source": "text", "inbound_id": None, "created_at": datetime.now(UTC)}])
    return participant


def test_comments_are_read_alongside_the_answers_and_marked_as_comments(desk: Desk) -> None:
    add_comment(desk, COMMENT)
    add_comment(desk, "the signs to the waiting area made no sense to anyone", step="visits")
    result = themes(desk, step="story", comments="true")
    assert result["answers"] == len(ANSWERS) and result["comments"] == 2
    assert sum(result["group_answers"].values()) == len(ANSWERS) + 2
    (theme,) = result["themes"]
    assert theme["size"] == len(ANSWERS) + 2 and theme["comments"] == 2
    assert theme["quote_sources"] == ["answer", "comment"]
    assert theme["quotes"][1] == COMMENT.replace("07700 900123", "[PHONE]")  # masked as answers are
    assert "07700" not in str(result)


def test_without_asking_the_answers_are_read_alone(desk: Desk) -> None:
    add_comment(desk, COMMENT)
    result = themes(desk, step="story")
    assert result["answers"] == len(ANSWERS) and "comments" not in result
    (theme,) = result["themes"]
    assert theme["size"] == len(ANSWERS) and "quote_sources" not in theme and "comments" not in theme


def test_too_few_answers_and_comments_together_say_so(tmp_path: Path) -> None:
    with desk_app(tmp_path, theme_finder=answers_then_comments) as made:
        made.client.headers["Authorization"] = f"Bearer {made.token('coordinator', (STUDY,))}"
        answer_each(made, "understand", "story", ANSWERS[:1])
        add_comment(made, COMMENT)
        result = themes(made, step="story", comments="true")
    assert result["themes"] == [] and result["note"] == "themes need at least 3 answers and comments together"


def test_the_desk_offers_the_comments_only_when_the_study_has_some(desk: Desk) -> None:
    del desk.client.headers["Authorization"]
    desk.client.post("/login", data={"token": desk.token(studies=(STUDY,))})
    page = desk.client.get(f"/dashboard/studies/{STUDY}/themes").text
    assert 'id="find-themes"' in page and "find-themes-with-comments" not in page
    add_comment(desk, COMMENT)
    page = desk.client.get(f"/dashboard/studies/{STUDY}/themes").text
    assert "Find themes in the answers and 1 comment<" in page and "comments=true" in page


def test_comment_ids_are_told_from_answer_ids(desk: Desk) -> None:
    add_comment(desk, COMMENT)
    ((text_id, text, group),) = comments_for_step(desk.database, STUDY)
    assert is_comment(text_id) and not is_comment("12") and "[PHONE]" in text and group == "carer"
