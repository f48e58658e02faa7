"""A small job runner for long work (exports, themes): threads, an id, progress to poll.

A job belongs to the study it is about and to the token that started it; only someone
who may see the study can see the job. Finished jobs are forgotten after ``keep``
(their files too), checked whenever a job is started or looked up, so an export's file
holding participants' words does not outlive the hour on disk.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

Progress = Callable[[float, str], None]
Work = Callable[[Progress, Path], Any]
"""Does the job: reports progress (0-1 and a message), may write files into the folder
it is given; returns a result (a file path to download, or JSON-able data)."""


@dataclass
class Job:
    id: str
    kind: str
    study_id: str
    owner: int
    folder: Path
    status: str = "queued"
    """queued, running, done, failed."""
    progress: float = 0.0
    message: str = "waiting to start"
    result: Any = None
    error: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    audit_mark: int = 0
    """The last audit event's id when the job started: its result may hold the words of
    anyone whose erasure is recorded after it (bot/api/analysis.py, ``visible_job``)."""

    def as_dict(self) -> dict[str, Any]:
        download = isinstance(self.result, Path)
        return {
            "id": self.id, "kind": self.kind, "study": self.study_id, "status": self.status,
            "progress": round(self.progress, 3), "message": self.message, "error": self.error,
            "download": f"/api/v1/jobs/{self.id}/download" if download and self.status == "done" else None,
            "result": None if download else self.result,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
        }


class JobRunner:
    def __init__(self, workers: int = 2, keep: timedelta = timedelta(hours=1)) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chorus-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._root = Path(tempfile.mkdtemp(prefix="chorus-jobs-"))
        self.keep = keep
        atexit.register(self.close)

    def submit(self, kind: str, study_id: str, owner: int, work: Work, audit_mark: int = 0) -> Job:
        self._forget_old()
        job_id = uuid.uuid4().hex
        folder = self._root / job_id
        folder.mkdir()
        job = Job(job_id, kind, study_id, owner, folder, audit_mark=audit_mark)
        with self._lock:
            self._jobs[job_id] = job
        self._pool.submit(self._run, job, work)
        return job

    def scratch(self) -> Path:
        """A fresh folder for one request's files (remove it when done)."""
        return Path(tempfile.mkdtemp(dir=self._root, prefix="request-"))

    def get(self, job_id: str) -> Job | None:
        self._forget_old()
        with self._lock:
            return self._jobs.get(job_id)

    def discard(self, job_id: str) -> None:
        """Forget a job and delete its files (a result made before an erasure)."""
        with self._lock:
            job = self._jobs.pop(job_id, None)
        if job is not None:
            shutil.rmtree(job.folder, ignore_errors=True)

    def _run(self, job: Job, work: Work) -> None:
        def progress(fraction: float, message: str) -> None:
            job.progress, job.message = max(job.progress, min(1.0, fraction)), message

        job.status, job.message = "running", "started"
        try:
            job.result = work(progress, job.folder)
            job.status, job.progress, job.message = "done", 1.0, "done"
        except Exception as error:  # a job's failure is shown, not raised into the pool
            job.status, job.error, job.message = "failed", f"{type(error).__name__}: {error}", "failed"
        job.finished_at = datetime.now(UTC)

    def _forget_old(self) -> None:
        cutoff = datetime.now(UTC) - self.keep
        with self._lock:
            old = [j for j in self._jobs.values() if j.finished_at and j.finished_at < cutoff]
            for job in old:
                del self._jobs[job.id]
        for job in old:
            shutil.rmtree(job.folder, ignore_errors=True)

    def wait(self, job_id: str, timeout: float = 30.0) -> Job:
        """Block until a job ends (tests and the CLI)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(job_id)
            if job is None or job.status in ("done", "failed"):
                break
            time.sleep(0.02)
        found = self.get(job_id)
        if found is None:
            raise KeyError(job_id)
        return found

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self._root, ignore_errors=True)
