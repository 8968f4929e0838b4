"""EU AI Act commands: ``aims record incident`` / ``incident-report``, ``aims annex-iv``, and the
``--framework`` views of ``aims catalog`` and ``aims status``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from aims_mlops._files import write_atomically
from aims_mlops.capture import record_incident, report_incident
from aims_mlops.catalog import load_catalog
from aims_mlops.cli._options import (
    check_output,
    config_option,
    echo_json,
    format_option,
    key_option,
    render_table,
)
from aims_mlops.config import default_config_path
from aims_mlops.eu_ai_act import framework_status
from aims_mlops.judgement import judge
from aims_mlops.reports._annex_iv import write_annex_iv
from aims_mlops.reports._bom import bom_json

ANNEX_IV_FORMATS = ("html", "md", "json")
STATUS_COLUMNS = ["system", "id", "title", "status", "applies_from", "proposed_applies_from"]
CATALOG_COLUMNS = ["id", "title", "maps_to", "kinds"]
ERROR_NO_OBLIGATIONS = "no in-scope system is bound by an item of {framework}"


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


# -- aims record incident | incident-report (in the `record` group, which cli/_record.py owns) ----
@click.command("incident")
@config_option
@click.argument("system")
@click.option(
    "--kind",
    "incident_kind",
    type=click.Choice(
        [
            "death",
            "serious-harm",
            "critical-infrastructure",
            "fundamental-rights",
            "widespread",
            "other",
        ]
    ),
    required=True,
    help="What happened; sets the Art. 73 reporting deadline (2, 10 or 15 days).",
)
@click.option("--severity", type=click.Choice(["low", "medium", "high", "critical"]), required=True)
@click.option("--summary", required=True, help="What happened, in a sentence.")
@click.option(
    "--aware-on", required=True, help="The day the organization became aware (YYYY-MM-DD)."
)
@click.option("--reported-on", default=None, help="The day it was reported (YYYY-MM-DD).")
def incident_command(
    config: Path | None,
    system: str,
    incident_kind: str,
    severity: str,
    summary: str,
    aware_on: str,
    reported_on: str | None,
) -> None:
    """Record a serious incident of SYSTEM with its reporting deadline (EU AI Act Art. 73)."""
    record = record_incident(
        system,
        kind=incident_kind,
        severity=severity,
        summary=summary,
        aware_on=aware_on,
        reported_on=reported_on,
        config=_config_or_none(config),
    )
    details = record.details
    state = f"reported on {details['closed_on']}" if details.get("closed_on") else "open"
    click.echo(
        f"recorded incident {record.id} for {system}: {incident_kind}, report by "
        f"{details['deadline']} ({details['deadline_basis']}); {state}"
    )


@click.command("incident-report")
@config_option
@click.argument("incident_id")
@click.option("--on", "on", required=True, help="The day it was reported (YYYY-MM-DD).")
@click.option("--by", "by", default=None, help="Who reported it (default: the holder of --key).")
@key_option
def incident_report_command(
    config: Path | None, incident_id: str, on: str, by: str | None, key_file: Path | None
) -> None:
    """Mark incident INCIDENT_ID (or an unambiguous prefix) as reported (your act: signed with
    your own key)."""
    record = report_incident(
        incident_id, on=on, config=_config_or_none(config), by=by, key=key_file
    )
    click.echo(f"recorded report {record.id}: incident {record.details['closes']} reported on {on}")


def _config_or_none(config: Path | None) -> Path | None:
    if config is not None:
        return config
    path = default_config_path()
    return path if path.is_file() else None


# -- aims annex-iv -------------------------------------------------------------------------------
@click.command("annex-iv")
@config_option
@click.argument("system")
@click.option("--model-version", default=None, help="Document this registered model version.")
@format_option(*ANNEX_IV_FORMATS)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=check_output,
    help="File to write (replaced atomically; default: stdout).",
)
def annex_iv_command(
    config: Path | None, system: str, model_version: str | None, fmt: str, output: Path | None
) -> None:
    """The technical documentation of SYSTEM (EU AI Act Art. 11, Annex IV), from its evidence."""
    text = write_annex_iv(
        system, config=config, model_version=model_version, fmt=fmt, output=output
    )
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        click.echo(f"wrote {output}")


# -- aims export --format cyclonedx -------------------------------------------------------------
def export_cyclonedx(judgement: Any, output: Path | None) -> None:
    """``aims export --format cyclonedx``: the ML bill of materials of the judged systems."""
    text = bom_json(judgement)
    if output is None:
        click.echo(text)
        return
    write_atomically(output, text if text.endswith("\n") else text + "\n")
    click.echo(f"wrote {output}")


def register(group: click.Group) -> None:
    """Add ``annex-iv`` to the ``aims`` command group (the incident commands join the
    ``record`` group through :mod:`aims_mlops.cli._record`, its one owner)."""
    group.add_command(annex_iv_command)


__all__ = [
    "catalog_framework",
    "export_cyclonedx",
    "incident_command",
    "incident_report_command",
    "register",
    "status_framework",
]
