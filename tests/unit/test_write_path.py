"""One write path: records enter the store only through ``aims_mlops.capture``'s writer.

The read side (views, reports, judgement, the engine, presentation) and the packages that only
build records (eu_ai_act, genai) never import the capture layer or the store's writing parts, at
module level or inside a function, and never call a function that records.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import aims_mlops
import aims_mlops.capture as capture

PACKAGE = Path(aims_mlops.__file__).parent
READ_ONLY = ("views", "reports", "judgement", "engine", "presentation", "eu_ai_act", "genai")
#: Modules the read side must not import (the writer, the spool, the capture layer).
FORBIDDEN_MODULES = ("aims_mlops.capture", "aims_mlops.store._writer", "aims_mlops.store._spool")
#: Public names of aims_mlops.capture that only read (the session, the system binding).
CAPTURE_READERS = {
    "CaptureContext",
    "CaptureTask",
    "DocumentError",
    "GateRun",
    "ProcessRecordError",
    "RecordedAudit",
    "Session",
    "default_session",
    "error_record",
    "get_session",
    "make_store",
    "records_must_be_kept",
    "reset_session",
    "resolve_system",
    "signing_key",
}
#: Methods of EvidenceStore that write or spool.
STORE_WRITERS = {"put", "put_many", "write_many", "spool", "sync", "log_run_metrics"}


def recording_names() -> set[str]:
    """Every public function of aims_mlops.capture that records, plus the store's writers."""
    names = {n for n in capture.__all__ if not n.isupper() and n not in CAPTURE_READERS}
    return names | STORE_WRITERS


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return []


def _callee(node: ast.Call) -> tuple[str | None, str | None]:
    """(receiver text, called name) of a call."""
    func = node.func
    if isinstance(func, ast.Name):
        return None, func.id
    if isinstance(func, ast.Attribute):
        return ast.unparse(func.value), func.attr
    return None, None


def violations(source: str, *, recording: set[str]) -> list[str]:
    """What in ``source`` imports the write side or calls a recording function (any depth)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        for name in _imported(node):
            if any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES):
                found.append(f"line {node.lineno}: imports {name}")
        if isinstance(node, ast.Call):
            receiver, name = _callee(node)
            on_store = bool(receiver) and "store" in str(receiver).lower()
            if name in {"sync", "spool", "write", "write_many"}:
                if on_store:  # a file's write(), a list's sync() are no records
                    found.append(f"line {node.lineno}: calls {receiver}.{name}")
            elif name in recording:
                found.append(f"line {node.lineno}: calls {name}")
    return found


def read_side_modules() -> list[Path]:
    return sorted(p for pkg in READ_ONLY for p in (PACKAGE / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", read_side_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_read_side_never_writes(path: Path) -> None:
    found = violations(path.read_text(encoding="utf-8"), recording=recording_names())
    assert not found, f"{path.relative_to(PACKAGE)} writes: {found}"


def test_the_checker_catches_every_way_of_writing() -> None:
    recording = recording_names()
    assert {"attest", "emit", "run_gate", "record_internal_audit", "record_incident"} <= recording
    for snippet in (
        "from aims_mlops.capture import emit",
        "def f():\n    from aims_mlops import capture\n",
        "def f():\n    import aims_mlops.capture._writer\n",
        "from aims_mlops.store._spool import Spool",
        "import aims_mlops\naims_mlops.attest('A.2.2', by='x', document='y')",
        "judgement.store.put(record)",
        "self.store.write(record)",
        "store.spool(record)",
        "run_gate('credit', promote=True)",
    ):
        assert violations(snippet, recording=recording), snippet
    for harmless in (
        "handle.write('text')",
        "from aims_mlops.store import EvidenceStore",
        "store.records(kinds=['incident'])",
        "from aims_mlops.evidence import new_record",
    ):
        assert not violations(harmless, recording=recording), harmless


def test_the_writer_alone_spools() -> None:
    """Outside the store itself, only capture's writer calls ``spool`` or ``put``."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "store" or relative == Path("capture/_writer.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                receiver, name = _callee(node)
                if receiver and name in {"spool", "put", "put_many", "write", "write_many"} and (
                    "store" in receiver.lower()
                ):
                    offenders.append(f"{relative}:{node.lineno}: {receiver}.{name}")
    assert not offenders
