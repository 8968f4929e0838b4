"""The ``aims`` command line: the compliance team's view of the AI management system."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from aims_mlops._errors import AimsError
from aims_mlops._files import write_atomically
from aims_mlops.capture import attest, make_store
from aims_mlops.catalog import load_catalog
from aims_mlops.cli._euaiact import catalog_framework, status_framework
from aims_mlops.cli._ledger import checkpoint_store, describe, load_head
from aims_mlops.cli._options import (
    ERROR_CONFIG_EXISTS,
    EXIT_USER_ERROR,
    NOTE_PACK_UNVERIFIED,
    AimsGroup,
    as_of_option,
    check_document,
    check_output,
    config_option,
    draft_option,
    echo_configuration,
    echo_json,
    echo_reperformance,
    format_option,
    key_option,
    load_optional_config,
    render_csv,
    render_markdown,
    render_table,
    set_mlflow_verbosity,
    trusted_key_option,
)
from aims_mlops.collectors._data_quality import expectation_problems
from aims_mlops.config import config_digest, default_config_path, load_config
from aims_mlops.config._loader import locate_problems
from aims_mlops.config._starter import write_starter
from aims_mlops.demo import run_demo
from aims_mlops.engine import risk_rows, soa_rows, status_rows
from aims_mlops.engine._documents import document_problems
from aims_mlops.engine._suppliers import exclusions_against_lineage
from aims_mlops.evidence import TrustPolicy
from aims_mlops.evidence._documents import DocumentScope
from aims_mlops.judgement import judge, summary_json
from aims_mlops.judgement._configuration import pinned_key_ids, read_ledger
from aims_mlops.judgement._integrity import integrity_lines, trust_policy
from aims_mlops.presentation import listing_text, percent
from aims_mlops.reports import soa_workbook, verify_pack
from aims_mlops.reports._lifecycle import pilot_note


@click.group(cls=AimsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aims-mlops")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Show MLflow's own INFO logging (by default only its warnings and errors).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """ISO/IEC 42001 evidence, status and reports for AI systems built with MLflow."""
    set_mlflow_verbosity(verbose=verbose)
    ctx.obj = {"verbose": verbose}


# -- configuration ---------------------------------------------------------------------------------
@cli.command("init")
@config_option
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_command(config: Path | None, force: bool) -> None:
    """Write a commented example aims.yaml that validates, with its keys: the pipeline's and
    each declared person's under .aims/keys/ (private keys mode 0600, ignored by git). Nothing
    is approved: every verdict is a draft until `aims config approve`."""
    path = config or default_config_path()
    if path.exists() and not force:
        raise AimsError(ERROR_CONFIG_EXISTS.format(path=path))
    starter = write_starter(path, force=force)
    click.echo(
        f"wrote {path} and {len(starter.keys)} key pairs under {path.parent / '.aims' / 'keys'} "
        f"(private keys mode 0600, ignored by {starter.gitignore})"
    )
    click.echo(
        f"edit it, run `aims validate`, then approve it (nothing counts until then; every "
        f'verdict is a draft): aims config approve --by "{starter.approver}" --key '
        f"{starter.approver_key}"
    )


@cli.command("validate")
@config_option
@click.argument(
    "files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path), metavar="[FILES]..."
)
@click.pass_context
def validate_command(ctx: click.Context, config: Path | None, files: tuple[Path, ...]) -> None:
    """Check aims.yaml (or each of FILES): every problem with its line and field.

    With several files, each is checked and reported; the exit status is 2 when any is invalid
    (how the pre-commit framework calls it, one call for every staged aims.yaml)."""
    paths = list(dict.fromkeys([*([config] if config else []), *files])) or [default_config_path()]
    invalid = 0
    for path in paths:
        try:
            cfg = load_config(path)
        except AimsError as exc:
            if len(paths) == 1:
                raise
            click.echo(f"error: {exc}", err=True)
            invalid += 1
            continue
        if not _expectations_valid(cfg, path) or not _lineage_valid(cfg, path):
            invalid += 1
            continue
        systems = len(cfg.systems)
        click.echo(
            f"{path}: valid ({systems} system{'s' * (systems != 1)}, {len(cfg.risks)} risks, "
            f"{len(cfg.soa)} SoA decisions; digest {config_digest(cfg)[:12]})"
        )
    if invalid:
        ctx.exit(EXIT_USER_ERROR)


#: lineage kinds ``aims validate`` reads to check the SoA's exclusions of supplier entries
_LINEAGE_KINDS = ("lineage.datasets", "lineage.model")


def _existing_store(uri: str) -> bool:
    """Whether the tracking store at ``uri`` exists already (reading a sqlite or file store
    that does not would create it: validating never writes)."""
    if uri.startswith("sqlite:"):
        return Path(uri.split(":///", 1)[-1]).is_file()
    if "://" not in uri or uri.startswith("file:"):
        return Path(uri.removeprefix("file://").removeprefix("file:")).exists()
    return True


def _lineage_valid(cfg: Any, path: Path) -> bool:
    """The SoA may not exclude a supplier entry (A.10.2, A.10.3) while the store's lineage shows
    third-party data or models: print each such exclusion as ``file:line: field: message``.
    True when none is found, or when there is no store to read (a note says so)."""
    if not any(not d.applicable for d in cfg.soa):
        return True
    store = make_store(cfg)
    if not _existing_store(store.tracking_uri):
        return True
    try:
        records = store.records(kinds=_LINEAGE_KINDS)
    except AimsError as exc:
        click.echo(f"note: {path}: lineage not checked ({exc})", err=True)
        return True
    located = exclusions_against_lineage(cfg, load_catalog(), records)
    if not located:
        return True
    text = path.read_text(encoding="utf-8")
    for line in locate_problems(text, located, source=str(path)):
        click.echo(f"error: {line}", err=True)
    return False


def _expectations_valid(cfg: Any, path: Path) -> bool:
    """Build every declared expectation with Great Expectations (imported only when some are
    declared); print each problem as ``file:line: field: message``. True when all are valid."""
    declared = [
        (i, s.data_quality.expectations)
        for i, s in enumerate(cfg.systems)
        if s.data_quality is not None and s.data_quality.expectations
    ]
    if not declared:
        return True
    import warnings

    with warnings.catch_warnings():  # GE's optional back ends warn about their own versions
        warnings.simplefilter("ignore", FutureWarning)
        located = [
            (("systems", i, "data_quality", "expectations", *loc), message)
            for i, expectations in declared
            for loc, message in expectation_problems(expectations)
        ]
    if not located:
        return True
    text = path.read_text(encoding="utf-8")
    for line in locate_problems(text, located, source=str(path)):
        click.echo(f"error: {line}", err=True)
    return False


@cli.command("catalog")
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


# -- evidence --------------------------------------------------------------------------------------
@cli.command("attest")
@config_option
@click.argument("control")
@click.option("--system", "system", default=None, help="The AI system the attestation is about.")
@click.option("--org", is_flag=True, help="An organization-level attestation (every system).")
@click.option("--by", "by", required=True, help="The named person who vouches.")
@click.option("--document", required=True, help="URL or path of the document; a file is hashed.")
@click.option(
    "--valid-days", type=click.IntRange(min=1), default=None, help="Expires after N days."
)
@click.option("--statement", default=None, help="What is attested, in words.")
@key_option
def attest_command(
    config: Path | None,
    control: str,
    system: str | None,
    org: bool,
    by: str,
    document: str,
    valid_days: int | None,
    statement: str | None,
    key_file: Path | None,
) -> None:
    """Record that a named person vouches for a document serving CONTROL (signed with their
    own key: --key or $AIMS_PERSON_KEY)."""
    check_document(document)
    record = attest(
        control,
        by=by,
        document=document,
        system=system,
        org=org,
        valid_days=valid_days,
        statement=statement,
        config=config if config is not None or _default_config_exists() else None,
        key=key_file,
    )
    scope = f"system {system}" if system else "the organization"
    signed = f"; signed with key {record.signature.split(':')[1]}" if record.signature else ""
    by = record.details["by"]
    click.echo(f"recorded attestation {record.id} for {control} ({scope}) by {by}{signed}")
    facts = record.details.get("aims_document")
    if isinstance(facts, Mapping):
        for problem in document_problems(facts, control=control, by=by):
            click.echo(f"warning: {problem}: it does not count for {control}", err=True)


def _default_config_exists() -> bool:
    return default_config_path().is_file()


@cli.command("sync")
@config_option
def sync_command(config: Path | None) -> None:
    """Upload evidence spooled while the tracking store was unreachable (each record once)."""
    store = make_store(load_optional_config(config))
    report = store.sync(progress=sys.stderr.isatty())
    click.echo(
        f"uploaded {report.uploaded}, already present {report.already_present}, "
        f"failed {report.failed}, still spooled {report.remaining}"
    )
    if report.uploaded:
        click.echo(describe(checkpoint_store(store)))
    for problem in report.errors:
        click.echo(f"  {problem}", err=True)
    if report.failed:
        sys.exit(1)


# -- judgement -------------------------------------------------------------------------------------
@cli.command("summary")
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


@cli.command("status")
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


@cli.command("soa")
@config_option
@format_option("json", "csv", "md", "xlsx")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=check_output,
)
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


@cli.command("risks")
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


@cli.command("verify")
@config_option
@click.argument("pack", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--system", default=None, help="Only this system's records (live store).")
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Verify signatures with this public key (repeatable; default: aims.yaml trust keys).",
)
@trusted_key_option
@click.option(
    "--head",
    "heads",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A checkpoint kept earlier (an audit pack's ledger/checkpoint.json): the store's chain "
    "must still hold it (repeatable).",
)
def verify_command(
    config: Path | None,
    pack: Path | None,
    system: str | None,
    public_keys: tuple[Path, ...],
    trusted_keys: tuple[Path, ...],
    heads: tuple[Path, ...],
) -> None:
    """Verify an audit pack (PACK) or, without one, every record in the live store.

    Signatures are checked with public keys only: --public-key, else those aims.yaml `trust:`
    lists. Without keys the output says the evidence is unsigned."""
    cfg = load_optional_config(config)
    config_ledger = None
    if pack is None and cfg is not None:
        config_ledger, _ = read_ledger(
            make_store(cfg), pinned=pinned_key_ids(trusted_keys or None)
        )
    if public_keys:
        trust = TrustPolicy.from_files([str(p) for p in public_keys], require_signatures=True)
    elif cfg is not None:
        head = config_ledger.head if config_ledger is not None else None
        trust = (
            head.snapshot.policy()
            if head is not None
            else trust_policy(cfg, config or default_config_path())
        )
    else:
        trust = TrustPolicy()
    if pack is not None:
        problems = verify_pack(pack, key=trust)
        if not trust.configured:
            click.echo(f"integrity: {NOTE_PACK_UNVERIFIED}")
        if problems:
            for problem in problems:
                click.echo(problem, err=True)
            sys.exit(1)
        signed = "signature verified" if trust.configured else "signatures not checked"
        click.echo(f"{pack}: every member intact and present ({signed})")
        return
    config_folder = (config or default_config_path()).parent
    documents = DocumentScope.of(config_folder, cfg.documents.roots if cfg is not None else ())
    kept = [load_head(path) for path in heads]
    store = make_store(cfg)
    report = store.verify(system=system, trust=trust, documents=documents)
    ledger = store.verify_ledger(trust=trust, kept_heads=kept)
    ledger_problems = [f.reason for f in ledger.findings] + [
        f"checkpoint {p.record_id}: {p.why}" for p in ledger.problems
    ]
    config_problems = [f.reason for f in (config_ledger.findings if config_ledger else ())]
    for problem in [*report.problems, *ledger_problems, *config_problems]:
        click.echo(problem, err=True)
    if ledger.head is not None:
        click.echo(
            f"ledger: checkpoint {ledger.head.sequence} lists {ledger.listed} records "
            f"(root {ledger.head.root}); {len(ledger_problems)} problems"
        )
    else:
        click.echo("ledger: no checkpoint yet (run `aims checkpoint`)")
    if config_ledger is not None:
        approved = config_ledger.head
        click.echo(
            f"configuration: approved #{approved.sequence} by {approved.by}; chain root key "
            f"{config_ledger.root_key}"
            if approved is not None
            else "configuration: no approved configuration in this store"
        )
    problems = [*report.problems, *ledger_problems, *config_problems]
    click.echo(f"integrity: {trust.note()}")
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(
        f"checked {report.checked} records: {report.intact} intact, {len(problems)} problems"
    )
    if problems:
        sys.exit(1)


@cli.command("demo")
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("aims-demo"),
    show_default=True,
    help="Folder for the local MLflow store, aims.yaml and the sample policy.",
)
@click.option(
    "--fresh",
    is_flag=True,
    help="Remove the store an earlier demo left in the folder (else it gets a new model version).",
)
@click.pass_context
def demo_command(ctx: click.Context, workdir: Path, fresh: bool) -> None:
    """Train on the bundled Adult data with capture on, write an HTML report and show where the
    system stands (steps on stderr, one screen on stdout; ``aims summary`` lists everything)."""
    run_demo(workdir, verbose=bool((ctx.obj or {}).get("verbose")), progress=True, fresh=fresh)


def main() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    cli(prog_name="aims")
