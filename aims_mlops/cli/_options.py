"""What every ``aims`` command shares: the group that turns errors into one line, the common
options (``--config``, ``--format``, ``--as-of``, ``-o`` checks), the table renderers and the
checkpoint helpers of the commands that write one on the way (sync, gate, audit-pack, verify).

The command families (the ``_*.py`` modules beside it, listed in
:data:`aims_mlops.cli._main.FAMILIES`) import from here and never from each other.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from aims_mlops._errors import AimsError, EvidenceError
from aims_mlops._escape import md_escape, spreadsheet_cell
from aims_mlops.capture import make_store, records_must_be_kept, signing_key
from aims_mlops.config import default_config_path, load_config
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.judgement import Judgement
from aims_mlops.judgement import judge as judge_evidence
from aims_mlops.ledger import Checkpoint, LedgerError
from aims_mlops.store import AbsentStore

if TYPE_CHECKING:
    from aims_mlops.store import EvidenceStore

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USER_ERROR = 2
ERROR_CONFIG_EXISTS = "{path} already exists; pass --force to overwrite it"
ERROR_OUTPUT_NO_FOLDER = "cannot write {path}: the folder {folder} does not exist"
ERROR_OUTPUT_NOT_FOLDER = "cannot write {path}: {folder} is not a folder"
ERROR_OUTPUT_READ_ONLY = "cannot write {path}: the folder {folder} is not writable"
ERROR_DOCUMENT_UNREADABLE = "cannot read the document {path}: {error}"
ERROR_FILE_SYSTEM = "{filename}: {error}"
NOTE_PACK_UNVERIFIED = (
    "no public key given (--public-key or aims.yaml trust:): signatures are checked only when "
    "the pack's own config/aims.yaml lists trusted keys; otherwise the member hashes show the "
    "pack is unchanged since it was built, not who built it"
)
#: The environment variable MLflow reads its log level from when it is imported.
MLFLOW_LOGGING_LEVEL = "MLFLOW_LOGGING_LEVEL"
#: MLflow's level when the CLI runs without ``-v`` (its INFO lines are about its own tables).
QUIET_MLFLOW_LEVEL = "WARNING"

_quieted_mlflow = False


def set_mlflow_verbosity(*, verbose: bool) -> None:
    """Quiet MLflow's own logging (WARNING and above) unless ``verbose``; a level the user set
    in ``$MLFLOW_LOGGING_LEVEL`` is left alone either way."""
    global _quieted_mlflow
    if verbose:
        if _quieted_mlflow:
            os.environ.pop(MLFLOW_LOGGING_LEVEL, None)
            _quieted_mlflow = False
            if "mlflow" in sys.modules:
                logging.getLogger("mlflow").setLevel(logging.INFO)
        return
    if os.environ.get(MLFLOW_LOGGING_LEVEL) and not _quieted_mlflow:
        return
    os.environ[MLFLOW_LOGGING_LEVEL] = QUIET_MLFLOW_LEVEL  # read when mlflow is first imported
    _quieted_mlflow = True
    if "mlflow" in sys.modules:
        logging.getLogger("mlflow").setLevel(QUIET_MLFLOW_LEVEL)


class AimsGroup(click.Group):
    """Turns every domain error into one clear line on stderr and exit status 2 (a file the
    command cannot read or write, too: an ``OSError`` that names its file).

    Commands run inside :func:`~aims_mlops.capture.records_must_be_kept`: a record that neither
    the store nor the spool could take is an error, never reported as recorded."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with records_must_be_kept():
                return super().invoke(ctx)
        except AimsError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_USER_ERROR)
        except OSError as exc:
            if exc.filename is None:
                raise
            error = exc.strerror or type(exc).__name__
            click.echo(
                f"error: {ERROR_FILE_SYSTEM.format(filename=exc.filename, error=error)}", err=True
            )
            ctx.exit(EXIT_USER_ERROR)


def check_output(
    ctx: click.Context | None, param: click.Parameter | None, value: Path | None
) -> Path | None:
    """An ``-o`` path must lie in an existing, writable folder (checked before any work); a
    required one must be given."""
    if value is None:
        if param is not None and param.required:
            raise click.MissingParameter(ctx=ctx, param=param)
        return None
    folder = value.parent if str(value.parent) else Path(".")
    if not folder.exists():
        raise AimsError(ERROR_OUTPUT_NO_FOLDER.format(path=value, folder=folder))
    if not folder.is_dir():
        raise AimsError(ERROR_OUTPUT_NOT_FOLDER.format(path=value, folder=folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise AimsError(ERROR_OUTPUT_READ_ONLY.format(path=value, folder=folder))
    return value


def check_document(document: str) -> None:
    """A local document given to ``aims attest`` must be readable (a URL is not checked)."""
    path = Path(document)
    try:
        if not path.is_file():
            return  # a URL or a name: the attestation records it as given
        with path.open("rb") as handle:
            handle.read(1)
    except (OSError, ValueError) as exc:
        error = getattr(exc, "strerror", None) or str(exc)
        raise AimsError(ERROR_DOCUMENT_UNREADABLE.format(path=document, error=error)) from exc


def output_option(help_text: str | None = None, *, required: bool = False) -> Callable[[F], F]:
    """``-o/--output FILE``: where a command writes, checked before any work."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        required=required,
        default=None,
        callback=check_output,
        help=help_text,
    )


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="aims.yaml to use (default: $AIMS_CONFIG, else ./aims.yaml).",
    )(func)


def as_of_option(func: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        metavar="DATE|TIMESTAMP",
        help="Re-perform the verdict as of then: only records collected by then count (a date: "
        "the end of that day, UTC); registry aliases are approximated (MLflow keeps no history).",
    )(func)


def key_option(func: F) -> F:
    """``--key FILE``: the private key a person signs their own act with."""
    return click.option(
        "--key",
        "key_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Your own private key (PEM or OpenSSH ed25519; default: $AIMS_PERSON_KEY); a "
        "person's act is never signed with the pipeline key.",
    )(func)


def draft_option(func: F) -> F:
    return click.option(
        "--draft",
        is_flag=True,
        help="Judge with the working copy of aims.yaml instead of the approved configuration "
        "(every output says DRAFT).",
    )(func)


def trusted_key_option(func: F) -> F:
    return click.option(
        "--trusted-key",
        "trusted_keys",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="A public key the approval chain's first approval must be signed with, pinned "
        "from outside the repository (repeatable; default: $AIMS_TRUSTED_KEYS).",
    )(func)


def judge(**arguments: Any) -> Judgement:
    """:func:`aims_mlops.judgement.judge`, saying on stderr, in one line, when the store it would
    read does not exist yet (judged with no evidence; nothing is created)."""
    result = judge_evidence(**arguments)
    echo_absent(result.store)
    return result


def echo_absent(store: Any) -> bool:
    """On stderr ``note: no evidence store yet at <uri>`` when ``store`` is an
    :class:`~aims_mlops.store.AbsentStore`; True then."""
    if isinstance(store, AbsentStore):
        click.echo(f"note: {store.note}", err=True)
        return True
    return False


def echo_configuration(judgement: Any, *, err: bool = False) -> None:
    """Which configuration the verdict used: DRAFT, the approval, the unapproved changes."""
    state = getattr(judgement, "configuration", None)
    for line in state.lines() if state is not None else ():
        click.echo(line, err=err)


def echo_reperformance(judgement: Any) -> None:
    """On stderr, for a verdict re-performed ``--as-of``: the moment, the evidence digest and
    what was approximated (stdout stays the verdict itself)."""
    if judgement.as_of is None:
        return
    click.echo(
        f"as of {judgement.as_of}: {len(judgement.records)} records, evidence digest "
        f"{judgement.evidence_digest}",
        err=True,
    )
    for note in judgement.approximations:
        click.echo(f"  approximated: {note}", err=True)


def format_option(*choices: str, default: str | None = None) -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default or choices[0],
        show_default=True,
        help="Output format.",
    )


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Plain fixed-width table (no dependency; fine for terminals and logs)."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.2f}"
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return "" if value is None else str(value)

    body = [[cell(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col), *(len(r[i]) for r in body)]) for i, col in enumerate(columns)]
    lines = ["  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in body)
    return "\n".join(line.rstrip() for line in lines)


def render_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV of ``rows``; a text a spreadsheet would evaluate as a formula is neutralized."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: spreadsheet_cell("; ".join(map(str, v)) if isinstance(v, list | tuple) else v)
                for k, v in row.items()
            }
        )
    return buffer.getvalue()


def render_markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A Markdown table of ``rows`` (cells escaped: no HTML, no links)."""

    def cell(value: Any) -> str:
        if isinstance(value, list | tuple):
            value = ", ".join(map(str, value))
        return md_escape(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines.extend("| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows)
    return "\n".join(lines)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def load_optional_config(config: Path | None) -> Any:
    """``--config`` loaded, else ``$AIMS_CONFIG`` / ``./aims.yaml`` when it exists (None: no
    config, MLflow's defaults)."""
    path = config or default_config_path()
    if config is None and not path.is_file():
        return None
    return load_config(path)


# -- checkpoints written on the way (sync, gate, audit-pack) and kept heads (verify) -----------
ERROR_HEAD_FILE = "{path}: not a checkpoint record ({why})"


def checkpoint_store(store: EvidenceStore) -> Any:
    """Write the next checkpoint of ``store`` when records were added since the last, signed
    with the pipeline key (``$AIMS_SIGNING_KEY``; none: unsigned)."""

    return store.checkpoint(key=signing_key())


def checkpoint_config(config: Path | None) -> Any:
    """:func:`checkpoint_store` for the store ``config`` (default: ./aims.yaml, if any) names;
    None, creating nothing, when that store does not exist yet (it holds no record to list)."""
    store = make_store(load_optional_config(config), reading=True)
    if isinstance(store, AbsentStore):
        return None
    return checkpoint_store(store)


def describe(result: Any) -> str:
    """One line on a checkpoint written (or not)."""
    checkpoint = result.checkpoint
    if checkpoint is None:
        return "no records added since the last checkpoint: none written"
    record = checkpoint.record
    signed = f"signed by key {record.key_id}" if record.key_id else "unsigned"
    return (
        f"checkpoint {checkpoint.sequence}: {checkpoint.tree_size} records "
        f"({result.added} added), root {checkpoint.root}, {signed}"
    )


def load_head(path: Path) -> Any:
    """A checkpoint record an auditor kept (``ledger/checkpoint.json`` of an audit pack)."""

    try:
        record = EvidenceRecord.from_json(path.read_text(encoding="utf-8"), verify=True)
        Checkpoint.of(record, source=str(path))
    except (OSError, UnicodeDecodeError, EvidenceError, LedgerError) as exc:
        raise AimsError(ERROR_HEAD_FILE.format(path=path, why=" ".join(str(exc).split()))) from exc
    return record
