"""Notebook provenance: which cells ran, in what order, in which kernel, from which notebook file.

A :class:`NotebookTracker` follows IPython's ``pre_run_cell`` / ``post_run_cell`` events (the
IPython extension registers them) and keeps, per executed cell, its execution count, the SHA-256
of its source (never the source itself), its cell id when the front end sends one, and whether it
succeeded. :func:`notebook_provenance_record` turns that into a ``notebook.provenance`` record
(``info``, control A.6.2.3) about an MLflow run: did the cells run top to bottom in one kernel
(execution counts contiguous from 1, no cell run twice, no cell run before one above it), which
notebook file (its SHA-256 and the git commit, branch and dirty state of its repository).

The notebook's location comes only from what the kernel knows: ``__vsc_ipynb_file__`` (VS Code),
``__session__`` (ipykernel) or ``$JPY_SESSION_NAME``; no Jupyter server is contacted. The cell
order of the saved ``.ipynb`` file (cell ids, else source hashes) tells whether cells ran out of
order; without a readable file, order is judged from execution counts alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsError
from aims_mlops.catalog import catalog_record
from aims_mlops.collectors._environment import git_facts
from aims_mlops.collectors._lineage import LineageTask
from aims_mlops.evidence import EvidenceRecord, Subject

if TYPE_CHECKING:
    from aims_mlops.collectors._lineage import LineageTask

KIND = "notebook.provenance"
COLLECTOR = "aims_mlops.notebook"
#: Executed cells listed one by one in a record (all of them are covered by ``cells_sha256``).
MAX_LISTED_CELLS = 200
#: Largest notebook file read to learn the cell order (bigger files: order from counts only).
MAX_NOTEBOOK_BYTES = 50_000_000

#: Where the kernel learns the notebook's path, in order of preference.
NOTEBOOK_NS_KEYS: tuple[str, ...] = ("__vsc_ipynb_file__", "__session__")
NOTEBOOK_ENV_KEY = "JPY_SESSION_NAME"

ORDER_CELL_IDS = "cell_ids"
ORDER_SOURCES = "notebook_sources"
ORDER_COUNTS_ONLY = "execution_counts_only"

ERROR_NO_NOTEBOOK = "no notebook is tracked in this process: run %load_ext aims_mlops first"

_KERNEL_FILE = re.compile(r"kernel-(?P<id>[^/\\]+)\.json$")


def source_sha256(source: str) -> str:
    """SHA-256 of a cell's source text (UTF-8)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, kw_only=True)
class CellExecution:
    """One executed cell: never its source, only the source's hash."""

    execution_count: int
    source_sha256: str
    cell_id: str | None = None
    success: bool | None = None
    duration_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "execution_count": self.execution_count,
            "source_sha256": self.source_sha256,
            "cell_id": self.cell_id,
            "success": self.success,
            "duration_s": self.duration_s,
        }


@dataclass(frozen=True, kw_only=True)
class NotebookLocation:
    """Where the notebook file is, as far as the kernel knows."""

    path: str | None
    name: str | None
    source: str | None  # which variable told us
    exists: bool

    @classmethod
    def find(
        cls, user_ns: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> NotebookLocation:
        """The notebook of this kernel from ``__vsc_ipynb_file__``, ``__session__`` or
        ``$JPY_SESSION_NAME`` (relative paths are tried against the working directory)."""
        user_ns = user_ns or {}
        environ = os.environ if environ is None else environ
        given: str | None = None
        source: str | None = None
        for key in NOTEBOOK_NS_KEYS:
            value = user_ns.get(key)
            if isinstance(value, str) and value.strip():
                given, source = value.strip(), key
                break
        if given is None and environ.get(NOTEBOOK_ENV_KEY, "").strip():
            given, source = environ[NOTEBOOK_ENV_KEY].strip(), NOTEBOOK_ENV_KEY
        if given is None:
            return cls(path=None, name=None, source=None, exists=False)
        if given.startswith("file://"):
            given = given.removeprefix("file://")
        candidates = [Path(given)]
        if not Path(given).is_absolute():
            candidates += [Path.cwd() / given, Path.cwd() / Path(given).name]
        for candidate in candidates:
            if candidate.is_file():
                resolved = candidate.resolve()
                return cls(path=str(resolved), name=resolved.name, source=source, exists=True)
        return cls(path=given, name=Path(given).name, source=source, exists=False)


@dataclass(frozen=True, kw_only=True)
class KernelInfo:
    """The kernel this process is: its id and kernel-spec name from the connection file
    (``kernel-<id>.json`` when a Jupyter server started it), and the kernel's message session
    id (sent in every message header, not a secret), which tells two kernels apart when the
    connection file names no id (nbclient, papermill)."""

    id: str | None
    name: str | None
    connection_file: str | None
    session: str | None = None
    pid: int = field(default_factory=os.getpid)

    @classmethod
    def current(cls) -> KernelInfo:
        """Read from ipykernel when this process is a kernel (None fields otherwise)."""
        if "ipykernel" not in sys.modules:
            return cls(id=None, name=None, connection_file=None)
        try:
            from ipykernel.connect import get_connection_file
            from ipykernel.kernelapp import IPKernelApp

            if not IPKernelApp.initialized():
                return cls(id=None, name=None, connection_file=None)
            path = get_connection_file()
            session = getattr(getattr(IPKernelApp.instance(), "session", None), "session", None)
        except (ImportError, RuntimeError, OSError, AttributeError, ValueError):
            return cls(id=None, name=None, connection_file=None)
        return cls.from_connection_file(path, session=str(session) if session else None)

    @classmethod
    def from_connection_file(cls, path: str, *, session: str | None = None) -> KernelInfo:
        """Id and kernel name from a connection file (its key is never read into the record)."""
        match = _KERNEL_FILE.search(path)
        name = None
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            name = data.get("kernel_name") or None
        except (OSError, ValueError):
            name = None
        return cls(
            id=match.group("id") if match else None,
            name=name,
            connection_file=path,
            session=session,
        )


@dataclass(frozen=True, kw_only=True)
class _NotebookCell:
    position: int
    cell_id: str | None
    source_sha256: str


def notebook_cells(path: str | os.PathLike[str]) -> list[_NotebookCell] | None:
    """The code cells of a saved ``.ipynb`` (position, id, source hash), None when unreadable."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        return None
    found = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        if not text.strip():
            continue
        found.append(
            _NotebookCell(
                position=len(found), cell_id=cell.get("id"), source_sha256=source_sha256(text)
            )
        )
    return found


@dataclass(frozen=True, kw_only=True)
class OrderAnalysis:
    """Whether the executions ran the notebook top to bottom in one kernel."""

    monotonic: bool
    re_executions: int
    out_of_order: int | None
    order_basis: str
    positions: tuple[int | None, ...]
    skipped_cells: int | None
    failed_cells: int

    @property
    def top_to_bottom(self) -> bool:
        return self.monotonic and self.re_executions == 0 and not self.out_of_order


def analyse_order(
    executions: Sequence[CellExecution], cells: Sequence[_NotebookCell] | None
) -> OrderAnalysis:
    """Compare executions with the notebook file's cell order (when known).

    ``monotonic``: execution counts are 1, 2, 3, … with none missing (one kernel, nothing run
    before tracking that is not accounted for). ``re_executions``: executions of a cell already
    run (by cell id, else position in the file, else source hash). ``out_of_order``: executions
    of a cell above one run before it (None: no notebook file to compare with).
    """
    counts = [e.execution_count for e in executions]
    monotonic = counts == list(range(1, len(counts) + 1))
    by_id = {c.cell_id: c.position for c in cells or () if c.cell_id}
    by_hash: dict[str, list[int]] = {}
    for cell in cells or ():
        by_hash.setdefault(cell.source_sha256, []).append(cell.position)
    positions: list[int | None] = []
    basis = ORDER_COUNTS_ONLY
    last = -1
    for execution in executions:
        position: int | None = None
        if execution.cell_id and execution.cell_id in by_id:
            position = by_id[execution.cell_id]
            basis = ORDER_CELL_IDS
        elif execution.source_sha256 in by_hash:
            options = by_hash[execution.source_sha256]
            position = next((p for p in options if p >= last), options[0])
            if basis == ORDER_COUNTS_ONLY:
                basis = ORDER_SOURCES
        positions.append(position)
        if position is not None:
            last = max(last, position)
    seen: set[object] = set()
    re_executions = 0
    for execution, position in zip(executions, positions, strict=True):
        key: object = (
            ("id", execution.cell_id)
            if execution.cell_id
            else ("pos", position)
            if position is not None
            else ("hash", execution.source_sha256)
        )
        if key in seen:
            re_executions += 1
        seen.add(key)
    out_of_order: int | None = None
    skipped: int | None = None
    if cells is not None:
        out_of_order = 0
        highest = -1
        for position in positions:
            if position is None:
                continue
            if position < highest:
                out_of_order += 1
            highest = max(highest, position)
        ran = {p for p in positions if p is not None}
        skipped = sum(1 for c in cells if c.position < highest and c.position not in ran)
    return OrderAnalysis(
        monotonic=monotonic,
        re_executions=re_executions,
        out_of_order=out_of_order,
        order_basis=basis,
        positions=tuple(positions),
        skipped_cells=skipped,
        failed_cells=sum(1 for e in executions if e.success is False),
    )


@dataclass(kw_only=True)
class NotebookTracker:
    """Follows one kernel's cell executions for the notebook bound to ``system``."""

    system: str | None = None
    kernel: KernelInfo = field(default_factory=KernelInfo.current)
    user_ns: Mapping[str, Any] | None = None
    #: The shell's next execution count (``lambda: shell.execution_count``): lets
    #: ``pre_run_cell`` record the running cell, so a run ending inside it includes it.
    next_count: Callable[[], int] | None = None
    started_at: str = field(default_factory=_now)
    executions: list[CellExecution] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _started: dict[int, float] = field(default_factory=dict, repr=False)

    # -- recording ---------------------------------------------------------------------------
    def record_cell(
        self,
        execution_count: int | None,
        source: str,
        *,
        cell_id: str | None = None,
        success: bool | None = None,
        duration_s: float | None = None,
    ) -> CellExecution | None:
        """Record one executed cell (an execution count seen before is replaced)."""
        if execution_count is None or not source.strip():
            return None
        execution = CellExecution(
            execution_count=int(execution_count),
            source_sha256=source_sha256(source),
            cell_id=cell_id,
            success=success,
            duration_s=None if duration_s is None else round(duration_s, 3),
        )
        with self._lock:
            for index, earlier in enumerate(self.executions):
                if earlier.execution_count == execution.execution_count:
                    self.executions[index] = execution
                    break
            else:
                self.executions.append(execution)
                self.executions.sort(key=lambda e: e.execution_count)
        return execution

    def backfill(
        self, inputs: Sequence[str], *, upto: int, failed: Collection[int] | None = None
    ) -> int:
        """Record the cells run before tracking began from IPython's ``In`` list (``In[n]`` is
        the source of execution ``n``), up to execution count ``upto`` (exclusive). ``failed``:
        the counts that raised (None: unknown)."""
        added = 0
        for count in range(1, min(upto, len(inputs))):
            source = inputs[count]
            success = None if failed is None else count not in failed
            if isinstance(source, str) and self.record_cell(count, source, success=success):
                added += 1
        return added

    # IPython event callbacks --------------------------------------------------------------
    def pre_run_cell(self, info: Any) -> None:
        """``pre_run_cell``: note the start, and record the running cell (success unknown)."""
        self._started[id(info)] = time.perf_counter()
        source = getattr(info, "raw_cell", None)
        if self.next_count is None or not isinstance(source, str):
            return
        if getattr(info, "silent", False) or not getattr(info, "store_history", True):
            return
        cell_id = getattr(info, "cell_id", None)
        # IPython has already counted the cell when it fires pre_run_cell
        self.record_cell(self.next_count() - 1, source, cell_id=str(cell_id) if cell_id else None)

    def post_run_cell(self, result: Any) -> None:
        """``post_run_cell``: record the executed cell with its count and success."""
        info = getattr(result, "info", None)
        source = getattr(info, "raw_cell", None)
        if not isinstance(source, str) or getattr(info, "silent", False):
            return
        if not getattr(info, "store_history", True):
            return
        started = self._started.pop(id(info), None)
        cell_id = getattr(info, "cell_id", None)
        self.record_cell(
            getattr(result, "execution_count", None),
            source,
            cell_id=str(cell_id) if cell_id else None,
            success=bool(getattr(result, "success", True)),
            duration_s=None if started is None else time.perf_counter() - started,
        )

    # -- reporting ---------------------------------------------------------------------------
    def location(self) -> NotebookLocation:
        return NotebookLocation.find(self.user_ns)

    def snapshot(self) -> tuple[list[CellExecution], NotebookLocation]:
        with self._lock:
            executions = list(self.executions)
        return executions, self.location()

    def details(self) -> tuple[dict[str, Any], dict[str, float]]:
        """The record's ``details`` and ``metrics``."""
        executions, where = self.snapshot()
        cells = notebook_cells(where.path) if where.exists and where.path else None
        order = analyse_order(executions, cells)
        notebook_sha = None
        if where.exists and where.path:
            try:
                notebook_sha = hashlib.sha256(Path(where.path).read_bytes()).hexdigest()
            except OSError:
                notebook_sha = None
        chain = hashlib.sha256(
            "".join(f"{e.execution_count}:{e.source_sha256}\n" for e in executions).encode()
        ).hexdigest()
        listed = [
            {**e.to_dict(), "position": position}
            for e, position in zip(executions, order.positions, strict=True)
        ][-MAX_LISTED_CELLS:]
        details: dict[str, Any] = {
            "notebook": {
                "path": where.path,
                "name": where.name,
                "found_via": where.source,
                "file_exists": where.exists,
                "file_sha256": notebook_sha,
                "code_cells": len(cells) if cells is not None else None,
            },
            "kernel": {
                "id": self.kernel.id,
                "name": self.kernel.name,
                "session": self.kernel.session,
                "pid": self.kernel.pid,
                "python": sys.version.split()[0],
                "tracking_started_at": self.started_at,
            },
            "git": git_facts(where.path if where.exists and where.path else None),
            "execution": {
                "top_to_bottom": order.top_to_bottom,
                "monotonic": order.monotonic,
                "re_executions": order.re_executions,
                "out_of_order": order.out_of_order,
                "order_basis": order.order_basis,
                "skipped_cells": order.skipped_cells,
                "failed_cells": order.failed_cells,
                "first_execution_count": executions[0].execution_count if executions else None,
                "last_execution_count": executions[-1].execution_count if executions else None,
            },
            "cells_total": len(executions),
            "cells_sha256": chain,
            "cells": listed,
        }
        metrics = {
            "cells_executed": float(len(executions)),
            "re_executions": float(order.re_executions),
            "failed_cells": float(order.failed_cells),
            "top_to_bottom": 1.0 if order.top_to_bottom else 0.0,
        }
        if order.out_of_order is not None:
            metrics["out_of_order"] = float(order.out_of_order)
        return details, metrics


_current: NotebookTracker | None = None
_current_lock = threading.Lock()


def current() -> NotebookTracker | None:
    """The tracker of the notebook bound in this kernel (None outside a tracked notebook)."""
    return _current


def start(tracker: NotebookTracker) -> NotebookTracker:
    """Make ``tracker`` the current one (replacing any earlier)."""
    global _current
    with _current_lock:
        _current = tracker
    return tracker


def stop() -> NotebookTracker | None:
    """Forget the current tracker; returns it."""
    global _current
    with _current_lock:
        tracker, _current = _current, None
    return tracker


def notebook_provenance_record(
    run_id: str | None,
    *,
    system: str | None,
    tracker: NotebookTracker | None = None,
    config_digest: str | None = None,
) -> EvidenceRecord:
    """The ``notebook.provenance`` record (``info``, A.6.2.3) of ``run_id`` from ``tracker``
    (default: the current one). :class:`AimsError` when no notebook is tracked."""
    tracker = tracker or current()
    if tracker is None:
        raise AimsError(ERROR_NO_NOTEBOOK)
    details, metrics = tracker.details()
    return catalog_record(
        kind=KIND,
        system=system,
        outcome="info",
        collector=COLLECTOR,
        subject=Subject(run_id=run_id),
        metrics=metrics,
        details=details,
        config_digest=config_digest,
    )


def notebook_tasks(
    run_id: str, *, system: str | None, config_digest: str | None = None
) -> list[LineageTask]:
    """The provenance task for a run that ended while a notebook is tracked (else none), for the
    autolog hook: ``tasks += notebook_tasks(run_id, system=..., config_digest=...)``."""
    tracker = current()
    if tracker is None:
        return []
    return [
        LineageTask(
            kind=KIND,
            produce=lambda: notebook_provenance_record(
                run_id, system=system, tracker=tracker, config_digest=config_digest
            ),
        )
    ]
