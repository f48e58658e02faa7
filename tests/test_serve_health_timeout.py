"""`chorus serve --processes N`: how long a serving process may take to start and to answer the
supervisor's health check before it is replaced (uvicorn's own 5 s killed processes that were
only slow to start on a loaded machine)."""

from __future__ import annotations

import pytest

from bot.commands.serve import serving_config
from bot.settings import Settings, SettingsError


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
