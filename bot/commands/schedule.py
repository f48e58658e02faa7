"""``chorus schedule``: what will be sent to whom and when, before launch and while running.

``plan`` needs only a study folder (a dry run with a sample participant); ``list`` and
``explain`` read the database; ``run`` is a scheduler worker on its own. Participants
are named only by their pseudonymous ids; times are shown on the study's clock.
``chorus analyse evaluation`` gives the FFT and SUS figures per group over time, each
follow-up's response rate, scale questions over time and paired before/after changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.planning import Person, PlannedTask
    from flows.model import Flow, Study
    from storage.database import Database
    from storage.due_tasks import TaskRow

DATABASE = click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")


def register(cli: click.Group) -> None:
    cli.add_command(schedule)
    analyse = cli.commands.get("analyse")
    if isinstance(analyse, click.Group):
        analyse.add_command(evaluation)


@click.group()
def schedule() -> None:
    """The clock: follow-ups, reminders, rounds and snoozes."""


def _database(database_url: str | None) -> Database:
    from bot.settings import Settings, SettingsError
    from storage.database import init_database

    try:
        return init_database(Settings.from_env(database_url=database_url).database_url)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%a %Y-%m-%d %H:%M %Z}"


def _studies(database: Database) -> dict[str, Study]:
    from flows.model import Study
    from storage import repository
    from storage.tables import STUDIES

    found: dict[str, Study] = {}
    with database.transaction() as connection:
        for (study_id,) in connection.execute(STUDIES.select().with_only_columns(STUDIES.c.id)):
            content = repository.study_content(connection, study_id)
            try:
                found[study_id] = Study.model_validate(content)
            except ValueError:
                continue
    return found


_FINISHED = {"ended": "finished", "stopped": "stopped", "replaced": "replaced by another flow"}
"""A session's status, as a reminder or closing of it that will not fire says it."""


def _state(row: TaskRow, sessions: Mapping[int, str] | None = None) -> str:
    if row.done:
        return row.error or "done"
    if row.claimed_at is not None:
        return f"firing (claimed {row.claimed_at:%H:%M:%S} UTC)"
    over = _FINISHED.get((sessions or {}).get(row.session_id or 0, ""))
    if over is not None and row.kind in ("reminder", "close"):
        return f"will be dropped: {row.flow_id} {over}" if row.kind == "reminder" else f"nothing to close: {row.flow_id} {over}"
    return f"pending (retrying: {row.error})" if row.error else "pending"


def _session_statuses(connection: Any, rows: list[TaskRow]) -> dict[int, str]:
    """The sessions pending reminders and closings belong to: one already over drops them."""
    from storage import due_tasks

    return due_tasks.session_statuses(connection, [r.session_id for r in rows if r.session_id and not r.done
                                                   and r.kind in ("reminder", "close")])


def _describe(row: TaskRow) -> str:
    if row.kind == "reminder":
        return f"reminder {row.payload.get('reminder', '')} for {row.flow_id}"
    if row.kind == "close":
        return f"{row.flow_id} closes: no more answers"
    if row.kind == "plan":
        return "look again: " + "; ".join(row.payload.get("waiting", []))
    if row.kind in ("snooze", "timeout"):
        return f"{row.kind}: ask '{row.payload.get('step')}' again" if row.kind == "snooze" else f"timeout on '{row.payload.get('step')}'"
    waits = row.payload.get("waits_for")
    return f"send {row.flow_id}" + (f" ({waits})" if waits and not row.done else "")


@schedule.command("list")
@click.option("--study", "study_id", default=None, help="Only this study.")
@click.option("--all", "include_done", is_flag=True, help="Include finished and dropped tasks.")
@click.option("--limit", type=int, default=200, show_default=True)
@DATABASE
def list_tasks(study_id: str | None, include_done: bool, limit: int, database_url: str | None) -> None:
    """What will be sent to whom and when, soonest first."""
    from storage import due_tasks

    database = _database(database_url)
    studies = _studies(database)
    with database.transaction() as connection:
        rows = due_tasks.listing(connection, study_id, None, include_done, limit)
        sessions = _session_statuses(connection, rows)
    database.dispose()
    if not rows:
        click.echo("nothing scheduled" + (f" for {study_id}" if study_id else ""))
        return
    for row in rows:
        zone = ZoneInfo(studies[row.study_id].timezone) if row.study_id in studies else ZoneInfo("UTC")
        click.echo(f"{_local(row.due_at, zone)}  {row.participant_id or '-':<20} {row.study_id or '-'}: {_describe(row)}"
                   f"  [{_state(row, sessions)}]")


@schedule.command("explain")
@click.argument("participant")
@DATABASE
def explain(participant: str, database_url: str | None) -> None:
    """Everything the clock holds for one participant (by pseudonymous id), and why."""
    from bot.firing import person_of
    from bot.planning import placing_notes, plan_person
    from storage import due_tasks

    database = _database(database_url)
    studies = _studies(database)
    with database.transaction() as connection:
        enrolled = [p for (pid, _), p in due_tasks.people(connection, {(participant, s) for s in studies}).items() if pid == participant]
        steps = {p.study_id: _anchor_steps(connection, studies[p.study_id]) for p in enrolled}
        enrolled = due_tasks.with_given_at(connection, enrolled, steps)
        rows = due_tasks.listing(connection, None, participant, include_done=True, limit=1000)
        sessions = _session_statuses(connection, rows)
    database.dispose()
    if not enrolled:
        raise click.ClickException(f"no enrolment for participant '{participant}' (use the pseudonymous id, e.g. p-3f9c...)")
    for person in enrolled:
        study = studies[person.study_id]
        who = person_of(person)
        zone = who.zone(study)
        click.echo(f"{participant} in {person.study_id}: group {person.group or '(not known yet)'}, "
                   f"enrolled {_local(person.enrolled_at, zone)}, clock {zone.key}"
                   + (f", contact hours {who.contact_hours()}" if who.contact_hours() else "")
                   + (", OPTED OUT: nothing will be sent" if person.opted_out else ""))
        now = datetime.now(UTC)
        plan = plan_person(study, who, now)
        for line in [*plan.waiting, *plan.skipped, *placing_notes(study, who, now)]:
            click.echo(f"  note: {line}")
        for row in (r for r in rows if r.study_id == person.study_id and not (r.kind == "plan" and r.done)):
            click.echo(f"  {_local(row.due_at, zone)}  {_describe(row)}  [{_state(row, sessions)}]")


def _anchor_steps(connection: Any, study: Study) -> dict[tuple[str, str], str]:
    """The steps of the study's published flows (their latest versions) that save a date a
    schedule counts from: when they were answered tells 'yesterday' from which day."""
    from bot.planning import anchor_steps
    from storage import repository

    latest = {version.flow_id: version.content for version in repository.flow_versions(connection, study.study)}
    saves = [(flow_id, str(step.get("id")), step.get("save_to")) for flow_id, content in latest.items()
             for step in content.get("steps") or [] if isinstance(step, dict)]
    return anchor_steps(study, saves)


@schedule.command("plan")
@click.argument("study_path", type=click.Path(exists=True, path_type=Path))
@click.option("--enrolled", default=None, help="When the sample participant joins (study time), e.g. '2026-04-01 10:00'. Default: now.")
@click.option("--group", default=None, help="The sample participant's group (default: each of the study's groups in turn when "
              "some schedule is only for some groups; otherwise one participant, whose group no schedule depends on).")
@click.option("--field", "fields", multiple=True, help="A participant field, e.g. discharge_date=2026-03-03 or contact_hours=09:00-17:00.")
@click.option("--weeks", type=int, default=12, show_default=True, help="How far ahead to show recurring sends.")
def plan(study_path: Path, enrolled: str | None, group: str | None, fields: tuple[str, ...], weeks: int) -> None:
    """A dry run before launch: when each schedule would send, remind and close for a sample participant."""
    from bot.planning import Person
    from flows.loader import LoadError, load_study

    try:
        loaded = load_study(study_path)
    except LoadError as error:
        raise click.ClickException("the study has problems:\n" + "\n".join(map(str, error.problems))) from None
    study, flows = loaded.study, {name: found.flow for name, found in loaded.flows.items()}
    zone = ZoneInfo(study.timezone)
    start = datetime.fromisoformat(enrolled).replace(tzinfo=zone) if enrolled else datetime.now(UTC)
    values: dict[str, Any] = dict(item.split("=", 1) for item in fields if "=" in item)
    by_group = group is None and any(entry.groups for entry in study.schedule)
    for sample_group in study.group_ids() if by_group else [group]:
        person = Person("p-sample", study.study, start.astimezone(UTC), sample_group, values)
        who = f"A participant in group {sample_group}" if sample_group else "A participant (no schedule depends on the group)"
        click.echo(f"{who} who joins {_local(start, person.zone(study))}:")
        for line in _dry_run(study, person, start.astimezone(UTC) + timedelta(weeks=weeks), flows):
            click.echo(f"  {line}")


def _dry_run(study: Study, person: Person, horizon: datetime, flows: Mapping[str, Flow] | None = None) -> list[str]:
    """Plan, then pretend every send happens on time to show reminders, closings and repeats."""
    from bot.planning import FOLLOW_UP, after_sending, placing_notes, plan_person

    zone = person.zone(study)
    plan = plan_person(study, person, person.enrolled_at)
    lines = [f"note: {line}" for line in [*plan.waiting, *plan.skipped, *placing_notes(study, person, person.enrolled_at)]]
    lines += _rounds_held(study, plan.tasks, person, flows or {})
    queue: list[PlannedTask] = list(plan.tasks)
    shown: list[tuple[datetime, str]] = []
    sends: dict[datetime, list[str]] = {}
    while queue:
        task = queue.pop(0)
        if task.due_at > horizon:
            continue
        what = {"follow_up": f"send {task.flow_id}", "reminder": f"remind about {task.flow_id} (if not finished)",
                "close": f"{task.flow_id} closes: no more answers"}.get(task.kind, task.kind)
        shown.append((task.due_at, f"{_local(task.due_at, zone)}  {what}"))
        if task.kind == FOLLOW_UP:
            sends.setdefault(task.due_at, []).append(task.flow_id)
            queue += after_sending(study, task, person, task.due_at, None)
    lines += _sent_together(sends, zone)
    return lines + [line for _, line in sorted(shown)] or ["nothing is scheduled for this participant"]


def _sent_together(sends: Mapping[datetime, list[str]], zone: ZoneInfo) -> list[str]:
    """A note for flows that fall due at the same moment: one conversation at a time, so each
    after the first waits until the one before is finished (or left for a while)."""
    from bot.planning import describe_idle

    return [f"note: {', '.join(flows)} fall due together at {_local(due, zone)}; they are sent one after the other, "
            f"each once the one before is finished ({describe_idle()})" for due, flows in sorted(sends.items()) if len(flows) > 1]


def _rounds_held(study: Study, tasks: list[PlannedTask], person: Person, flows: Mapping[str, Flow]) -> list[str]:
    """A note for each Delphi round planned no later than the round before it: the scheduler
    holds it until that round was sent and finished (or for a while after it was sent)."""
    from bot.planning import round_wait, rounds_before

    planned = {task.flow_id: task.due_at for task in sorted(tasks, key=lambda t: t.due_at, reverse=True)}
    joined = {study.join.start_flow, *(route.flow for route in study.join.routes if route.flow)}
    notes = []
    for task in tasks:
        for before in rounds_before(flows, task.flow_id):
            sent = [person.enrolled_at if name in joined else planned.get(name) for name in before.flows]
            earliest = min((moment for moment in sent if moment is not None), default=None)
            if earliest is None:
                notes.append(f"note: {task.flow_id} is not sent: {before.describe()} is not sent to this participant")
            elif task.due_at <= earliest:
                wait = round_wait(study, before.flows).total_seconds() / 86400
                notes.append(f"note: {task.flow_id} falls due no later than {before.describe()}; it is held until that round "
                             f"was sent and is finished, or {wait:g} days after it was sent")
    return notes


@schedule.command("run")
@click.option("--studies", "studies_dir", default=None, help="Folder of studies (default CHORUS_STUDIES_DIR).")
@click.option("--interval", type=float, default=5.0, show_default=True, help="Seconds between ticks.")
@click.option("--lease", type=float, default=300.0, show_default=True, help="Seconds after which a claim by a dead scheduler is taken over.")
@DATABASE
def run(studies_dir: str | None, interval: float, lease: float, database_url: str | None) -> None:
    """Run the scheduler on its own (set CHORUS_SCHEDULER=off on the web app then)."""

    from bot.scheduler import run_forever
    from bot.settings import Settings

    settings = Settings.from_env(database_url=database_url, studies_dir=studies_dir)
    from bot.logging_setup import configure

    configure(settings.log_level, settings.log_format)
    run_forever(settings.database_url, str(settings.studies_dir), interval, timedelta(seconds=lease))


@click.command("evaluation")
@click.option("--study", "study_id", required=True, help="The study whose follow-ups to summarise.")
@click.option("--period", type=click.Choice(["week", "month", "quarter"]), default="month", show_default=True)
@click.option("--fft", "fft_where", default=None,
              help="FLOW/STEP of the Friends and Family Test question (default: every choice step whose options are the six FFT answers).")
@click.option("--sus-flow", default=None, help="The flow with the SUS items sus_1 ... sus_10 (default: every flow with them).")
@click.option("--same", "same", multiple=True, metavar="FLOW/STEP=NAME",
              help="Count this scale question as measure NAME in the before/after comparison (a question is one measure "
                   "wherever it has the same step id: --same welcome/base=score pairs it with wk2/score). Repeatable.")
@DATABASE
def evaluation(study_id: str, period: str, fft_where: str | None, sus_flow: str | None, same: tuple[str, ...],
               database_url: str | None) -> None:
    """FFT percentage positive (Don't know counted) and mean SUS, per group per period (weeks
    run Monday to Sunday and are named by their Monday, on the study's clock); then each
    follow-up's response rate per send (times sent, sends answered, how the unanswered stand),
    every scale question's mean per period, and the same people's baseline against their later
    answers."""
    from bot.evaluation import evaluation_over_time, followups

    database = _database(database_url)
    zone = _studies(database).get(study_id)
    fft_flow, _, fft_step = (fft_where or "").partition("/")
    names = dict(_same_measure(pair) for pair in same)
    rows = evaluation_over_time(database, study_id, period, zone.timezone if zone else "Europe/London",  # type: ignore[arg-type]
                                fft_flow or None, fft_step or None, sus_flow)
    found = followups(database, study_id, period, zone.timezone if zone else "Europe/London", names)  # type: ignore[arg-type]
    database.dispose()
    if not rows:
        click.echo(f"no FFT or SUS answers in {study_id} yet")
    else:
        _instrument_table(rows)
    _followup_tables(found.responses, found.over_time, found.paired)


def _same_measure(pair: str) -> tuple[str, str]:
    where, _, name = pair.partition("=")
    if "/" not in where or not name.strip():
        raise click.BadParameter(f"'{pair}': give FLOW/STEP=NAME, as in welcome/base=score", param_hint="--same")
    return where.strip(), name.strip()


def _instrument_table(rows: list[Any]) -> None:
    click.echo(f"{'group':<12} {'period':<10} {'FFT n':>6} {'% positive':>11} {'% negative':>11} {'SUS n':>6} {'mean SUS':>9}")
    for row in rows:
        def pct(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        click.echo(f"{row.group:<12} {row.period:<10} {row.fft.responses:>6} {pct(row.fft.percent_positive):>11} "
                   f"{pct(row.fft.percent_negative):>11} {row.sus_responses:>6} {pct(row.sus_mean):>9}")


def _number(value: Any, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _p_value(value: float | None) -> str:
    """A p to three places, and one that would read 0.000 as <0.001 (as the desk shows it)."""
    return "<0.001" if value is not None and value < 0.0005 else _number(value, 3)


def _followup_tables(responses: list[dict[str, Any]], over_time: list[dict[str, Any]], paired: list[dict[str, Any]]) -> None:
    """Who answered each follow-up, each scale question over time, and before/after."""
    if responses:
        click.echo("\nResponse rate per follow-up, counted per send (sent: the times it was sent, a session of it "
                   "started; answered: the sends with any answer in them; rate: % of sends; unanswered sends: open / "
                   "closed / replaced by a later follow-up / stopped / ended otherwise)")
        click.echo(f"{'flow':<14} {'group':<12} {'sent':>6} {'answered':>9} {'rate %':>7}  unanswered sends")
        for r in responses:
            left = " / ".join(str(r[f"not_answered_{k}"]) for k in ("open", "closed", "replaced", "stopped", "ended"))
            click.echo(f"{r['flow']:<14} {r['group']:<12} {r['asked']:>6} {r['answered']:>9} {_number(r['response_rate']):>7}  {left}")
    scales = [r for r in over_time if r["measure"] == "mean"]
    if scales:
        click.echo("\nScale questions: mean per group per period")
        click.echo(f"{'flow/step':<24} {'group':<12} {'period':<10} {'n':>4} {'mean':>6}")
        for r in scales:
            click.echo(f"{r['flow'] + '/' + r['step']:<24} {r['group']:<12} {r['period']:<10} {r['n']:>4} {_number(r['value'], 2):>6}")
    if paired:
        click.echo("\nBefore and after: the same people's baseline answer against a later one (change = later - baseline; "
                   "95% t interval; Wilcoxon signed-rank p, the test to read for ordinal answers)")
        click.echo(f"{'measure':<10} {'baseline':<12} {'later':<12} {'group':<10} {'n':>3} {'before':>7} {'after':>7} "
                   f"{'change':>7} {'95% interval':>16} {'Wilcoxon p':>10}")
        for r in paired:
            interval = "-" if r["ci_low"] is None else f"{r['ci_low']:.2f} to {r['ci_high']:.2f}"
            click.echo(f"{r['measure']:<10} {r['before']:<12} {r['after']:<12} {r['group']:<10} {r['n_paired']:>3} "
                       f"{_number(r['mean_before'], 2):>7} {_number(r['mean_after'], 2):>7} {_number(r['mean_change'], 2):>7} "
                       f"{interval:>16} {_p_value(r['wilcoxon_p']):>10}")
