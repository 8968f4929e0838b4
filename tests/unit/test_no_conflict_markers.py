"""No merge-conflict markers are left in the project's tracked text files."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^(<{7}|>{7}) |^={7}$", re.MULTILINE)


def test_no_file_holds_a_conflict_marker() -> None:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    files = listed.stdout.split() if listed.returncode == 0 else []
    found = []
    for name in files:
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".yaml", ".yml", ".toml", ".sh", ".ipynb", ".txt"}:
            continue
        if path.is_file() and MARKER.search(path.read_text(encoding="utf-8", errors="replace")):
            found.append(name)
    assert found == []
