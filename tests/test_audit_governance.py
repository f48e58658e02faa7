"""An information-governance audit's findings: an export or themes result made before an
erasure is not served after it, finished jobs' files do not outlive their hour, a kept voice
note is erased wherever the erasure runs, and absurdly nested JSON is a clear 400."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.api.jobs import JobRunner
from bot.erasure import remove_audio
from bot.voice import VoicePipeline, VoiceSettings
from bot.voice_replies import VoiceContext
from tests.channel_helpers import TELEGRAM_SECRET, Running, provider_env, running_chorus
from tests.desk_helpers import Desk, add_answers, desk_app
from tests.fake_telegram import FakeTelegram, LocalServer

SECRET_STORY = "the nurse on ward 7 ignored my chest pain for hours"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path) as made:
        yield made


def _finished(desk: Desk, token: str, job_id: str) -> dict[str, Any]:
    for _ in range(500):
        job = desk.client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}).json()
        assert "status" in job, job
        if job["status"] in ("done", "failed"):
            return dict(job)
        time.sleep(0.02)
    raise AssertionError("the export did not finish")


def test_an_export_made_before_an_erasure_is_not_downloadable_after_it(desk: Desk) -> None:
    pid, version = desk.join("ae-waiting")
    add_answers(desk.database, [{"participant_id": pid, "study_id": "ae-waiting", "flow_id": "understand",
                                 "flow_version_id": version, "flow_version": "v", "step_id": "story",
                                 "value": SECRET_STORY, "display": SECRET_STORY}])
    admin = desk.token("admin", (), name="admin")
    auth = {"Authorization": f"Bearer {admin}"}
    job_id = desk.client.post("/api/v1/studies/ae-waiting/exports", json={"format": "csv"}, headers=auth).json()["id"]
    assert _finished(desk, admin, job_id)["status"] == "done"
    before = desk.client.get(f"/api/v1/jobs/{job_id}/download", headers=auth)
    assert before.status_code == 200 and SECRET_STORY.encode() in _unzipped(before.content)
    folder = desk.app.state.desk.jobs.get(job_id).folder

    assert desk.client.post(f"/api/v1/participants/{pid}/erase", headers=auth).status_code == 200

    after = desk.client.get(f"/api/v1/jobs/{job_id}/download", headers=auth)
    assert after.status_code == 410 and "erased" in after.json()["detail"]
    assert desk.client.get(f"/api/v1/jobs/{job_id}", headers=auth).status_code == 404  # forgotten
    assert not folder.exists()  # its file with the erased answers is gone from disk
    again = desk.client.post("/api/v1/studies/ae-waiting/exports", json={"format": "csv"}, headers=auth).json()["id"]
    assert _finished(desk, admin, again)["status"] == "done"
    fresh = desk.client.get(f"/api/v1/jobs/{again}/download", headers=auth)
    assert fresh.status_code == 200 and SECRET_STORY.encode() not in _unzipped(fresh.content)


def _unzipped(data: bytes) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def test_a_finished_job_and_its_file_are_forgotten_after_keep_even_if_no_other_job_starts(tmp_path: Path) -> None:
    runner = JobRunner(workers=1, keep=timedelta(hours=1))
    try:
        def work(progress: Any, folder: Path) -> Path:
            path = folder / "answers.csv"
            path.write_text(SECRET_STORY, encoding="utf-8")
            return path

        job = runner.submit("export", "ae-waiting", 1, work)
        assert runner.wait(job.id).status == "done" and runner.get(job.id) is job
        job.finished_at = datetime.now(UTC) - timedelta(hours=2)
        assert runner.get(job.id) is None
        assert not job.folder.exists()
    finally:
        runner.close()


def test_a_kept_voice_note_is_erased_by_a_command_run_from_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serving, elsewhere = tmp_path / "srv", tmp_path / "home"
    serving.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(serving)  # chorus serve with the default, relative, CHORUS_VOICE_AUDIO_DIR
    pipeline = VoicePipeline(service=None, queue=object(), fetch=None, settings=VoiceSettings(audio_dir=Path("var/audio")),  # type: ignore[arg-type]
                             model_name="test", claimer="test")
    context = VoiceContext(41, "p-0123456789abcdef", "whatsapp", (), "ae-waiting", True, keep_audio=True)
    stored = pipeline._spool(context, b"OggS a voice", {"content_type": "audio/ogg"})
    assert stored.exists()

    monkeypatch.chdir(elsewhere)  # chorus erase p-... from the operator's home folder
    assert remove_audio([str(stored)], [41], Path("var/audio")) == 1
    assert not stored.exists()


def test_a_kept_voice_note_with_no_transcript_yet_is_found_in_its_study_folder(tmp_path: Path) -> None:
    kept = tmp_path / "audio" / "kept" / "ae-waiting" / "52.ogg"  # spooled for keeping, killed before the transcript
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"OggS a voice")
    assert remove_audio([], [52], tmp_path / "audio") == 1
    assert not kept.exists()


@pytest.fixture
def telegram_chorus(tmp_path: Path) -> Iterator[Running]:
    fake = FakeTelegram()
    with LocalServer(fake.app) as server, running_chorus(f"sqlite:///{tmp_path / 'c.db'}", provider_env(fake, server.url)) as running:
        yield running


def test_json_nested_thousands_deep_is_a_clear_400_not_a_crash(telegram_chorus: Running) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "content-type": "application/json"}
    nested = b"[" * 100_000 + b"]" * 100_000  # 200 kB: within the body limit
    response = telegram_chorus.client.post("/webhooks/telegram", content=nested, headers=headers)
    assert response.status_code == 400 and response.json()["detail"] == "the body is not JSON"
    assert telegram_chorus.inbound_count() == 0
