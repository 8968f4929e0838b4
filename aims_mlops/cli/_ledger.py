"""``aims checkpoint``: the next signed checkpoint of the store, and the helper the commands that
write one on the way (sync, gate, audit-pack) share."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aims_mlops.cli._main import config_option, echo_json, format_option

if TYPE_CHECKING:
    from aims_mlops.store import EvidenceStore

ERROR_HEAD_FILE = "{path}: not a checkpoint record ({why})"


def checkpoint_store(store: EvidenceStore) -> Any:
    """Write the next checkpoint of ``store`` when records were added since the last, signed
    with the pipeline key (``$AIMS_SIGNING_KEY``; none: unsigned)."""
    from aims_mlops.capture import signing_key

    return store.checkpoint(key=signing_key())


def checkpoint_config(config: Path | None) -> Any:
    """:func:`checkpoint_store` for the store ``config`` (default: ./aims.yaml, if any) names."""
    from aims_mlops.capture import make_store
    from aims_mlops.cli._main import _load_optional_config

    return checkpoint_store(make_store(_load_optional_config(config)))


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
    from aims_mlops._errors import AimsError, EvidenceError
    from aims_mlops.evidence import EvidenceRecord
    from aims_mlops.ledger import Checkpoint, LedgerError

    try:
        record = EvidenceRecord.from_json(path.read_text(encoding="utf-8"), verify=True)
        Checkpoint.of(record, source=str(path))
    except (OSError, UnicodeDecodeError, EvidenceError, LedgerError) as exc:
        raise AimsError(ERROR_HEAD_FILE.format(path=path, why=" ".join(str(exc).split()))) from exc
    return record


@click.command("checkpoint")
@config_option
@click.option("--force", is_flag=True, help="Write one even when no record was added.")
@format_option("text", "json")
def checkpoint_command(config: Path | None, force: bool, fmt: str) -> None:
    """Write the next signed checkpoint: every record not yet listed is appended to the list
    (record ids and content hashes, Merkle root), chained to the previous checkpoint."""
    from aims_mlops.capture import make_store, signing_key
    from aims_mlops.cli._main import _load_optional_config

    store = make_store(_load_optional_config(config))
    result = store.checkpoint(key=signing_key(), force=force)
    if fmt == "json":
        checkpoint = result.checkpoint
        echo_json(
            {
                "written": checkpoint is not None,
                "added": result.added,
                "run_id": result.run_id,
                "checkpoint": checkpoint.record.to_dict() if checkpoint is not None else None,
            }
        )
        return
    click.echo(describe(result))


def register(group: click.Group) -> None:
    """Add ``checkpoint`` to the ``aims`` command group."""
    group.add_command(checkpoint_command)
