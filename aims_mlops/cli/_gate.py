"""``aims gate``: the release gate for pipelines (exit 0 pass, 1 fail, 2 user error)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aims_mlops._errors import AimsError
from aims_mlops.capture import run_gate
from aims_mlops.catalog import load_catalog
from aims_mlops.cli._options import (
    as_of_option,
    checkpoint_config,
    config_option,
    draft_option,
    echo_absent,
    echo_json,
    echo_reperformance,
    format_option,
    trusted_key_option,
)
from aims_mlops.judgement._gate import trust_line

ERROR_AS_OF_PROMOTE = "--as-of re-performs a past verdict; it cannot --promote a version now"

EXIT_GATE_FAILED = 1


def _split_ids(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@click.command("gate")
@config_option
@click.argument("system")
@click.option("--model-version", default=None, help="Gate this registered model version.")
@click.option(
    "--require",
    "require",
    multiple=True,
    metavar="IDS",
    help="Entries that must be satisfied or not applicable (comma-separated, repeatable). "
    "Default: no entry may be failing.",
)
@click.option(
    "--min-score",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Lowest acceptable conformity score (0..1).",
)
@click.option(
    "--allow-risk",
    is_flag=True,
    help=(
        "Do not fail on risks above the appetite, nor on the risk-treatment entries (8.3, and "
        "6.1 when that is all it lacks) those risks fail; every other entry still counts."
    ),
)
@click.option(
    "--promote",
    is_flag=True,
    help="On pass, move the alias to the version; record the (blocked) promotion either way.",
)
@click.option("--alias", default=None, help="Alias to promote to (default: the system's alias).")
@click.option("--approver", default=None, help="Who approves the promotion (default: $USER).")
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Accept unsigned evidence (trust: unsigned: true, or no keys); said in every output.",
)
@as_of_option
@draft_option
@trusted_key_option
@format_option("text", "json")
def gate_command(
    config: Path | None,
    system: str,
    model_version: str | None,
    require: tuple[str, ...],
    min_score: float | None,
    allow_risk: bool,
    promote: bool,
    alias: str | None,
    approver: str | None,
    allow_unsigned: bool,
    as_of: str | None,
    draft: bool,
    trusted_keys: tuple[Path, ...],
    fmt: str,
) -> None:
    """Fail (exit 1) unless SYSTEM meets the gate: required controls, score, risk appetite."""
    if as_of is not None and promote:
        raise AimsError(ERROR_AS_OF_PROMOTE)
    wanted = _split_ids(require)
    catalog = load_catalog()
    for control_id in wanted:
        catalog.get(control_id)  # unknown ids: CatalogError naming near matches (exit 2)
    if as_of is None:  # hold every record stored so far to the ledger before judging
        checkpoint_config(config)
    run = run_gate(
        system,
        config=config,
        model_version=model_version,
        require=wanted,
        min_score=min_score,
        block_on_risk=not allow_risk,
        promote=promote,
        alias=alias,
        approver=approver,
        trigger="aims gate --promote" if promote else "aims gate",
        as_of=as_of,
        draft=draft,
        allow_unsigned=allow_unsigned,
        trusted_keys=list(trusted_keys) or None,
    )
    echo_absent(run.judgement.store)
    echo_reperformance(run.judgement)
    result = run.result
    if fmt == "json":
        echo_json(run.to_dict())
    else:
        click.echo(result.headline())
        click.echo(trust_line(run.trust))
        for failure in result.failures:
            click.echo(failure)
        if run.deployment is not None:
            model = result.model.describe() if result.model is not None else system
            if run.promoted:
                click.echo(
                    f"promoted {model} to alias {run.alias!r}; "
                    f"deployment record {run.deployment.id}"
                )
            else:
                click.echo(
                    f"promotion of {model} to alias {run.alias!r} blocked; "
                    f"deployment record {run.deployment.id} (outcome fail)"
                )
    if not result.passed:
        sys.exit(EXIT_GATE_FAILED)


def register(group: click.Group) -> None:
    """Add ``gate`` to the ``aims`` command group."""
    group.add_command(gate_command)
