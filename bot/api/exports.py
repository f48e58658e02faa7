"""Exports with progress: the long CSV and data dictionary of :mod:`bot.export`, the same
answers as Parquet (typed columns), bundled in a zip for the dashboard.

``export_bundle`` reports progress through a callback, so the dashboard's job runner
and the command line (click.progressbar) can both show it.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bot.export import ANSWER_COLUMNS, ExportResult, export_study
from storage.database import Database

FORMATS = ("csv", "parquet")
Progress = Callable[[float, str], None]


def _quiet(fraction: float, message: str) -> None:
    return None


def to_parquet(answers_csv: Path, out: Path) -> Path:
    """The long answers table as Parquet: times as timestamps, skipped as booleans, the rest text."""
    frame = pd.read_csv(answers_csv, dtype=str, keep_default_na=False)
    frame["answered_at"] = pd.to_datetime(frame["answered_at"], utc=True, format="ISO8601")
    if "withdrawn_at" in frame:
        frame["withdrawn_at"] = pd.to_datetime(frame["withdrawn_at"].replace("", None), utc=True, format="ISO8601")
    frame["skipped"] = frame["skipped"] == "true"
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"chorus.columns": json.dumps(dict(ANSWER_COLUMNS)).encode()})
    pq.write_table(table, out)
    return out


def export_bundle(database: Database, study_id: str, out_dir: Path, formats: tuple[str, ...] = FORMATS,
                  progress: Progress = _quiet, now: datetime | None = None) -> list[Path]:
    """Write the study's export files into ``out_dir``; returns them (answers first)."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown export format(s): {', '.join(sorted(unknown))}; use csv or parquet")
    progress(0.05, "reading answers")
    result: ExportResult = export_study(database, study_id, out_dir, now)
    progress(0.6, f"{result.rows} answers written as CSV")
    files = [result.answers, result.dictionary_csv, result.dictionary_md]
    if "parquet" in formats:
        files.insert(1, to_parquet(result.answers, out_dir / f"{study_id}-answers.parquet"))
        progress(0.85, "Parquet written")
    if "csv" not in formats:
        result.answers.unlink()
        files.remove(result.answers)
    return files


def zip_bundle(files: list[Path], out: Path, progress: Progress = _quiet) -> Path:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n, file in enumerate(files, start=1):
            archive.write(file, arcname=file.name)
            progress(0.85 + 0.15 * n / len(files), f"zipping {file.name}")
    return out
