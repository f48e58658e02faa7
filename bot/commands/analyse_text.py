"""Free-text commands: ``chorus analyse themes|codebook|safety|duplicates`` on a
CSV of answers (columns ``id``, ``text``, optional ``group``), and
``chorus redact`` as a filter from stdin to stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import click

if TYPE_CHECKING:
    from bot.theme_inputs import ThemeInput

FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table",
    show_default=True, help="A readable table, or JSON for other programs.",
)


def INPUT(command: Callable[..., Any]) -> Callable[..., Any]:  # noqa: N802 (a decorator, like FORMAT)
    """Where the answers come from: a CSV, or a step of a study in the database."""
    for option in reversed((
        click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False), default=None,
                     help="CSV with columns id, text and optionally group (and, for themes, language)."),
        click.option("--study", "study_id", default=None, help="Or: a study id (with --step), read from the database."),
        click.option("--step", "step_id", default=None, help="The open question's step id in --study."),
        click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL)."),
    )):
        command = option(command)
    return command


def answers_from(input_path: str | None, study_id: str | None, step_id: str | None,
                 database_url: str | None) -> list[tuple[str, str, str | None]]:
    if input_path:
        return read_answers(input_path)
    if not (study_id and step_id):
        raise click.UsageError("give --input CSV, or --study ID with --step STEP")
    from bot.analysis_input import answers_for_step
    from bot.settings import Settings
    from storage.database import init_database

    database = init_database(Settings.from_env(database_url=database_url).database_url)
    try:
        answers = answers_for_step(database, study_id, step_id)
    finally:
        database.dispose()
    if not answers:
        raise click.ClickException(f"no answers to step '{step_id}' of study '{study_id}'")
    return answers


def read_answers(path: str) -> list[tuple[str, str, str | None]]:
    """(id, text, group) rows from a CSV; a missing column is a clear error."""
    import pandas as pd
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("id", "text") if c not in data.columns]
    if missing:
        raise click.ClickException(
            f"{path}: no column(s) {', '.join(missing)}; the columns are {', '.join(data.columns)}"
        )
    groups = data["group"] if "group" in data.columns else [""] * len(data)
    return [(str(i), str(t), g or None) for i, t, g in zip(data["id"], data["text"], groups, strict=True)]


def read_languages(path: str) -> dict[str, str]:
    """id -> language from a CSV's optional ``language`` column (empty when it has none)."""
    import pandas as pd
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "language" not in data.columns:
        return {}
    return {str(i): str(language) for i, language in zip(data["id"], data["language"], strict=True) if language}


@contextmanager
def progress(label: str, length: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (stdout stays clean for JSON)."""
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


def emit(payload: dict[str, Any], output_format: str, table: Callable[[], str]) -> None:
    if output_format == "json":
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        click.echo(table())


def theme_input(input_path: str | None, study_id: str | None, step_id: str | None, flow_id: str | None,
                database_url: str | None, with_comments: bool) -> ThemeInput:
    """What the themes command reads: a CSV's answers as they are, or a study's, read, masked and
    held back as the desk reads them (:func:`bot.theme_inputs.theme_input`): the answers to the
    step (of ``flow_id`` only, if named) and with ``with_comments`` every comment kept in the
    study (stories told at questions that take no free text, bot/comments.py)."""
    if with_comments and (input_path or not (study_id and step_id)):
        raise click.UsageError("--with-comments reads a study's comments: give --study ID with --step STEP")
    from bot.theme_inputs import ThemeInput

    if input_path:
        answers = read_answers(input_path)
        return ThemeInput(answers, len(answers), languages=read_languages(input_path))
    if not (study_id and step_id):
        raise click.UsageError("give --input CSV, or --study ID with --step STEP")
    from bot.settings import Settings
    from bot.theme_inputs import theme_input as study_theme_input
    from storage.database import init_database

    database = init_database(Settings.from_env(database_url=database_url).database_url)
    try:
        given = study_theme_input(database, study_id, step_id, flow_id, with_comments)
    finally:
        database.dispose()
    if not given.texts:
        where = f" in flow '{flow_id}'" if flow_id else ""
        raise click.ClickException(f"no answers to step '{step_id}'{where} of study '{study_id}'" + (", and no comments" if with_comments else ""))
    return given


@click.command("themes")
@INPUT
@click.option("--flow", "flow_id", default=None, help="With --study: only the answers to --step in this flow (as the desk names it).")
@click.option("--k", type=click.IntRange(min=1), default=None, help="Number of themes (default: found).")
@click.option("--with-comments", is_flag=True, default=False,
              help="With --study: read the study's comments (stories told at questions that take no free text) too.")
@FORMAT
def themes_command(input_path: str | None, study_id: str | None, step_id: str | None, database_url: str | None, flow_id: str | None,
                   k: int | None, with_comments: bool, output_format: str) -> None:
    """Find the themes in answers to an open question: each with its keywords, quotes and
    share of each group's answers. Answers that say nothing of substance ("dunno", "n/a")
    are in no theme; how many there were is said at the end.

    With --study, the answers are read as the desk reads them (bot/theme_inputs.py): masked, and
    an answer told where its participant raised a safeguarding concern counts in its theme but is
    never quoted; how many were held back is said at the end. With --with-comments, the study's
    comments are read alongside the answers, masked and held back alike: each theme says how many
    of its texts are comments, and each quote whether it is an answer's words or a comment's.

    Answers in Welsh are read through a glossary into English, which the model reads, or themed
    apart (nlp/themes_languages.py); a CSV may give each answer's language in a ``language``
    column, and the end says how each language's answers were themed."""
    from bot.theme_inputs import quoted_themes
    from nlp.themes import describe_shares, find_themes, group_shares, said_nothing_note

    given = theme_input(input_path, study_id, step_id, flow_id, database_url, with_comments)
    answers = given.texts
    with progress("Reading answers" + (" and comments" if with_comments else ""), len(answers)) as step:
        result = find_themes(answers, k=k, progress=step, languages=given.languages)
    group_of = {a[0]: a[2] for a in answers}
    shares = {t.id: group_shares(t.members, group_of, t.group_answers) for t in result.themes}
    shown = {t.id: quoted for t, quoted in zip(result.themes, quoted_themes(result.themes, given), strict=True)}
    payload = result.as_dict()
    payload["themes"] = [{**t.__dict__, "groups": [{"group": g.group, "answers": g.answers, "of": g.of, "share": round(g.share, 4)}
                                                   for g in shares[t.id]], **shown[t.id]} for t in result.themes]
    payload |= given.counts()

    def table() -> str:
        lines = []
        for t in result.themes:
            marked = shown[t.id]
            among = f"   ({marked['comments']} of them comments)" if marked.get("comments") else ""
            lines.append(f"{t.id:>3}  {t.size:>5}  {t.label}   [{', '.join(t.keywords)}]{among}")
            if shares[t.id]:
                lines.append(f"            by group: {describe_shares(shares[t.id])}")
            quotes = marked["quotes"]
            counts = [*marked["quote_counts"], *[1] * len(quotes)]
            sources = [*marked.get("quote_sources", []), *[""] * len(quotes)]
            lines += [f"            \u201c{q}\u201d" + (f"  ({n} answers)" if n > 1 else "") + ("  (comment)" if source == "comment" else "")
                      for q, n, source in zip(quotes, counts, sources, strict=False)]
        for group, theme_shares in result.prevalence.items():
            top = sorted(theme_shares.items(), key=lambda kv: -kv[1])[:3]
            lines.append(f"{group}: " + ", ".join(f"theme {i} {s:.0%}" for i, s in top))
        held = given.counts()["held_back_note"]
        notes = [note for note in (result.languages_note, said_nothing_note(len(result.non_answers)), held and f"{held}.") if note]
        read = [f"Read {given.answers} answers and {given.comments} comments."] if with_comments else []
        return "\n".join(lines + notes + read)

    emit(payload, output_format, table)


@click.command("codebook")
@INPUT
@click.option("--codebook", "codebook_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--corrections", type=click.Path(exists=True, dir_okay=False), default=None,
    help="CSV with columns id and themes (theme ids separated by ';'): the coordinator's fixes.",
)
@click.option("--threshold", type=float, default=None, help="Score needed to tag a theme.")
@FORMAT
def codebook_command(
    input_path: str | None, study_id: str | None, step_id: str | None, database_url: str | None, codebook_path: str, corrections: str | None, threshold: float | None,
    output_format: str,
) -> None:
    """Tag answers with the themes of a codebook (YAML)."""
    import pandas as pd

    from nlp.codebook import DEFAULT_THRESHOLD, CodebookError, Tagger, load_codebook

    answers = answers_from(input_path, study_id, step_id, database_url)
    try:
        tagger = Tagger(load_codebook(codebook_path), threshold or DEFAULT_THRESHOLD)
        texts = {a[0]: a[1] for a in answers}
        if corrections:
            fixes = pd.read_csv(corrections, dtype=str, keep_default_na=False)
            for answer_id, themes in zip(fixes["id"], fixes["themes"], strict=True):
                named = [t.strip() for t in themes.split(";") if t.strip()]
                tagger.correct(answer_id, texts.get(answer_id, ""), named)
    except (CodebookError, KeyError) as error:
        raise click.ClickException(str(error)) from error
    tagging = tagger.tag([(a[0], a[1]) for a in answers])
    payload = {
        "tags": {i: [{"theme": t, "score": s} for t, s in tags] for i, tags in tagging.tags.items()},
        "unmatched": tagging.unmatched,
    }

    def table() -> str:
        lines = [f"{i}: " + (", ".join(f"{t} ({s:.2f})" for t, s in tags) or "-")
                 for i, tags in tagging.tags.items()]
        return "\n".join(lines + [f"unmatched ({len(tagging.unmatched)}): {' '.join(tagging.unmatched)}"])

    emit(payload, output_format, table)


@click.command("safety")
@INPUT
@FORMAT
def safety_command(input_path: str | None, study_id: str | None, step_id: str | None, database_url: str | None, output_format: str) -> None:
    """List answers that may signal risk of harm or a medical emergency.

    A safety net for a person to review, not a clinical assessment."""
    from nlp.embed import embed
    from nlp.safety import assess_batch, for_the_model

    answers = answers_from(input_path, study_id, step_id, database_url)
    with progress("Checking answers", len(answers)) as step:
        vectors = embed([for_the_model(a[1]) for a in answers], progress=step)
    results = assess_batch([a[1] for a in answers], vectors)
    flagged = [
        {"id": a[0], "category": r.category, "reason": r.reason, "score": r.score}
        for a, r in zip(answers, results, strict=True) if r.flagged
    ]
    payload = {"flagged": flagged, "checked": len(answers)}

    def table() -> str:
        lines = [f"{f['id']}: {f['reason']}" for f in flagged]
        return "\n".join(lines + [f"{len(flagged)} of {len(answers)} answers flagged"])

    emit(payload, output_format, table)


@click.command("duplicates")
@INPUT
@click.option("--similarity", type=click.FloatRange(0, 1), default=None, help="Cosine similarity to merge.")
@FORMAT
def duplicates_command(input_path: str | None, study_id: str | None, step_id: str | None, database_url: str | None, similarity: float | None, output_format: str) -> None:
    """Propose merging near-identical suggestions, with their counts."""
    from nlp.duplicates import DEFAULT_SIMILARITY, merge_duplicates

    answers = answers_from(input_path, study_id, step_id, database_url)
    groups = merge_duplicates([(a[0], a[1]) for a in answers], similarity or DEFAULT_SIMILARITY)
    payload = {"groups": [g.__dict__ for g in groups]}
    emit(payload, output_format, lambda: "\n".join(f"{g.count:>4}  {g.text}" for g in groups))


@click.command("redact")
@click.option("--names", default="", help="Names to mask, separated by commas.")
def redact_command(names: str) -> None:
    """Mask phone numbers, e-mails, NHS numbers, postcodes, dates of birth and
    names in text read from stdin; write it to stdout."""
    from nlp.redact import redact

    given = [n.strip() for n in names.split(",") if n.strip()]
    click.echo(redact(sys.stdin.read(), given), nl=False)


def register(cli: click.Group) -> None:
    analyse = cast(click.Group, cli.commands["analyse"])
    for command in (themes_command, codebook_command, safety_command, duplicates_command):
        analyse.add_command(command)
    cli.add_command(redact_command)
