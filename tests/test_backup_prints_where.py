"""scripts/backup with no FILE says where the backup went as an absolute path: run from another
folder, a path relative to the checkout (``var/backups/...``) would point the operator elsewhere."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from storage.database import init_database
from tests.conftest import ROOT


def test_the_default_backup_is_named_by_its_absolute_path(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'chorus.db'}"
    init_database(database_url).dispose()
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "var" / "backups").mkdir(parents=True)  # a var/ of its own, as the operator's folder had
    folder_was_there = (ROOT / "var" / "backups").is_dir()
    env = {**os.environ, "CHORUS_DATABASE_URL": database_url}
    done = subprocess.run([str(ROOT / "scripts" / "backup")], env=env, capture_output=True, text=True, timeout=120,
                          check=False, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    found = re.fullmatch(r"backed up to (\S+) \(\d+ bytes\)\n", done.stdout)
    assert found, done.stdout
    written = Path(found.group(1))
    try:
        assert written.is_absolute() and written.is_file()
        assert written.parent == ROOT / "var" / "backups" and not any((elsewhere / "var" / "backups").iterdir())
    finally:
        written.unlink(missing_ok=True)
        if not folder_was_there:
            (ROOT / "var" / "backups").rmdir()
