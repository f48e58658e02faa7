"""`chorus serve`: how long a serving process (``--processes N``) may take to start and to answer
the supervisor's health check before it is replaced (uvicorn's own 5 s killed processes that
were only slow to start on a loaded machine), and how it names the studies it serves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.commands.serve import _check_studies, serving_config
from bot.settings import Settings, SettingsError, example_studies


def test_the_serving_processes_get_thirty_seconds_by_default() -> None:
    config = serving_config(Settings.from_env({}, processes=2), {})
    assert config.timeout_worker_healthcheck == 30
    assert config.workers == 2


def test_an_operator_sets_the_patience_in_the_environment() -> None:
    settings = Settings.from_env({"CHORUS_PROCESS_HEALTH_TIMEOUT": "90"})
    assert serving_config(settings, {}).timeout_worker_healthcheck == 90


@pytest.mark.parametrize("value", ["0", "soon", "9999"])
def test_a_patience_that_cannot_work_is_refused_with_its_name(value: str) -> None:
    with pytest.raises(SettingsError, match="process_health_timeout|PROCESS_HEALTH_TIMEOUT"):
        Settings.from_env({"CHORUS_PROCESS_HEALTH_TIMEOUT": value})


def test_serve_names_a_study_by_its_id_when_its_folder_is_named_otherwise(tmp_path: Path) -> None:
    """`chorus token create --study` and the desk take the id, not the folder's name."""
    shutil.copytree(example_studies() / "ae-waiting", tmp_path / "studies" / "mhop")
    shutil.copytree(example_studies() / "priorities", tmp_path / "studies" / "priorities")
    said = _check_studies(tmp_path / "studies", "CHORUS_STUDIES_DIR")
    assert said.endswith(": mhop (study 'ae-waiting'), priorities"), said
