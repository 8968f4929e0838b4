"""``aims config approve`` and ``aims config status``: the configuration counts once approved."""

from __future__ import annotations

from pathlib import Path

import click

from aims_mlops.capture import accept_risk, approve_configuration, make_store
from aims_mlops.cli._options import config_option, echo_json, format_option, key_option
from aims_mlops.config import default_config_path
from aims_mlops.judgement._configuration import (
    configuration_state,
    pinned_key_ids,
    read_ledger,
)
from aims_mlops.ledger import snapshot_of

CONFIG_HELP = """The configuration is evidence: aims.yaml counts for verdicts once a person of
top management approves it (`aims config approve`); `aims config status` lists what the working
copy changes against the last approved configuration."""


@click.group("config", help=CONFIG_HELP)
def config_group() -> None:
    """The approved configuration."""


@config_group.command("approve")
@config_option
@click.option("--by", "by", default=None, help="Who approves (default: the holder of --key).")
@key_option
def approve_command(config: Path | None, by: str | None, key_file: Path | None) -> None:
    """Approve the working copy of aims.yaml (a person of top management, with their own key)."""
    path = config or default_config_path()
    done = approve_configuration(config_path=path, by=by, key=key_file)
    if done.unchanged:
        click.echo(
            f"{path}: already the approved configuration (#{done.sequence}, approved by "
            f"{done.by}); nothing to approve"
        )
        return
    assert done.approval is not None
    click.echo(
        f"approved {path} as configuration #{done.sequence} by {done.by} with key "
        f"{done.key_id}; approval record {done.approval.id}"
    )
    for change in done.changes:
        click.echo(f"  {change}")
    if done.root:
        click.echo(
            f"first approval in this store (trust on first use): root key {done.key_id} "
            f"({done.fingerprint}); auditors pin it with `aims verify --trusted-key FILE`"
        )


@config_group.command("status")
@config_option
@format_option("text", "json")
def status_command(config: Path | None, fmt: str) -> None:
    """What the working copy of aims.yaml changes against the last approved configuration."""
    path = config or default_config_path()
    working = snapshot_of(path)
    ledger, _ = read_ledger(make_store(working.config), pinned=pinned_key_ids(), working=working)
    state = configuration_state(ledger, working)
    if fmt == "json":
        data = state.to_dict()
        data["findings"] = [f.to_dict() for f in ledger.findings]
        data["history"] = [link.to_dict() for link in ledger.links]
        echo_json(data)
        return
    head = state.head
    if head is None:
        click.echo(f"{path}: no approved configuration in this store; every verdict is a draft")
    else:
        click.echo(
            f"last approved: #{head.sequence} by {head.by} on {head.approval.collected_at[:19]} "
            f"(key {head.key_id}); chain root key {state.root_key}"
        )
    if head is not None and not state.unapproved_changes:
        click.echo(f"{path}: no unapproved changes")
    elif state.unapproved_changes:
        click.echo(f"unapproved changes in {path} ({len(state.unapproved_changes)}):")
        for change in state.unapproved_changes:
            click.echo(f"  {change}")
    for finding in ledger.findings:
        click.echo(f"finding: {finding.reason}", err=True)


@click.group("risk")
def risk_group() -> None:
    """A person's acts on the risk register."""


@risk_group.command("accept")
@config_option
@click.argument("risk_id", metavar="RISK")
@click.option("--by", "by", default=None, help="Who accepts (default: acceptance.by).")
@key_option
def risk_accept_command(
    config: Path | None, risk_id: str, by: str | None, key_file: Path | None
) -> None:
    """Sign the acceptance aims.yaml declares for RISK (risks[].acceptance) with your own key."""
    record = accept_risk(
        risk_id, config_path=config or default_config_path(), key=key_file, by=by
    )
    click.echo(
        f"recorded the acceptance of risk {risk_id} by {record.details['by']} on "
        f"{record.details['on']}: record {record.id}"
    )


def register(group: click.Group) -> None:
    """Add ``config`` and ``risk`` to the ``aims`` command group."""
    group.add_command(config_group)
    group.add_command(risk_group)
