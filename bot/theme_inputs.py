"""What theme analysis of a study reads and what it may quote: one implementation for
``chorus analyse themes --study`` and the desk's themes (``POST /api/v1/studies/{id}/themes``,
which the desk's Themes tab calls), so that the two never disagree.

* :func:`theme_input`: the answers to one open question (of one flow, if named) and, when asked,
  the study's comments, every text masked (:func:`bot.analysis_input.answers_for_step`,
  :func:`bot.comments.comments_for_step`), each with its group ("unspecified" for none), and
  which of them are held back: those told by a participant who raised a safeguarding flag at
  that question. A held text counts in its theme and in its group's number, and is never quoted.
  Each text's language goes with it (``languages``: the language its participant was answering
  in), so that theme analysis can tell a Welsh answer from an English one (nlp/themes_languages.py).
* :func:`quoted_themes`: each theme's quotes with none in a held text's words, and, read with
  comments, how many of its texts are comments and whether each quote is an answer's or a comment's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select

from bot.comments import COMMENT_ID_PREFIX, SAFEGUARDING
from storage.database import Database
from storage.tables import ANSWERS, COMMENTS, ENROLMENTS, FLAGS

UNSPECIFIED = "unspecified"
"""The group of a text whose participant has none."""
QUOTES = 3
"""The most quotes a theme gives."""
TOO_FEW = 3
"""Themes need at least this many texts."""

Text = tuple[str, str, str | None]
"""(analysis id, masked text, group): an answer's id is its number, a comment's ``c<id>``."""
Quoted = tuple[list[str], list[int]]
"""A theme's quotes, best first, and how many of its texts say each one's words."""


@dataclass(frozen=True)
class ThemeInput:
    """What theme analysis reads: the answers, then (``with_comments``) the comments, and the
    ids of those of them never to be quoted."""

    texts: list[Text]
    answers: int
    """How many of ``texts`` (the first ones) are answers."""
    held: frozenset[str] = frozenset()
    with_comments: bool = False
    languages: dict[str, str] = field(default_factory=dict)
    """Each text's language where it is known: an answer's, as the conversation was in when it was
    given (else its participant's in the study); a comment's, its participant's in the study."""

    @property
    def comments(self) -> int:
        return len(self.texts) - self.answers

    @property
    def held_back(self) -> dict[str, int]:
        """How many answers (and, read with comments, comments) are counted but never quoted."""
        answers = sum(1 for text_id, _, _ in self.texts[:self.answers] if text_id in self.held)
        comments = {"comments": len(self.held) - answers} if self.with_comments else {}
        return {"answers": answers, **comments}

    @property
    def group_answers(self) -> dict[str, int]:
        """How many texts each group gave (held ones and those that say nothing included)."""
        return dict(sorted(Counter(group for _, _, group in self.texts if group).items()))

    def counts(self) -> dict[str, Any]:
        """What was read, as both the CLI's JSON and the desk's result give it: ``answers``,
        ``comments`` (read with comments only), ``held_back`` and ``held_back_note``."""
        return {"answers": self.answers, **({"comments": self.comments} if self.with_comments else {}),
                "held_back": self.held_back, "held_back_note": held_back_note(self.held_back)}


def held_back_note(held_back: dict[str, int]) -> str:
    """'1 answer and 2 comments held back: ...' (or '' when none were), for the CLI's table and the desk."""
    parts = [f"{n} {kind[:-1] if n == 1 else kind}" for kind, n in held_back.items() if n]
    if not parts:
        return ""
    return (" and ".join(parts) + " held back: told where a safeguarding concern was raised (see the desk's Alerts), "
            "counted in their themes but never quoted")


def theme_input(database: Database, study_id: str, step_id: str, flow_id: str | None = None,
                with_comments: bool = False) -> ThemeInput:
    """The answers to ``step_id`` (in ``flow_id`` only, if named) and, with ``with_comments``,
    every comment the study kept, masked, with the ids of those told where their participant
    raised a safeguarding flag."""
    from bot.analysis_input import answers_for_step
    from bot.comments import comments_for_step, flagged_comments

    answers = [(text_id, text, group or UNSPECIFIED) for text_id, text, group in answers_for_step(database, study_id, step_id, flow_id)]
    held = flagged_answers(database, study_id, step_id, flow_id) & {text_id for text_id, _, _ in answers}
    languages = text_languages(database, study_id, step_id, flow_id, with_comments)
    if not with_comments:
        return ThemeInput(list(answers), len(answers), frozenset(held), languages=languages)
    comments = [(text_id, text, group or UNSPECIFIED) for text_id, text, group in comments_for_step(database, study_id)]
    held |= flagged_comments(database, study_id) & {text_id for text_id, _, _ in comments}
    return ThemeInput([*answers, *comments], len(answers), frozenset(held), with_comments=True, languages=languages)


def text_languages(database: Database, study_id: str, step_id: str, flow_id: str | None = None,
                   with_comments: bool = False) -> dict[str, str]:
    """The language of each answer to ``step_id`` (in ``flow_id`` only, if named) and, with
    ``with_comments``, of each comment, keyed by analysis id: the answer's own (the conversation's
    language when it was given), else its participant's in the study; a comment's participant's."""
    a, e, c = ANSWERS.c, ENROLMENTS.c, COMMENTS.c
    enrolled = and_(e.participant_id == a.participant_id, e.study_id == a.study_id)
    query = (select(a.id, func.coalesce(a.language, e.language)).select_from(ANSWERS.outerjoin(ENROLMENTS, enrolled))
             .where(a.study_id == study_id, a.step_id == step_id))
    if flow_id is not None:
        query = query.where(a.flow_id == flow_id)
    with database.reading() as session:
        found = {str(answer_id): str(language) for answer_id, language in session.execute(query) if language}
        if with_comments:
            commented = and_(e.participant_id == c.participant_id, e.study_id == c.study_id)
            rows = session.execute(select(c.id, e.language).select_from(COMMENTS.join(ENROLMENTS, commented))
                                   .where(c.study_id == study_id))
            found |= {f"{COMMENT_ID_PREFIX}{comment_id}": str(language) for comment_id, language in rows if language}
    return found


def flagged_answers(database: Database, study_id: str, step_id: str, flow_id: str | None = None) -> set[str]:
    """The answers to ``step_id`` (in ``flow_id`` only, if named) by participants who raised a
    safeguarding flag at that question (the same flow's step of that id)."""
    a, f = ANSWERS.c, FLAGS.c
    same_step = and_(f.participant_id == a.participant_id, f.study_id == a.study_id, f.flow_id == a.flow_id, f.step_id == a.step_id)
    query = (select(a.id).distinct().select_from(ANSWERS.join(FLAGS, same_step))
             .where(a.study_id == study_id, a.step_id == step_id, f.kind == SAFEGUARDING))
    if flow_id is not None:
        query = query.where(a.flow_id == flow_id)
    with database.reading() as session:
        return {str(answer_id) for answer_id in session.execute(query).scalars()}


def quoted_themes(themes: Sequence[Any], given: ThemeInput) -> list[dict[str, Any]]:
    """For each theme, what may be shown of it: ``quotes`` and ``quote_counts``
    (:func:`quotes_held_back`), and read with comments ``comments`` and ``quote_sources``
    (:func:`comment_marks`)."""
    quoted = quotes_held_back(themes, given.texts, given.held, languages=given.languages)
    return [{"quotes": quotes, "quote_counts": counts,
             **(comment_marks(theme.members, quotes, given.texts) if given.with_comments else {})}
            for theme, (quotes, counts) in zip(themes, quoted, strict=True)]


def quotes_held_back(themes: Sequence[Any], texts: Sequence[Text], held: frozenset[str] | set[str],
                     most: int = QUOTES, languages: dict[str, str] | None = None) -> list[Quoted]:
    """Each theme's quotes, none in the words of a text in ``held`` (a disclosure is nobody's
    representative quote): a theme that quoted one has its quotes chosen again, as the theme
    finder chooses them, from its other texts, read as it reads them (a Welsh answer in its
    English reading; ``languages`` as for :func:`nlp.themes.find_themes`). The held texts still
    count in the theme."""
    from nlp.duplicates import normalise

    kept = [(list(t.quotes)[:most], list(getattr(t, "quote_counts", []))[:most]) for t in themes]
    held_words = {normalise(text) for text_id, text, _ in texts if text_id in held}
    redo = [n for n, t in enumerate(themes) if any(normalise(q) in held_words for q in t.quotes[:most])]
    if redo:
        from nlp.embed import encode
        from nlp.themes import language_plan

        vectors = encode(language_plan(texts, languages).reading).topic
        for n in redo:
            kept[n] = _quotes_from_others(themes[n].members, texts, vectors, held_words, most)
    return kept


def _quotes_from_others(members: list[str], texts: Sequence[Text], vectors: Any, held_words: set[str], most: int) -> Quoted:
    """A theme's quotes chosen (:func:`nlp.themes.representative`) from its texts not in ``held_words``."""
    import numpy as np

    from nlp.duplicates import normalise
    from nlp.themes import answers_per_wording, representative

    ids, words = [t[0] for t in texts], [t[1] for t in texts]
    where = {text_id: n for n, text_id in enumerate(ids)}
    everyone = np.array([where[m] for m in members], dtype=int)
    quotable = np.array([i for i in everyone if normalise(words[i]) not in held_words], dtype=int)
    chosen = representative(vectors, quotable, words, most) if quotable.size else []
    said = answers_per_wording(everyone, words, ids)
    return [words[i] for i in chosen], [said[normalise(words[i])] for i in chosen]


def comment_marks(members: list[str], quotes: list[str], texts: Sequence[Text]) -> dict[str, Any]:
    """How a theme read with comments tells them from answers: ``comments``, how many of its texts
    are comments, and ``quote_sources``, for each quote ``answer`` (an answer to the question has
    its words) or ``comment`` (only comments have)."""
    from bot.comments import is_comment
    from nlp.duplicates import normalise

    answer_words = {normalise(text) for text_id, text, _ in texts if not is_comment(text_id)}
    return {"comments": sum(1 for member in members if is_comment(member)),
            "quote_sources": ["answer" if normalise(quote) in answer_words else "comment" for quote in quotes]}
