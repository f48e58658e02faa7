from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference"
EXAMPLE_STUDY = ROOT / "flows" / "examples" / "ae-waiting"

pytest_plugins = ["tests.db_fixtures"]


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
