"""From start to certification on the command line: ``aims lifecycle`` (phases, progress, next
actions), ``aims inventory`` (what the tracking server holds, declared or not), ``aims docs
init`` (the AIMS document set). ``aims record training`` / ``acknowledgement`` belong to the
``record`` group (:mod:`aims_mlops.cli._record`)."""

from __future__ import annotations

from pathlib import Path

import click

from aims_mlops.capture import make_store
from aims_mlops.cli._options import (
    as_of_option,
    config_option,
    echo_absent,
    echo_json,
    echo_reperformance,
    format_option,
    judge,
    render_table,
)
from aims_mlops.config import default_config_path, load_config
from aims_mlops.documents import select_documents, write_documents
from aims_mlops.engine import lifecycle_text
from aims_mlops.engine._inventory import inventory_rows
from aims_mlops.evidence import Inventory
from aims_mlops.reports._lifecycle import draft_document_set, lifecycle_for, pilot_note
from aims_mlops.store._inventory import discover

INVENTORY_COLUMNS = ["kind", "name", "count", "declared", "system", "in_scope", "reason"]


def _config_path(config: Path | None) -> Path:
    return config if config is not None else default_config_path()


@click.command("lifecycle")
@config_option
@format_option("text", "json")
@as_of_option
def lifecycle_command(config: Path | None, fmt: str, as_of: str | None) -> None:
    """The AIMS lifecycle: per phase its progress, then the next actions by phase and owner,
    each with its effort estimate."""
    judgement = judge(config=config, as_of=as_of)
    echo_reperformance(judgement)
    view = lifecycle_for(judgement)
    if fmt == "json":
        echo_json(view.to_dict())
        return

    note = pilot_note(judgement)
    if note:
        click.echo(note)
    click.echo(lifecycle_text(view))


@click.command("inventory")
@config_option
@format_option("table", "json")
def inventory_command(config: Path | None, fmt: str) -> None:
    """Every registered model and every experiment with logged models in the tracking server,
    with the system of aims.yaml that declares it (or declared: false)."""
    cfg = load_config(_config_path(config))
    store = make_store(cfg, reading=True)
    found = (
        Inventory()
        if echo_absent(store)
        else discover(store.client, skip_experiments=(store.evidence_experiment,))
    )
    rows = [r.to_dict() for r in inventory_rows(cfg, found)]
    if fmt == "json":
        echo_json({"items": rows, "complete": found.complete, "problem": found.problem})
        return
    click.echo(
        render_table(rows, INVENTORY_COLUMNS) if rows else "the tracking server holds no models"
    )
    undeclared = [r["name"] for r in rows if not r["declared"] and r["kind"] == "registered_model"]
    if undeclared:
        click.echo(
            f"{len(undeclared)} registered model(s) declared by no system: {', '.join(undeclared)}"
            " (clause 4.3 is not satisfied until aims.yaml declares each, in or out of scope)"
        )
    if not found.complete:
        click.echo(f"warning: the listing is incomplete: {found.problem}", err=True)


@click.group("docs")
def docs_group() -> None:
    """The AIMS document set (documented information)."""


@docs_group.command("init")
@config_option
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("aims-docs"),
    show_default=True,
    help="Folder to write the documents into (created when missing).",
)
@format_option("md", "docx")
@click.option("--force", is_flag=True, help="Overwrite documents of the set already there.")
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="DOCUMENT_ID",
    help="Write only these documents (repeatable), e.g. the supplier register AIMS-22 drafted "
    "again once the lineage names the suppliers.",
)
def docs_init_command(
    config: Path | None, directory: Path, fmt: str, force: bool, only: tuple[str, ...]
) -> None:
    """Write the AIMS document set, pre-filled from aims.yaml, the evidence and the EU AI Act
    classification, with [TO COMPLETE: ...] where a person must write."""
    judgement = judge(config=config)
    drafts = select_documents(draft_document_set(judgement), only)
    paths = write_documents(drafts, directory, fmt=fmt, force=force)
    marks = sum(d.open_marks for d in drafts)
    click.echo(
        f"wrote {len(paths)} documents to {directory} ({marks} places to complete); complete "
        "each, set its approver, then `aims attest ENTRY --org --by APPROVER --document FILE`"
    )


def register(group: click.Group) -> None:
    """Add ``lifecycle``, ``inventory`` and ``docs`` to the ``aims`` command group."""
    group.add_command(lifecycle_command)
    group.add_command(inventory_command)
    group.add_command(docs_group)
