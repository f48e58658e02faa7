from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference"
EXAMPLE_STUDY = ROOT / "flows" / "examples" / "ae-waiting"

pytest_plugins = ["tests.db_fixtures", "tests.provider_fixtures"]

# Servers in tests do not load the safeguarding model a second after they start (see
# bot/safeguarding.py): most never check free text with it, and the rest load it when they do.
# The tests of the warm-up turn it on.
os.environ.setdefault("CHORUS_SAFEGUARDING_WARM_UP", "off")
# Servers in tests check free text with the phrase patterns only, so a channel test's replies do
# not depend on when the embedding model's check (which may add a signposting message moments
# later, false alarms included) finishes. The safeguarding tests set `full` where they test it.
os.environ.setdefault("CHORUS_SAFEGUARDING", "patterns")


@pytest.fixture
def example_study_path() -> Path:
    return EXAMPLE_STUDY


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.exists():
        pytest.fail(f"the reference data is missing: expected it at {REFERENCE}")
    return REFERENCE


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the expected bot messages in tests/golden/ from the current engine",
    )
