"""``chorus transcribe FILE...``: transcribe voice notes with the local Whisper model."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from nlp.voice_worker import TranscriptionResult


@click.command("transcribe")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--language", default=None, help="Language code, e.g. en (default: detect).")
@click.option("--model", default=None, help="Model directory or name (CHORUS_WHISPER_MODEL).")
def transcribe_command(
    files: tuple[Path, ...], as_json: bool, language: str | None, model: str | None
) -> None:
    """Print each FILE's transcript, one per line, in the order given.

    A file that cannot be transcribed is reported on stderr with the kind of failure
    (too_large, too_long, corrupt, empty, silence, no_speech); the others are still
    transcribed, and the exit code is 1 if any failed.
    """
    from nlp.transcribe import ModelNotFoundError, WhisperSettings
    from nlp.voice_worker import ThreadPoolTranscriptionQueue
    try:
        settings = WhisperSettings.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if model:
        settings = replace(settings, model=model)
    metadata = {"language": language} if language else {}
    failed = 0
    with ThreadPoolTranscriptionQueue(settings=settings) as queue:
        jobs = [queue.submit(str(path), path, metadata) for path in files]
        for job in jobs:
            try:
                result = job.result()
            except ModelNotFoundError as exc:
                raise click.ClickException(str(exc)) from exc
            failed += not result.ok
            _report(result, as_json)
    if failed:
        raise SystemExit(1)


def _report(result: TranscriptionResult, as_json: bool) -> None:
    if result.error is not None:
        click.echo(f"{result.job_id}: {result.error.kind.value}: {result.error.detail}", err=True)
        return
    assert result.transcript is not None
    if as_json:
        click.echo(json.dumps({"file": result.job_id, **result.transcript.to_dict()}))
    else:
        click.echo(result.transcript.text)


def register(cli: click.Group) -> None:
    cli.add_command(transcribe_command)
