"""Auditor-facing commands: audit pack, OSCAL export, audit plan, management review, register."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from aims_mlops._errors import AimsError
from aims_mlops._files import write_atomically
from aims_mlops.cli._options import (
    as_of_option,
    checkpoint_config,
    config_option,
    draft_option,
    echo_configuration,
    echo_reperformance,
    format_option,
    judge,
    output_option,
)
from aims_mlops.engine import parse_as_of
from aims_mlops.reports._audit import (
    audit_plan,
    audit_plan_markdown,
    draw_seed,
    parse_moment,
    review_pack,
    review_pack_markdown,
)
from aims_mlops.reports._bom import bom_json
from aims_mlops.reports._oscal import assessment_results
from aims_mlops.reports._pack import RECORDS_DIR, build_pack
from aims_mlops.reports._register import register_rows

ERROR_SYSTEM_OR_ALL = "name one SYSTEM or pass --all (not both)"


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    write_atomically(output, text)
    click.echo(f"wrote {output}")


@click.command("audit-pack")
@config_option
@click.argument("system", required=False)
@click.option("--all", "all_systems", is_flag=True, help="Every in-scope system.")
@output_option("The zip to write.", required=True)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
@as_of_option
@draft_option
def audit_pack_command(
    config: Path | None,
    system: str | None,
    all_systems: bool,
    output: Path,
    progress: bool | None,
    as_of: str | None,
    draft: bool,
) -> None:
    """Write the audit pack of SYSTEM (or --all): evidence, SoA, risks, reports, manifest."""
    if (system is None) == (not all_systems):
        raise AimsError(ERROR_SYSTEM_OR_ALL)
    systems = None if all_systems else [system]
    if as_of is None:  # the pack holds the head: make it cover every record stored so far
        checkpoint_config(config)
    judgement = judge(config=config, systems=systems, as_of=as_of, draft=draft)
    echo_reperformance(judgement)
    echo_configuration(judgement)
    manifest = build_pack(
        judgement,
        output,
        progress=sys.stderr.isatty() if progress is None else progress,
    )
    records = sum(1 for m in manifest.members if m.startswith(RECORDS_DIR))
    signed = "signed" if manifest.signature else "unsigned (set $AIMS_SIGNING_KEY to sign)"
    click.echo(
        f"wrote {output}: {len(manifest.members) + 1} files, {records} evidence records, "
        f"systems {', '.join(manifest.systems)}; manifest sha256 {manifest.manifest_sha256}, "
        f"{signed}"
    )


# -- aims export --format cyclonedx -------------------------------------------------------------
def export_cyclonedx(judgement: Any, output: Path | None) -> None:
    """``aims export --format cyclonedx``: the ML bill of materials of the judged systems."""
    text = bom_json(judgement)
    if output is None:
        click.echo(text)
        return
    write_atomically(output, text if text.endswith("\n") else text + "\n")
    click.echo(f"wrote {output}")


@click.command("export")
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["oscal", "cyclonedx"]),
    default="oscal",
    show_default=True,
    help="OSCAL Assessment Results 1.1.2, or a CycloneDX 1.6 ML bill of materials (JSON).",
)
@click.option("--system", "systems", multiple=True, help="Only this system (repeatable).")
@output_option("File to write (default: stdout).")
def export_command(
    config: Path | None, fmt: str, systems: tuple[str, ...], output: Path | None
) -> None:
    """Export the assessment for GRC tools (OSCAL Assessment Results)."""
    judgement = judge(config=config, systems=list(systems) or None)
    if fmt == "cyclonedx":
        return export_cyclonedx(judgement, output)
    document = assessment_results(judgement)
    _emit(json.dumps(document, indent=2, ensure_ascii=False) + "\n", output)


@click.command("audit-plan")
@config_option
@format_option("json", "md")
@click.option(
    "--sample",
    "--sample-size",
    "sample_size",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Records drawn per catalog entry.",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed of the sample, chosen by the auditor (default: a fresh one, stated in the plan).",
)
@click.option("--from", "start", default=None, help="Draw from records collected since (DATE).")
@click.option("--to", "end", default=None, help="... and until (DATE, the end of that day).")
@output_option("File to write (default: stdout).")
def audit_plan_command(
    config: Path | None,
    fmt: str,
    sample_size: int,
    seed: int | None,
    start: str | None,
    end: str | None,
    output: Path | None,
) -> None:
    """The internal audit checklist (clause 9.2) with the auditor's own sample: per entry, up to
    K records drawn from every record collected in the period (every run of each system), not
    only those the verdict cites. The plan states the seed, the population and its digest."""
    begin = parse_moment(start) if start is not None else None
    finish = parse_as_of(end) if end is not None else None
    judgement = judge(config=config, full_history=True)
    plan = audit_plan(
        judgement,
        sample_size=sample_size,
        seed=draw_seed() if seed is None else seed,
        start=begin,
        end=finish,
    )
    if fmt == "md":
        _emit(audit_plan_markdown(plan), output)
    else:
        _emit(json.dumps(plan, indent=2, ensure_ascii=False) + "\n", output)


@click.command("review-pack")
@config_option
@click.option(
    "--since",
    default=None,
    help="Start of 'changes since the last review' (YYYY-MM-DD; default: the last recorded "
    "management review, else 90 days).",
)
@format_option("json", "md")
@output_option("File to write (default: stdout).")
def review_pack_command(
    config: Path | None, since: str | None, fmt: str, output: Path | None
) -> None:
    """The management review inputs (clause 9.3): actions, changes, trends, nonconformities."""
    start = parse_moment(since) if since is not None else None
    judgement = judge(config=config, full_history=True)
    register = register_rows(judgement.records, now=parse_moment(judgement.assessment.evaluated_at))
    pack = review_pack(judgement, since=start, register=register)
    if fmt == "md":
        _emit(review_pack_markdown(pack), output)
    else:
        _emit(json.dumps(pack, indent=2, ensure_ascii=False) + "\n", output)


COMMANDS = (
    audit_pack_command,
    export_command,
    audit_plan_command,
    review_pack_command,
)


def register(group: click.Group) -> None:
    """Add the auditor-facing commands to ``group`` (the ``aims`` CLI)."""
    for command in COMMANDS:
        group.add_command(command)
