"""``aims report`` (a system's HTML or Markdown report) and ``aims readiness`` (certification)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click

from aims_mlops._files import write_atomically
from aims_mlops.capture import CaptureContext, emit
from aims_mlops.cli._options import (
    as_of_option,
    config_option,
    draft_option,
    echo_configuration,
    echo_reperformance,
    format_option,
    judge,
    output_option,
)
from aims_mlops.reports import (
    readiness_report,
    readiness_text,
    render_html,
    render_markdown,
    system_card_record,
)
from aims_mlops.reports._lifecycle import pilot_note
from aims_mlops.store import AbsentStore

REPORT_FORMATS = ("html", "md")
#: ``aims report`` with no evidence store yet: the report is written, not recorded.
NOTE_REPORT_NOT_RECORDED = (
    "note: the report is not recorded as system_card evidence: there is no evidence store yet"
)


@click.command("report")
@config_option
@click.argument("system")
@click.option("--model-version", default=None, help="Report on this registered model version.")
@as_of_option
@draft_option
@format_option(*REPORT_FORMATS)
@output_option("File to write (replaced atomically).", required=True)
@click.option(
    "--record/--no-record",
    default=True,
    show_default=True,
    help="Record the report as the system's system_card evidence (for the controls whose rule "
    "names that kind: `aims catalog` lists them).",
)
def report_command(
    config: Path | None,
    system: str,
    model_version: str | None,
    as_of: str | None,
    draft: bool,
    fmt: str,
    output: Path,
    record: bool,
) -> None:
    """Write SYSTEM's compliance report: system card, controls with evidence, risks, data
    quality, fairness, gaps and the evidence appendix (one self-contained file). With
    ``--as-of`` the report re-performs a past verdict and is not recorded as evidence."""
    judgement = judge(
        config=config,
        systems=[system],
        model_versions={system: model_version},
        as_of=as_of,
        draft=draft,
    )
    echo_reperformance(judgement)  # the report itself says DRAFT or the unapproved changes
    # a report judged with the working copy on request (--draft) is not the system's card;
    # with no store yet there is nothing to record it in (reading never creates one)
    absent = isinstance(judgement.store, AbsentStore)
    record = record and as_of is None and not draft and not absent
    render = render_html if fmt == "html" else render_markdown
    text = render(judgement, system, model_version=model_version)
    write_atomically(output, text)
    click.echo(f"wrote {output}")
    if absent:
        click.echo(NOTE_REPORT_NOT_RECORDED, err=True)
    if not record:
        return
    document = text.encode("utf-8")
    model = judgement.current_models.get(system)
    registered = model is not None and model.version is not None and model.run_id is not None
    card = system_card_record(
        judgement,
        system,
        document=document,
        fmt=fmt,
        location=str(output.resolve()),
        model_version=model_version,
        # logged as an artifact of the registered version's run: where its users find it
        delivered_with=f"models:/{model.name}/{model.version}" if registered and model else None,
    )
    context = CaptureContext.from_config(judgement.config, store=judgement.store, system=system)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stored = emit(
            context,
            card,
            run_id=model.run_id if model is not None else None,
            artifacts={f"system_card.{fmt}": document},
        )
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    click.echo(f"recorded system_card {stored.id} for {system}")


@click.command("readiness")
@config_option
@format_option("text", "json")
@click.option(
    "--expiring-days",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="Evidence expiring within this many days is reported as expiring.",
)
@as_of_option
@draft_option
def readiness_command(
    config: Path | None, fmt: str, expiring_days: int, as_of: str | None, draft: bool
) -> None:
    """Certification readiness: per clause and Annex A objective, evidence freshness and a
    prioritised remediation list with owners."""
    judgement = judge(config=config, as_of=as_of, draft=draft)
    echo_reperformance(judgement)
    report = readiness_report(judgement, expiring_within_days=expiring_days)
    report["evidence_digest"] = judgement.evidence_digest
    report["as_of"] = judgement.as_of
    state = judgement.configuration
    report["configuration"] = state.to_dict() if state is not None else None
    report["pilot"] = list(judgement.config.pilot)
    note = pilot_note(judgement)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        echo_configuration(judgement)
        if note:
            click.echo(note)
        click.echo(readiness_text(report))


def register(group: click.Group) -> None:
    """Add ``report`` and ``readiness`` to the ``aims`` command group."""
    group.add_command(report_command)
    group.add_command(readiness_command)
