"""The AIMS's own processes on the command line: the ``record`` group (this module owns it and
declares every command in it: ``incident``, ``incident-report``, ``internal-audit``,
``management-review``, ``training``, ``acknowledgement``), ``aims nonconformities`` (the register,
synced as records in the store) and ``aims nc update`` / ``verify`` (corrective action and its
effectiveness)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from aims_mlops.capture import (
    record_acknowledgement,
    record_incident,
    record_internal_audit,
    record_management_review,
    record_training,
    report_incident,
    sync_register,
    update_nonconformity,
    verify_nonconformity,
)
from aims_mlops.cli._options import (
    config_option,
    echo_json,
    format_option,
    key_option,
    render_table,
)
from aims_mlops.config import default_config_path
from aims_mlops.reports._audit import parse_moment

REGISTER_COLUMNS = ["short_id", "system", "control", "source", "state", "owner", "due", "overdue"]


def _split(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _config(config: Path | None) -> Any:
    return config if config is not None else default_config_path()


@click.command("internal-audit")
@config_option
@click.option("--auditor", required=True, help="Who audited (independent of what is audited).")
@click.option(
    "--scope",
    "scope",
    multiple=True,
    required=True,
    metavar="IDS",
    help="Systems and/or catalog entries or groups audited (comma-separated, repeatable).",
)
@click.option("--report", required=True, help="The audit report (a file: it is hashed, attached).")
@click.option(
    "--findings",
    default=None,
    help="YAML/JSON list of findings ({statement, entry, system, owner}); each opens an NC.",
)
@click.option(
    "--date", "day", default=None, help="The day of the audit (YYYY-MM-DD; default today)."
)
@key_option
def internal_audit_command(
    config: Path | None,
    auditor: str,
    scope: tuple[str, ...],
    report: str,
    findings: str | None,
    day: str | None,
    key_file: Path | None,
) -> None:
    """Record an internal audit (clause 9.2); refused when the auditor owns what is audited."""
    done = record_internal_audit(
        auditor=auditor,
        scope=_split(scope),
        report=report,
        findings=findings,
        date=day,
        config=_config(config),
        key=key_file,
    )
    details = done.record.details
    click.echo(
        f"recorded internal audit {done.record.id} of {', '.join(details['scope'])} by "
        f"{details['auditor']} (report sha256 {details['report_sha256'][:12]}); "
        f"{len(done.nonconformities)} nonconformities opened"
    )
    for nc in done.nonconformities:
        click.echo(f"  opened {nc.id[:8]}: {nc.details.get('statement')}")


@click.command("management-review")
@config_option
@click.option("--chair", required=True, help="Who chaired the review (top management).")
@click.option("--minutes", required=True, help="The minutes (a file: it is hashed, attached).")
@click.option("--attendees", multiple=True, metavar="NAMES", help="Comma-separated, repeatable.")
@click.option(
    "--decisions", default=None, help="YAML/JSON list of decisions ({decision, owner, due})."
)
@click.option("--date", "day", default=None, help="The day of the review (default today).")
@key_option
def management_review_command(
    config: Path | None,
    chair: str,
    minutes: str,
    attendees: tuple[str, ...],
    decisions: str | None,
    day: str | None,
    key_file: Path | None,
) -> None:
    """Record a management review (clause 9.3) with today's review pack attached as its inputs."""
    record = record_management_review(
        chair=chair,
        minutes=minutes,
        attendees=_split(attendees),
        decisions=decisions,
        date=day,
        config=_config(config),
        key=key_file,
    )
    details = record.details
    click.echo(
        f"recorded management review {record.id} chaired by {details['chair']}: "
        f"{len(details['decisions'])} decisions, inputs sha256 {details['inputs_sha256'][:12]}"
    )


@click.command("nonconformities")
@config_option
@format_option("table", "json")
def nonconformities_command(config: Path | None, fmt: str) -> None:
    """Bring the nonconformity register (clause 10.2, records in the store) up to date and print
    it: opens on failing entries and regressions, closes what is satisfied again and verified."""
    plan = sync_register(config=_config(config))
    rows = list(plan.rows)
    if fmt == "json":
        echo_json(rows)
        return
    click.echo(render_table(rows, REGISTER_COLUMNS) if rows else "no nonconformities")
    still = sum(1 for r in rows if r["state"] != "closed")
    click.echo(
        f"{still} open, {len(rows) - still} closed; this sync opened {len(plan.opened)} and "
        f"closed {len(plan.closed)}"
    )


@click.group("nc")
def nc_group() -> None:
    """Corrective action on a nonconformity (clause 10.2)."""


@nc_group.command("update")
@config_option
@click.argument("nc_id", metavar="ID")
@click.option("--root-cause", required=True)
@click.option("--correction", required=True, help="What was done to contain it.")
@click.option("--action", required=True, help="The corrective action against the root cause.")
@click.option("--owner", required=True)
@click.option("--due", required=True, help="YYYY-MM-DD")
@click.option("--by", "by", default=None, help="Who records it (default: the holder of --key).")
@key_option
def nc_update_command(
    config: Path | None,
    nc_id: str,
    root_cause: str,
    correction: str,
    action: str,
    owner: str,
    due: str,
    by: str | None,
    key_file: Path | None,
) -> None:
    """Record the root cause, correction and corrective action of nonconformity ID."""
    record = update_nonconformity(
        nc_id,
        root_cause=root_cause,
        correction=correction,
        action=action,
        owner=owner,
        due=parse_moment(due).date(),
        config=_config(config),
        by=by,
        key=key_file,
    )
    click.echo(f"recorded corrective action {record.id[:8]} for {record.details['amends'][:8]}")


@nc_group.command("verify")
@config_option
@click.argument("nc_id", metavar="ID")
@click.option("--by", "by", required=True, help="Who checked the action was effective.")
@click.option("--note", required=True, help="What the check found.")
@key_option
def nc_verify_command(
    config: Path | None, nc_id: str, by: str, note: str, key_file: Path | None
) -> None:
    """Record that the corrective action of ID was effective (it closes once its entry is
    satisfied again: `aims nonconformities`)."""
    record = verify_nonconformity(
        nc_id, by=by, note=note, config=_config(config), key=key_file
    )
    click.echo(f"recorded effectiveness check {record.id[:8]} for {record.details['amends'][:8]}")


# -- aims record incident | incident-report (EU AI Act Art. 73) ---------------------------------
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


# -- aims record training | acknowledgement (clauses 7.2, 7.3) -------------------------------
@click.command("training")
@config_option
@click.option("--person", required=True, help="The person trained (listed in aims.yaml people).")
@click.option("--topic", required=True, help="What the training covered.")
@click.option("--date", "day", required=True, help="The day of the training (YYYY-MM-DD).")
@click.option("--evidence", default=None, help="Certificate or attendance list (hashed, attached).")
@key_option
def training_command(
    config: Path | None,
    person: str,
    topic: str,
    day: str,
    evidence: str | None,
    key_file: Path | None,
) -> None:
    """Record a person's training (clause 7.2, competence): their act, signed with their key."""
    record = record_training(
        person=person,
        topic=topic,
        date=day,
        evidence=evidence,
        key=key_file,
        config=_config(config),
    )
    signed = " (signed)" if record.signature else ""
    click.echo(
        f"recorded training {record.id} of {record.details['person']}: "
        f"{record.details['topic']} on {record.details['date']}{signed}"
    )


@click.command("acknowledgement")
@config_option
@click.option("--person", required=True, help="Who acknowledges (listed in aims.yaml people).")
@click.option("--document", required=True, help="Document id of the set (AIMS-05) or its file.")
@key_option
def acknowledgement_command(
    config: Path | None, person: str, document: str, key_file: Path | None
) -> None:
    """Record that a person acknowledged a document, the AI policy (clause 7.3, awareness):
    their act, signed with their key."""
    record = record_acknowledgement(
        person=person, document=document, key=key_file, config=_config(config)
    )
    signed = " (signed)" if record.signature else ""
    click.echo(
        f"recorded acknowledgement {record.id} of {record.details['document']} by "
        f"{record.details['person']}{signed}"
    )


@click.group("record")
def record_group() -> None:
    """Record events an AI management system must keep: serious incidents and their reports,
    internal audits, management reviews."""


RECORD_COMMANDS = (
    incident_command,
    incident_report_command,
    internal_audit_command,
    management_review_command,
    training_command,
    acknowledgement_command,
)


def register(group: click.Group) -> None:
    """Add ``record`` (this module owns it and every command in it), ``nonconformities`` and
    ``nc`` to ``group``."""
    for command in RECORD_COMMANDS:
        record_group.add_command(command)
    group.add_command(record_group)
    group.add_command(nonconformities_command)
    group.add_command(nc_group)
