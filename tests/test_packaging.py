"""A plain (non-editable) `pip install .` carries every file Chorus opens at run time: the
dashboard's templates and static files, the simulator page, the migrations' template, the
safeguarding reference set and the example studies with their item lists."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def _package_folders() -> list[str]:
    """The top-level packages pyproject.toml ships (``bot*`` -> ``bot``)."""
    found = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]["find"]
    return [pattern.rstrip("*") for pattern in found["include"]]


def _data_files() -> set[str]:
    """Every file in the package folders that is not Python source or bytecode."""
    return {path.relative_to(ROOT).as_posix() for folder in _package_folders() for path in (ROOT / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".py", ".pyc")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the sources (the checkout's own build/ and egg-info stay untouched)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in _package_folders():
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = tmp_path_factory.mktemp("dist")
    subprocess.run([*PIP, "wheel", str(source), "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(built)],
                   check=True, capture_output=True, timeout=300)
    return next(built.glob("chorus-*.whl"))


def test_the_wheel_holds_every_data_file_of_the_packages(wheel: Path) -> None:
    data = _data_files()
    assert "flows/examples/priorities/items.txt" in data and "nlp/safety_reference.csv" in data
    assert "storage/migrations/script.py.mako" in data and "bot/static/simulator.html" in data
    shipped = set(zipfile.ZipFile(wheel).namelist())
    assert sorted(data - shipped) == []
    assert "storage/migrations/env.py" in shipped


def test_installed_from_the_wheel_the_example_studies_validate_without_errors(wheel: Path, tmp_path: Path) -> None:
    """Installed elsewhere, the default studies folder is the installed copy, and it is whole."""
    site = tmp_path / "site"
    subprocess.run([*PIP, "install", "--no-deps", "--no-index", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    code = ("from bot.settings import Settings\nfrom bot.studies import study_folders\nfrom flows.validate import validate_paths\n"
            "folder = Settings.from_env({}).studies_dir\nprint(folder)\n"
            "for problem in validate_paths(study_folders(folder))[0]:\n"
            "    if problem.severity == 'error': print(problem)\n")
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines == [str(site / "flows" / "examples")]
