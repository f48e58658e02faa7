"""``chorus serve`` checks at start that the spool's folder (bot/spool.py) takes a file, and stops
with one line naming CHORUS_SPOOL_DIR if not: otherwise it served as if all was well and, in
the outage the spool is for, answered every webhook 500 (and Twilio does not send one again)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, serving_settings
from bot.spool import unwritable
from tests.db_fixtures import TEST_DATA_KEY


def test_a_spool_folder_that_cannot_be_made_or_written_is_named_in_one_line(tmp_path: Path) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")
    for folder, why in (("/proc/nope", "FileNotFoundError"), (str(in_the_way), "FileExistsError"),
                        (str(in_the_way / "spool"), "NotADirectoryError")):
        with pytest.raises(SettingsError) as raised:
            serving_settings({"CHORUS_SPOOL_DIR": folder}, spool=True)
        message = str(raised.value)
        assert message.startswith(f"CHORUS_SPOOL_DIR {folder} cannot be written ({why}: "), message
        assert "point CHORUS_SPOOL_DIR at a writable folder" in message and "\n" not in message


def test_the_default_folder_is_named_with_the_variable_that_would_move_it(tmp_path: Path) -> None:
    database = tmp_path / "data" / "chorus.db"
    database.parent.mkdir()
    (database.parent / "spool").write_text("a file where the spool's folder would be")
    with pytest.raises(SettingsError, match=r"^the spool folder .*/data/spool \(CHORUS_SPOOL_DIR unset\) cannot be written"):
        serving_settings({"CHORUS_DATABASE_URL": f"sqlite:///{database}"}, spool=True)


def test_a_sqlite_database_under_a_file_is_named_as_the_database_s_problem_not_the_spool_s(tmp_path: Path) -> None:
    blocked = tmp_path / "data"
    blocked.write_text("a file where the database's folder would be")
    for spool in ({}, {"CHORUS_SPOOL_DIR": str(tmp_path / "spool")}):
        with pytest.raises(SettingsError) as raised:
            serving_settings({"CHORUS_DATABASE_URL": f"sqlite:///{blocked / 'more' / 'chorus.db'}", **spool}, spool=True)
        assert str(raised.value) == (f"CHORUS_DATABASE_URL's SQLite file {blocked / 'more' / 'chorus.db'} cannot be made: "
                                     f"its folder {blocked / 'more'} cannot be written ({blocked} is a file, not a folder)")


def test_a_writable_folder_is_made_and_left_empty(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "spool"
    settings = serving_settings({"CHORUS_SPOOL_DIR": str(folder)}, spool=True)
    assert settings.spool_dir == folder
    assert folder.is_dir() and list(folder.iterdir()) == [], "the probe file is gone"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert unwritable(folder) is None


def test_a_worker_which_spools_nothing_is_not_held_to_it() -> None:
    assert serving_settings({"CHORUS_SPOOL_DIR": "/proc/nope"}).spool_dir == Path("/proc/nope")


def test_chorus_serve_stops_before_touching_the_database(tmp_path: Path) -> None:
    database = tmp_path / "chorus.db"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CHORUS_", "TWILIO_", "TELEGRAM_"))}
    env.update({"CHORUS_DATABASE_URL": f"sqlite:///{database}", "CHORUS_SPOOL_DIR": "/proc/nope",
                "CHORUS_KEY_FILE": str(tmp_path / "chorus.key"), "CHORUS_DATA_KEYS": TEST_DATA_KEY})
    try:
        refused = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--port", "8118"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("chorus serve started with a spool folder it cannot write")
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: CHORUS_SPOOL_DIR /proc/nope cannot be written (FileNotFoundError: ")
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert not database.exists()
