"""The IPython extension: ``%load_ext aims_mlops`` binds a notebook to an AI system.

Loading it binds the notebook (``$AIMS_SYSTEM``, or the only in-scope system of ``aims.yaml``;
``%aims system NAME`` chooses or changes it), calls ``aims_mlops.init(system=..., autolog=True)``
and tracks the notebook's provenance through IPython's ``pre_run_cell`` / ``post_run_cell``
events: every MLflow run that ends while the notebook is bound gets a ``notebook.provenance``
record (see :mod:`aims_mlops.collectors._notebook`).

``%aims status`` prints the bound system's standing, ``%aims dashboard`` shows its dashboard,
``%aims provenance`` what is tracked, ``%aims system NAME`` rebinds. Unloading unregisters
everything it registered.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from typing import Any

from aims_mlops._errors import AimsError
from aims_mlops.collectors import _notebook

MAGIC_NAME = "aims"
EVENTS = ("pre_run_cell", "post_run_cell")

MESSAGE_BOUND = (
    "aims_mlops: this notebook is bound to AI system {system!r}; evidence is captured when "
    "MLflow runs end, with this notebook's provenance."
)
MESSAGE_UNBOUND = (
    "aims_mlops: provenance tracking is on, but no AI system is bound: run %aims system <id> "
    "(in-scope systems: {known})."
)
MESSAGE_UNLOADED = "aims_mlops: notebook tracking stopped."
USAGE = """\
%aims status            where the bound AI system stands (score, risks, gaps)
%aims status all        one line per AI system in scope
%aims system <id>       bind this notebook to another AI system
%aims dashboard         show the bound system's dashboard
%aims provenance        what is recorded about this notebook's execution
"""
ERROR_NOT_LOADED = "aims_mlops is not loaded in this shell: run %load_ext aims_mlops"
ERROR_NO_BOUND_SYSTEM = "no AI system is bound to this notebook: run %aims system <id>"
ERROR_USAGE = "unknown %aims command {command!r}\n" + USAGE


@dataclass
class _Binding:
    """What the extension registered in one shell, to undo on unload."""

    shell: Any
    tracker: _notebook.NotebookTracker
    callbacks: dict[str, Any]
    autolog_was_enabled: bool


_binding: _Binding | None = None


def _in_scope_ids() -> list[str]:
    from aims_mlops import capture

    config = capture.get_session().config
    return [s.id for s in config.in_scope_systems] if config is not None else []


def _choose_system(explicit: str | None = None) -> str | None:
    """explicit > ``$AIMS_SYSTEM`` > the only in-scope system of the config."""
    from aims_mlops import capture
    from aims_mlops.config import default_config_path, load_config

    if explicit:
        return explicit
    from_env = os.environ.get(capture.ENV_SYSTEM)
    if from_env:
        return from_env
    path = default_config_path()
    if not path.is_file():
        return None
    in_scope = [s.id for s in load_config(path).in_scope_systems]
    return in_scope[0] if len(in_scope) == 1 else None


def _bind(system: str | None) -> None:
    """``aims_mlops.init`` with the system (keeping the session's config file, if any)."""
    import aims_mlops
    from aims_mlops import capture

    session = capture.get_session()
    config = session.config_path if session.config is not None else None
    # the binding line only when it changes (``%load_ext`` already said it for this system)
    unchanged = session.system == system and session.config is not None
    aims_mlops.init(system=system, config=config, autolog=True, quiet=unchanged)


def load_ipython_extension(ipython: Any) -> None:
    """Bind the notebook, turn capture on, register the events and the ``%aims`` magic."""
    global _binding
    from aims_mlops.integrations import _autolog

    if _binding is not None and _binding.shell is ipython:
        return  # already loaded here: %reload_ext goes through unload first
    if _binding is not None:
        unload_ipython_extension(_binding.shell)
    autolog_was_enabled = _autolog.is_enabled()
    system = _choose_system()
    import aims_mlops

    aims_mlops.init(system=system, autolog=True)
    tracker = _notebook.NotebookTracker(
        system=system,
        user_ns=ipython.user_ns,
        next_count=lambda: int(ipython.execution_count),
    )
    history = getattr(ipython, "history_manager", None)
    failed = getattr(history, "exceptions", None)
    tracker.backfill(
        list(ipython.user_ns.get("In") or []),
        upto=int(ipython.execution_count),
        failed=set(failed) if isinstance(failed, dict) else None,
    )
    _notebook.start(tracker)
    callbacks = {"pre_run_cell": tracker.pre_run_cell, "post_run_cell": tracker.post_run_cell}
    for event, callback in callbacks.items():
        ipython.events.register(event, callback)
    ipython.register_magic_function(aims_magic, magic_kind="line", magic_name=MAGIC_NAME)
    _binding = _Binding(
        shell=ipython,
        tracker=tracker,
        callbacks=callbacks,
        autolog_was_enabled=autolog_was_enabled,
    )
    if system:
        print(MESSAGE_BOUND.format(system=system))
    else:
        print(MESSAGE_UNBOUND.format(known=", ".join(_in_scope_ids()) or "none declared"))


def unload_ipython_extension(ipython: Any) -> None:
    """Unregister the events and the magic, stop tracking, restore autolog's earlier state."""
    global _binding
    binding = _binding
    if binding is None or binding.shell is not ipython:
        return
    for event, callback in binding.callbacks.items():
        if callback in ipython.events.callbacks.get(event, []):
            ipython.events.unregister(event, callback)
    ipython.magics_manager.magics["line"].pop(MAGIC_NAME, None)
    if _notebook.current() is binding.tracker:
        _notebook.stop()
    if not binding.autolog_was_enabled:
        from aims_mlops.integrations import _autolog

        _autolog.disable()
    _binding = None
    print(MESSAGE_UNLOADED)


def tracker() -> _notebook.NotebookTracker | None:
    """The tracker of the loaded extension (None when not loaded)."""
    return _binding.tracker if _binding is not None else None


def bound_system() -> str | None:
    from aims_mlops import capture

    return capture.get_session().system


# -- the %aims magic ---------------------------------------------------------------------------
def aims_magic(line: str) -> Any:
    """``%aims status | system <id> | dashboard | provenance``."""
    words = shlex.split(line)
    command = words[0] if words else ""
    try:
        if command in ("", "help"):
            print(USAGE)
            return None
        if _binding is None:
            raise AimsError(ERROR_NOT_LOADED)
        if command == "system":
            return _cmd_system(words[1:])
        if command == "status":
            everything = words[1:] == ["all"] or not bound_system()
            print(all_status_text() if everything else status_text())
            return None
        if command == "dashboard":
            return _cmd_dashboard()
        if command == "provenance":
            print(provenance_text())
            return None
        raise AimsError(ERROR_USAGE.format(command=command))
    except AimsError as exc:
        print(f"aims_mlops: {exc}")
        return None


def _cmd_system(args: list[str]) -> None:
    if not args:
        system = bound_system()
        print(f"bound AI system: {system}" if system else ERROR_NO_BOUND_SYSTEM)
        return
    system = args[0]
    _bind(system)
    if _binding is not None:
        _binding.tracker.system = system
    print(MESSAGE_BOUND.format(system=system))


def _require_system() -> str:
    system = bound_system()
    if not system:
        raise AimsError(ERROR_NO_BOUND_SYSTEM)
    return system


def status_text(system: str | None = None) -> str:
    """The bound (or given) system's standing as text, judged now (the view-model's summary:
    :func:`aims_mlops.presentation.summary_text`)."""
    from aims_mlops import capture
    from aims_mlops.judgement import judge
    from aims_mlops.views._model import dashboard_model

    chosen = system or _require_system()
    session = capture.get_session()
    config = session.config_path if session.config is not None else None
    result = judge(config=config, systems=[chosen])
    return dashboard_model(
        assessment=result.assessment,
        system=chosen,
        catalog=result.catalog,
        config=result.config,
        records=result.records,
    ).summary_text()


def all_status_text() -> str:
    """One line per in-scope system: score, risks above appetite, gaps (judged now)."""
    import aims_mlops
    from aims_mlops import capture
    from aims_mlops.presentation import status_lines

    session = capture.get_session()
    config = session.config_path if session.config is not None else None
    return status_lines(aims_mlops.status(config=config))


def _cmd_dashboard() -> Any:
    from IPython.display import display

    from aims_mlops.views import dashboard

    board = dashboard(_require_system())
    display(board)
    return None


def provenance_text() -> str:
    """What the tracker has recorded so far (hashes and order facts, never cell sources)."""
    current = _notebook.current()
    if current is None:
        raise AimsError(ERROR_NOT_LOADED)
    details, _ = current.details()
    execution = details["execution"]
    notebook = details["notebook"]
    kernel = details["kernel"]
    git = details["git"] or {}
    lines = [
        f"notebook: {notebook['path'] or 'unknown'} (via {notebook['found_via'] or 'nothing'})",
        f"kernel: {kernel['id'] or kernel['session'] or 'unknown id'} "
        f"({kernel['name'] or 'unknown kernel spec'})",
        f"cells executed: {details['cells_total']} · top to bottom: {execution['top_to_bottom']}",
        f"  execution counts contiguous from 1: {execution['monotonic']} · re-executions: "
        f"{execution['re_executions']} · out of order: {execution['out_of_order']} "
        f"(basis: {execution['order_basis']}) · failed: {execution['failed_cells']}",
        f"git: {git.get('commit') or 'not in a repository'}"
        + (f" on {git.get('branch')}" if git.get("branch") else "")
        + (" (dirty)" if git.get("dirty") else ""),
    ]
    return "\n".join(lines)
