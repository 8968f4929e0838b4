"""Where the systems stand: ``aims summary``, ``status``, ``soa``, ``risks`` and ``catalog``
(with the ``--framework`` views of ``catalog`` and ``status``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from aims_mlops._errors import AimsError
from aims_mlops._files import write_atomically
from aims_mlops.catalog import load_catalog
from aims_mlops.cli._options import (
    as_of_option,
    config_option,
    draft_option,
    echo_configuration,
    echo_json,
    echo_reperformance,
    format_option,
    judge,
    output_option,
    render_csv,
    render_markdown,
    render_table,
)
from aims_mlops.engine import risk_rows, soa_rows, status_rows
from aims_mlops.eu_ai_act import framework_status
from aims_mlops.judgement import summary_json
from aims_mlops.judgement._integrity import integrity_lines
from aims_mlops.presentation import listing_text, percent
from aims_mlops.reports import soa_workbook
from aims_mlops.reports._lifecycle import pilot_note

STATUS_COLUMNS = ["system", "id", "title", "status", "applies_from", "proposed_applies_from"]
CATALOG_COLUMNS = ["id", "title", "maps_to", "kinds"]
ERROR_NO_OBLIGATIONS = "no in-scope system is bound by an item of {framework}"


@click.command("catalog")
@format_option("table", "json")
@click.option("--framework", default=None, help="A crosswalk's items instead (eu-ai-act, ...).")
def catalog_command(fmt: str, framework: str | None) -> None:
    """The ISO/IEC 42001 clauses and Annex A controls, with their evidence rules."""
    if framework is not None:
        return catalog_framework(framework, fmt)
    catalog = load_catalog()
    rows = [entry.to_dict() for entry in catalog]
    if fmt == "json":
        echo_json(rows)
        return
    table_rows = [
        {
            "id": e.id,
            "kind": e.kind,
            "title": e.title,
            "evidence": ", ".join(e.rule.kinds)
            or (f"config: {e.rule.config_check}" if e.rule.config_check else "")
            or ("derived: " + ", ".join(e.rule.derived_from) if e.rule.derived_from else "")
            or "attestation",
        }
        for e in catalog
    ]
    click.echo(render_table(table_rows, ["id", "kind", "title", "evidence"]))


@click.command("summary")
@config_option
@click.argument("system")
@click.option("--model-version", default=None, help="Judge this registered model version.")
@as_of_option
@draft_option
@format_option("text", "json")
def summary_command(
    config: Path | None,
    system: str,
    model_version: str | None,
    as_of: str | None,
    draft: bool,
    fmt: str,
) -> None:
    """Where SYSTEM stands: every clause and control with its first reason, the risks, the
    gaps with their owners (``--format json``: everything, with reasons and evidence ids, the
    evidence digest, what the evidence is worth and, with ``--as-of``, what re-performance
    approximated)."""
    result = judge(
        config=config,
        systems=[system],
        model_versions={system: model_version},
        as_of=as_of,
        draft=draft,
    )
    if fmt == "json":
        echo_json(summary_json(result, system))
        return
    state = result.configuration
    warn = state is not None and (state.draft or bool(state.unapproved_changes))
    if warn:
        echo_configuration(result)  # DRAFT or the unapproved changes, before the verdict
    click.echo(listing_text(result.assessment.systems[system]))
    if not warn:
        echo_configuration(result)  # the approved configuration the verdict used
    click.echo("\n".join(integrity_lines(result.trust, result.integrity_findings, system=system)))
    if result.ledger is not None:
        click.echo(f"ledger: {result.ledger.note()}")
    click.echo(f"evidence digest {result.evidence_digest} ({len(result.records)} records)")
    _echo_pilot(result)
    echo_reperformance(result)


@click.command("status")
@config_option
@format_option("table", "json")
@click.option("--framework", default=None, help="Per system, the obligations of a framework.")
@as_of_option
@draft_option
def status_command(
    config: Path | None, fmt: str, framework: str | None, as_of: str | None, draft: bool
) -> None:
    """Every in-scope system: score, risks above appetite, gaps."""
    if framework is not None:
        return status_framework(config, framework, fmt)
    judgement = judge(config=config, as_of=as_of, draft=draft)
    echo_reperformance(judgement)
    rows = status_rows(judgement.assessment)
    echo_configuration(judgement, err=fmt == "json")
    # what the evidence is worth (unsigned, findings), as summary and readiness say it
    integrity = integrity_lines(judgement.trust, judgement.integrity_findings)
    click.echo("\n".join(integrity), err=fmt == "json")
    if fmt == "json":
        echo_json(rows)
        return
    # one percentage format everywhere (``32.8 %``), as summary and readiness print it
    shown = [{**r, "score": percent(r["score"])} for r in rows]
    click.echo(render_table(shown, ["system", "owner", "score", "risks_above_appetite", "gaps"]))
    _echo_pilot(judgement)


def _echo_pilot(judgement: Any) -> None:
    """The pilot scope, when one limits what was judged."""
    note = pilot_note(judgement)
    if note:
        click.echo(note)


SOA_COLUMNS = ["control", "title", "applicable", "justification", "implementation", "linked_risks"]


@click.command("soa")
@config_option
@format_option("json", "csv", "md", "xlsx")
@output_option()
def soa_command(config: Path | None, fmt: str, output: Path | None) -> None:
    """The Statement of Applicability: every Annex A control, applicable or justified out."""
    rows = soa_rows(judge(config=config).assessment)
    if fmt == "xlsx":
        if output is None:
            raise AimsError("--format xlsx writes a file: give it with -o FILE.xlsx")
        write_atomically(output, soa_workbook(rows))
        click.echo(f"wrote {output}")
        return
    text = {
        "json": lambda: json.dumps(rows, indent=2, ensure_ascii=False, default=str),
        "csv": lambda: render_csv(rows, [*SOA_COLUMNS, "evidence"]),
        "md": lambda: render_markdown(rows, SOA_COLUMNS),
    }[fmt]()
    if output is not None:
        write_atomically(output, text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text)


@click.command("risks")
@config_option
@format_option("table", "json")
def risks_command(config: Path | None, fmt: str) -> None:
    """The risk register: inherent and residual scores against the appetite."""
    rows = risk_rows(judge(config=config).assessment)
    if fmt == "json":
        echo_json(rows)
        return
    click.echo(
        render_table(
            rows,
            [
                "id",
                "system",
                "category",
                "inherent",
                "residual",
                "appetite",
                "above_appetite",
                "acceptance",
                "out_of_scope",
                "owner",
            ],
        )
    )


# -- the --framework views of `aims catalog` and `aims status` ----------------------------------
def catalog_framework(framework: str, fmt: str) -> None:
    """``aims catalog --framework F``: the framework's items and the catalog ids they map to."""
    rows = load_catalog().crosswalk(framework).to_dict()["items"]
    if fmt == "json":
        echo_json(rows)
        return
    click.echo(render_table(rows, CATALOG_COLUMNS))


def status_framework(config: Path | None, framework: str, fmt: str) -> None:
    """``aims status --framework F``: per system, the items that bind it, met or not."""
    load_catalog().crosswalk(framework)  # an unknown framework fails before the store is read
    rows = framework_status(judge(config=config), framework)
    if fmt == "json":
        echo_json(rows)
        return
    if not rows:
        click.echo(ERROR_NO_OBLIGATIONS.format(framework=framework))
        return
    click.echo(render_table(rows, STATUS_COLUMNS))
    met = sum(1 for r in rows if r["met"])
    click.echo(f"{met} of {len(rows)} obligations met")


def register(group: click.Group) -> None:
    """Add ``catalog``, ``summary``, ``status``, ``soa`` and ``risks`` to the ``aims`` group."""
    for command in (catalog_command, summary_command, status_command, soa_command, risks_command):
        group.add_command(command)
