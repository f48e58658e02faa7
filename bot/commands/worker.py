from __future__ import annotations

import click


@click.command()
@click.option("--queues", "-Q", multiple=True, type=click.Choice(["outbox", "voice"]),
              help="Consume only these queues (repeat; default both). A GPU pool for voice notes: -Q voice.")
@click.option("--threads", type=int, default=8, show_default=True, help="Tasks run at once.")
@click.option("--no-scheduler", is_flag=True, help="Do not tick the scheduler here (any number of processes may tick).")
@click.option("--studies", "studies_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder of studies (default CHORUS_STUDIES_DIR or the example study).")
@click.option("--database", "database_url", default=None, help="Database URL (default CHORUS_DATABASE_URL).")
@click.option("--queue", "queue_url", default=None, help="Broker URL (default CHORUS_QUEUE_URL): amqp://... or redis://...")
@click.option("--metrics-port", type=click.IntRange(1, 65535), default=None,
              help="Serve this worker's counters (messages sent, send failures, ...) at /metrics on this port, for "
                   "Prometheus to scrape (default CHORUS_WORKER_METRICS_PORT, else none). One port per worker.")
@click.option("--metrics-host", default=None,
              help="Address for --metrics-port (default CHORUS_WORKER_METRICS_HOST or 127.0.0.1; from another machine, "
                   "set CHORUS_METRICS_TOKEN too).")
def worker(queues: tuple[str, ...], threads: int, no_scheduler: bool, studies_dir: str | None, database_url: str | None,
           queue_url: str | None, metrics_port: int | None, metrics_host: str | None) -> None:
    """Run background work for `chorus serve` processes: sending, voice notes, the scheduler.

    Start API processes (`chorus serve`) and workers with the same CHORUS_DATABASE_URL and
    CHORUS_QUEUE_URL; the API processes then enqueue work instead of doing it."""
    import ipaddress
    import logging
    import os
    import signal
    import threading

    from bot.logging_setup import configure as configure_logging
    from bot.settings import SettingsError, serving_settings
    from bot.worker import run
    from flows.loader import LoadError

    try:
        settings = serving_settings(studies_dir=studies_dir, database_url=database_url, queue_url=queue_url,
                                    worker_metrics_port=metrics_port, worker_metrics_host=metrics_host)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    if not settings.queue_url:
        raise click.ClickException("chorus worker needs a broker: set CHORUS_QUEUE_URL (amqp://... or redis://...)")
    try:  # the same handler as chorus serve's: text or JSON, request ids, chatty libraries quietened
        configure_logging(settings.log_level, settings.log_format)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if settings.worker_metrics_port and settings.metrics_token is None and not ipaddress.ip_address(settings.worker_metrics_host).is_loopback:
        logging.getLogger("chorus.metrics").warning(
            "the worker's metrics listen on %s without CHORUS_METRICS_TOKEN: only clients on this machine may scrape them",
            settings.worker_metrics_host)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        run(settings, list(queues) or None, not no_scheduler, threads, stop,
            ready=lambda: click.echo(f"chorus worker {os.getpid()} ready", err=True))
    except (ValueError, LoadError) as error:
        raise click.ClickException(str(error)) from None


def register(cli: click.Group) -> None:
    cli.add_command(worker)
