from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI
    from uvicorn.supervisors.multiprocess import Multiprocess, Process

    from bot.settings import Settings

log = logging.getLogger("chorus.serve")


@click.command()
@click.option("--host", default=None, help="Address to listen on (default CHORUS_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default CHORUS_PORT or 8000).")
@click.option("--studies", "studies_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder of studies (default CHORUS_STUDIES_DIR or the example study).")
@click.option("--database", "database_url", default=None, help="Database URL (default CHORUS_DATABASE_URL).")
@click.option("--telegram-polling", is_flag=True, help="Fetch Telegram updates with getUpdates (no public URL needed).")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="Server processes sharing the port (default CHORUS_PROCESSES or 1; more than one needs PostgreSQL).")
def serve(host: str | None, port: int | None, studies_dir: str | None, database_url: str | None, telegram_polling: bool,
          processes: int | None) -> None:
    """Run Chorus: webhooks, the web chat simulator and the API, on one process (or several)."""
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app import create_app
    from bot.logging_setup import configure as configure_logging
    from bot.settings import SettingsError, serving_settings
    from flows.loader import LoadError
    from storage.crypto import DataKeyError

    try:
        settings = serving_settings(host=host, port=port, studies_dir=studies_dir, database_url=database_url,
                                    processes=processes, spool=True)
        configure_logging(settings.log_level, settings.log_format)
        if settings.processes > 1:
            _check_processes(settings, telegram_polling)  # (before anything touches the database)
        _check_broker(settings)
        studies = _check_studies(settings.studies_dir, _studies_source(studies_dir))
        _check_database(settings)
        app = create_app(settings, freeze_heap=True) if settings.processes == 1 else None
        if telegram_polling and app is not None:
            _poll_telegram(app)
        _first_admin_token(settings)
    except (SettingsError, DataKeyError) as error:
        raise click.ClickException(str(error)) from None
    except SQLAlchemyError as error:  # (its first line names the problem; the URL's password is not in it)
        raise click.ClickException(f"cannot open the database (CHORUS_DATABASE_URL): {_first_line(error)}") from None
    except LoadError as error:
        raise click.ClickException("the studies have problems:\n" + "\n".join(map(str, error.problems))) from None
    click.echo(studies, err=True)
    click.echo(f"Chorus on http://{settings.host}:{settings.port}  (simulator at /, dashboard at /dashboard, "
               f"health at /health){_in(settings.processes)}", err=True)
    if settings.queue_url:  # (not the URL itself: it holds the broker's password)
        click.echo("Background work (sending, voice notes, the scheduler) goes to `chorus worker` processes "
                   "through the broker in CHORUS_QUEUE_URL.", err=True)
    # log_config=None: uvicorn's own records go through the handler configured above (text or JSON);
    # no access log: a record per request costs CPU on the hot path (and log_level=warning hides it anyway).
    quiet: dict[str, Any] = {"log_level": "warning", "log_config": None, "access_log": False}
    if app is not None:
        uvicorn.run(app, host=settings.host, port=settings.port, **quiet)
        return
    _share_settings(settings)
    with _shared_metrics():
        _serve_in_processes(settings, quiet)


def _serve_in_processes(settings: Settings, quiet: dict[str, Any]) -> None:
    """What ``uvicorn.run(..., workers=N)`` does, with :func:`_watchful_supervisor` in charge."""

    config = serving_config(settings, quiet)
    supervisor = _watchful_supervisor()(config, sockets=[config.bind_socket()])
    with contextlib.suppress(KeyboardInterrupt):
        supervisor.run()


def serving_config(settings: Settings, quiet: dict[str, Any]) -> uvicorn.Config:
    """The serving processes' uvicorn settings, with the health check's patience from settings."""
    import uvicorn

    return uvicorn.Config("bot.app:serving_process", factory=True, workers=settings.processes, host=settings.host,
                          port=settings.port, timeout_worker_healthcheck=settings.process_health_timeout, **quiet)


def _watchful_supervisor() -> type[Multiprocess]:
    """uvicorn's supervisor, which replaces a serving process that died or stopped answering,
    but says so only at INFO on a logger ``chorus serve`` keeps at WARNING: here a WARNING
    names the process and how it ended, and its replacement is logged at INFO."""
    from uvicorn.supervisors import multiprocess

    class WatchfulSupervisor(multiprocess.Multiprocess):
        def keep_subprocess_alive(self) -> None:
            before = list(self.processes)
            hung: set[int] = set()
            for process in before:  # how each check went, told at the moment uvicorn makes it
                setattr(process, "is_alive", _checked(process, hung))  # noqa: B010 (an instance's own method)
            super().keep_subprocess_alive()
            for old, new in zip(before, self.processes, strict=False):
                if new is not old:  # (one that failed to start is not replaced: uvicorn stops, saying why)
                    _say_replaced(old, new, hung=id(old) in hung, timeout=self.config.timeout_worker_healthcheck)

    return WatchfulSupervisor


def _checked(process: Process, hung: set[int]) -> Callable[[float], bool]:
    """uvicorn's liveness check of one serving process (alive, and answering its ping), noting in
    ``hung`` one that was alive but did not answer. Noted as the check is made, not before the
    round of checks: a process killed while another's ping was waiting died, it did not hang."""

    def is_alive(timeout: float = 5) -> bool:
        if not process.process.is_alive():
            return False
        answered = process.ping(timeout)
        if not answered:
            hung.add(id(process))
        return answered

    return is_alive


def _say_replaced(old: Process, new: Process, hung: bool, timeout: float) -> None:
    code = old.exitcode
    how = f"stopped answering uvicorn's health check for {timeout:g}s and was killed" if hung else _how_it_ended(code)
    log.warning("serving process %s %s; starting another", old.pid, how,
                extra={"event": "serve.process_died", "pid": old.pid, "exit_code": code})
    log.info("serving process %s started in place of %s", new.pid, old.pid,
             extra={"event": "serve.process_restarted", "pid": new.pid, "replaces": old.pid})


def _how_it_ended(code: int | None) -> str:
    """'was killed by SIGKILL', 'exited with code 1' (a negative exit code is the signal's number)."""
    if code is None:
        return "ended (exit status unknown)"
    if code >= 0:
        return f"exited with code {code}"
    try:
        return f"was killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"was killed by signal {-code}"


def _check_broker(settings: Settings) -> None:
    """In distributed mode (CHORUS_QUEUE_URL) the broker takes a connection, or the server does
    not start: one line and a non-zero exit, as ``chorus worker`` does, instead of serving with
    every enqueue failing and only ``/ready`` saying 503. Nothing to check without a broker."""
    if not settings.queue_url:
        return
    from bot.distributed import BrokerUnavailable, DramatiqQueue

    queue = DramatiqQueue(settings.queue_url, settings.queue_namespace)
    try:
        queue.check()
    except BrokerUnavailable as error:
        raise click.ClickException(str(error)) from None
    finally:
        with contextlib.suppress(Exception):
            queue.close()


@contextmanager
def _shared_metrics() -> Iterator[None]:
    """The serving processes keep their metrics in files of one fresh folder, and each scrape of
    /metrics sums them (bot/metrics.py): otherwise a scrape would show only the process that took it."""
    from bot.metrics import MULTIPROCESS_FOLDER

    with tempfile.TemporaryDirectory(prefix="chorus-metrics-") as folder:
        os.environ[MULTIPROCESS_FOLDER] = folder
        try:
            yield
        finally:
            os.environ.pop(MULTIPROCESS_FOLDER, None)


def _studies_source(option: str | None) -> str:
    """Where the studies folder came from, for the messages that name it."""
    if option is not None:
        return "--studies"
    if os.environ.get("CHORUS_STUDIES_DIR", ""):
        return "CHORUS_STUDIES_DIR"
    return "the example studies; CHORUS_STUDIES_DIR or --studies for your own"


def _check_studies(folder: Path, source: str) -> str:
    """The studies pass ``chorus validate`` (its errors; warnings are for the coordinator), or
    the server does not start: loading alone misses problems (a start_flow or goto naming
    nothing) that would otherwise surface as 500s in front of participants. Returns the line
    that says which folder (as an absolute path) and studies are served."""
    from bot.studies import study_folders
    from flows.validate import validate_paths

    where = f"{folder.resolve()} ({source})"
    if not folder.is_dir():
        raise click.ClickException(f"no studies folder at {where}: point CHORUS_STUDIES_DIR or --studies at your studies")
    studies = study_folders(folder)
    if not studies:
        raise click.ClickException(f"no study in {where}: a studies folder holds a study.yaml, or folders that do")
    errors = [problem for problem in validate_paths(studies)[0] if problem.severity == "error"]
    if errors:
        raise click.ClickException("the studies have problems (chorus validate shows them with their warnings):\n"
                                   + "\n".join(map(str, errors)))
    names = [_named(study) for study in studies]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"Studies from {where}: {shown}"


def _named(folder: Path) -> str:
    """A study's folder, with its id when that differs (the id is what tokens and the desk use)."""
    import yaml

    from flows.loader import study_file

    try:
        study_id = (yaml.safe_load(study_file(folder).read_text(encoding="utf-8")) or {}).get("study")
    except (OSError, yaml.YAMLError, AttributeError):
        study_id = None
    return folder.name if not study_id or study_id == folder.name else f"{folder.name} (study '{study_id}')"


def _check_keys(settings: Settings) -> None:
    """The keys open and hash the addresses already stored, or the server does not start."""
    from storage import repository
    from storage.database import init_database

    database = init_database(settings.database_url, sealer=settings.sealer())
    try:
        with database.transaction() as connection:
            problem = repository.keys_problem(connection, database.sealer, settings.address_key())
    finally:
        database.dispose()
    if problem is not None:
        raise click.ClickException(problem)


def _first_line(error: Exception) -> str:
    """A driver's error without SQLAlchemy's wrapping: 'database "x" does not exist'."""
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[-1].strip()


def _in(processes: int) -> str:
    return "" if processes == 1 else f", in {processes} processes"


def _check_processes(settings: Settings, telegram_polling: bool) -> None:
    """Several processes need a database that several can write to, and ONE Telegram poller."""
    if settings.database_url.startswith("sqlite"):
        raise click.ClickException("--processes above 1 needs PostgreSQL (CHORUS_DATABASE_URL): SQLite takes one writer "
                                   "at a time, and one process already keeps it busy")
    if telegram_polling:
        raise click.ClickException("--telegram-polling runs in one process: use the webhook with --processes")


def _check_database(settings: Settings) -> None:
    """The keys open the addresses stored, and, for several processes, what they would each
    make for themselves is made here first: the schema, the published studies and (without
    CHORUS_HASH_KEY / CHORUS_DATA_KEYS) the key files. A PostgreSQL server that is unreachable
    (refused, silent, not accepting connections) does not stop the server: each serving
    process says so in one WARNING, keeps webhooks in the spool, and finishes starting once
    the database answers (bot/degraded.py). Any other database problem stops it, in one line."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app import build
    from bot.outage import is_unreachable

    try:
        _check_keys(settings)
        if settings.processes > 1:
            build(settings).database.dispose()  # migrates, publishes, makes the keys
    except SQLAlchemyError as error:
        if not (settings.database_url.startswith("postgres") and is_unreachable(error)):
            raise


def _share_settings(settings: Settings) -> None:
    """The processes uvicorn starts read their settings from the environment: the options given here go there too."""
    os.environ.update({"CHORUS_HOST": settings.host, "CHORUS_PORT": str(settings.port), "CHORUS_STUDIES_DIR": str(settings.studies_dir),
                       "CHORUS_DATABASE_URL": settings.database_url, "CHORUS_PROCESSES": str(settings.processes)})


def _poll_telegram(app: FastAPI) -> None:
    """Fetch updates with getUpdates instead of the webhook (the app's lifespan starts it)."""
    from bot.webhooks import ChannelHub

    hub = ChannelHub.from_env()
    if hub.telegram is None:
        raise click.ClickException("--telegram-polling needs TELEGRAM_BOT_TOKEN")
    hub.telegram_polling = True
    app.state.channels = hub


def _first_admin_token(settings: Settings) -> None:
    """On a fresh embedded (SQLite) deployment, a first admin token in var/admin-token (mode 600)."""
    from bot.auth import ensure_admin_token
    from storage.database import init_database

    made = None
    if settings.database_url.startswith("sqlite"):
        database = init_database(settings.database_url)
        try:
            made = ensure_admin_token(database, settings.key_file.parent / "admin-token")
        finally:
            database.dispose()
    if made is not None:
        click.echo(f"First run: an admin token for the dashboard is in {made} (only you can read it).", err=True)
        click.echo(f"  Log in at http://{settings.host}:{settings.port}/login with: cat {made}", err=True)
    click.echo("Dashboard tokens: chorus token create --study ID   (list: chorus token list; revoke: chorus token revoke N)",
               err=True)


def register(cli: click.Group) -> None:
    cli.add_command(serve)
