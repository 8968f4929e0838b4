"""``aims checkpoint``: the next signed checkpoint of the store (the helpers the commands that
write one on the way share live in :mod:`aims_mlops.cli._options`)."""

from __future__ import annotations

from pathlib import Path

import click

from aims_mlops.capture import make_store, signing_key
from aims_mlops.cli._options import (
    config_option,
    describe,
    echo_json,
    format_option,
    load_optional_config,
)


@click.command("checkpoint")
@config_option
@click.option("--force", is_flag=True, help="Write one even when no record was added.")
@format_option("text", "json")
def checkpoint_command(config: Path | None, force: bool, fmt: str) -> None:
    """Write the next signed checkpoint: every record not yet listed is appended to the list
    (record ids and content hashes, Merkle root), chained to the previous checkpoint."""

    store = make_store(load_optional_config(config))
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
