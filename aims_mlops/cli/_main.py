"""The ``aims`` command line: the compliance team's view of the AI management system."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from aims_mlops._errors import AimsError
from aims_mlops._escape import md_escape, spreadsheet_cell
from aims_mlops._files import write_atomically
from aims_mlops.engine._documents import document_problems
from aims_mlops.presentation import percent

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USER_ERROR = 2
ERROR_CONFIG_EXISTS = "{path} already exists; pass --force to overwrite it"
ERROR_OUTPUT_NO_FOLDER = "cannot write {path}: the folder {folder} does not exist"
ERROR_OUTPUT_NOT_FOLDER = "cannot write {path}: {folder} is not a folder"
ERROR_OUTPUT_READ_ONLY = "cannot write {path}: the folder {folder} is not writable"
ERROR_DOCUMENT_UNREADABLE = "cannot read the document {path}: {error}"
ERROR_FILE_SYSTEM = "{filename}: {error}"
NOTE_PACK_UNVERIFIED = (
    "no public key given (--public-key or aims.yaml trust:): signatures are checked only when "
    "the pack's own config/aims.yaml lists trusted keys; otherwise the member hashes show the "
    "pack is unchanged since it was built, not who built it"
)
#: The environment variable MLflow reads its log level from when it is imported.
MLFLOW_LOGGING_LEVEL = "MLFLOW_LOGGING_LEVEL"
#: MLflow's level when the CLI runs without ``-v`` (its INFO lines are about its own tables).
QUIET_MLFLOW_LEVEL = "WARNING"

_quieted_mlflow = False


def set_mlflow_verbosity(*, verbose: bool) -> None:
    """Quiet MLflow's own logging (WARNING and above) unless ``verbose``; a level the user set
    in ``$MLFLOW_LOGGING_LEVEL`` is left alone either way."""
    global _quieted_mlflow
    if verbose:
        if _quieted_mlflow:
            os.environ.pop(MLFLOW_LOGGING_LEVEL, None)
            _quieted_mlflow = False
            if "mlflow" in sys.modules:
                logging.getLogger("mlflow").setLevel(logging.INFO)
        return
    if os.environ.get(MLFLOW_LOGGING_LEVEL) and not _quieted_mlflow:
        return
    os.environ[MLFLOW_LOGGING_LEVEL] = QUIET_MLFLOW_LEVEL  # read when mlflow is first imported
    _quieted_mlflow = True
    if "mlflow" in sys.modules:
        logging.getLogger("mlflow").setLevel(QUIET_MLFLOW_LEVEL)


class AimsGroup(click.Group):
    """Turns every domain error into one clear line on stderr and exit status 2 (a file the
    command cannot read or write, too: an ``OSError`` that names its file).

    Commands run inside :func:`~aims_mlops.capture.records_must_be_kept`: a record that neither
    the store nor the spool could take is an error, never reported as recorded."""

    def invoke(self, ctx: click.Context) -> Any:
        from aims_mlops.capture._emit import records_must_be_kept

        try:
            with records_must_be_kept():
                return super().invoke(ctx)
        except AimsError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_USER_ERROR)
        except OSError as exc:
            if exc.filename is None:
                raise
            error = exc.strerror or type(exc).__name__
            click.echo(
                f"error: {ERROR_FILE_SYSTEM.format(filename=exc.filename, error=error)}", err=True
            )
            ctx.exit(EXIT_USER_ERROR)


def check_output(
    ctx: click.Context | None, param: click.Parameter | None, value: Path | None
) -> Path | None:
    """An ``-o`` path must lie in an existing, writable folder (checked before any work)."""
    if value is None:
        return None
    folder = value.parent if str(value.parent) else Path(".")
    if not folder.exists():
        raise AimsError(ERROR_OUTPUT_NO_FOLDER.format(path=value, folder=folder))
    if not folder.is_dir():
        raise AimsError(ERROR_OUTPUT_NOT_FOLDER.format(path=value, folder=folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise AimsError(ERROR_OUTPUT_READ_ONLY.format(path=value, folder=folder))
    return value


def check_document(document: str) -> None:
    """A local document given to ``aims attest`` must be readable (a URL is not checked)."""
    path = Path(document)
    try:
        if not path.is_file():
            return  # a URL or a name: the attestation records it as given
        with path.open("rb") as handle:
            handle.read(1)
    except (OSError, ValueError) as exc:
        error = getattr(exc, "strerror", None) or str(exc)
        raise AimsError(ERROR_DOCUMENT_UNREADABLE.format(path=document, error=error)) from exc


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="aims.yaml to use (default: $AIMS_CONFIG, else ./aims.yaml).",
    )(func)


def as_of_option(func: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        metavar="DATE|TIMESTAMP",
        help="Re-perform the verdict as of then: only records collected by then count (a date: "
        "the end of that day, UTC); registry aliases are approximated (MLflow keeps no history).",
    )(func)


def key_option(func: F) -> F:
    """``--key FILE``: the private key a person signs their own act with."""
    return click.option(
        "--key",
        "key_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Your own private key (PEM or OpenSSH ed25519; default: $AIMS_PERSON_KEY); a "
        "person's act is never signed with the pipeline key.",
    )(func)


def draft_option(func: F) -> F:
    return click.option(
        "--draft",
        is_flag=True,
        help="Judge with the working copy of aims.yaml instead of the approved configuration "
        "(every output says DRAFT).",
    )(func)


def trusted_key_option(func: F) -> F:
    return click.option(
        "--trusted-key",
        "trusted_keys",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="A public key the approval chain's first approval must be signed with, pinned "
        "from outside the repository (repeatable; default: $AIMS_TRUSTED_KEYS).",
    )(func)


def echo_configuration(judgement: Any, *, err: bool = False) -> None:
    """Which configuration the verdict used: DRAFT, the approval, the unapproved changes."""
    state = getattr(judgement, "configuration", None)
    for line in state.lines() if state is not None else ():
        click.echo(line, err=err)


def echo_reperformance(judgement: Any) -> None:
    """On stderr, for a verdict re-performed ``--as-of``: the moment, the evidence digest and
    what was approximated (stdout stays the verdict itself)."""
    if judgement.as_of is None:
        return
    click.echo(
        f"as of {judgement.as_of}: {len(judgement.records)} records, evidence digest "
        f"{judgement.evidence_digest}",
        err=True,
    )
    for note in judgement.approximations:
        click.echo(f"  approximated: {note}", err=True)


def format_option(*choices: str, default: str | None = None) -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default or choices[0],
        show_default=True,
        help="Output format.",
    )


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Plain fixed-width table (no dependency; fine for terminals and logs)."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.2f}"
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return "" if value is None else str(value)

    body = [[cell(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col), *(len(r[i]) for r in body)]) for i, col in enumerate(columns)]
    lines = ["  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in body)
    return "\n".join(line.rstrip() for line in lines)


def render_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV of ``rows``; a text a spreadsheet would evaluate as a formula is neutralized."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: spreadsheet_cell("; ".join(map(str, v)) if isinstance(v, list | tuple) else v)
                for k, v in row.items()
            }
        )
    return buffer.getvalue()


def render_markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A Markdown table of ``rows`` (cells escaped: no HTML, no links)."""

    def cell(value: Any) -> str:
        if isinstance(value, list | tuple):
            value = ", ".join(map(str, value))
        return md_escape(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines.extend("| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows)
    return "\n".join(lines)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


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
    from aims_mlops.config import default_config_path
    from aims_mlops.config._starter import write_starter

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
    from aims_mlops.config import config_digest, default_config_path, load_config

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
        if not _expectations_valid(cfg, path):
            invalid += 1
            continue
        systems = len(cfg.systems)
        click.echo(
            f"{path}: valid ({systems} system{'s' * (systems != 1)}, {len(cfg.risks)} risks, "
            f"{len(cfg.soa)} SoA decisions; digest {config_digest(cfg)[:12]})"
        )
    if invalid:
        ctx.exit(EXIT_USER_ERROR)


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

    from aims_mlops.config._loader import locate_problems

    with warnings.catch_warnings():  # GE's optional back ends warn about their own versions
        warnings.simplefilter("ignore", FutureWarning)
        from aims_mlops.collectors._data_quality import expectation_problems

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
    from aims_mlops.catalog import load_catalog

    if framework is not None:
        from aims_mlops.cli._euaiact import catalog_framework

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
    from aims_mlops.capture import attest

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
    from aims_mlops.config import default_config_path

    return default_config_path().is_file()


@cli.command("sync")
@config_option
def sync_command(config: Path | None) -> None:
    """Upload evidence spooled while the tracking store was unreachable (each record once)."""
    from aims_mlops.capture import make_store

    store = make_store(_load_optional_config(config))
    report = store.sync(progress=sys.stderr.isatty())
    click.echo(
        f"uploaded {report.uploaded}, already present {report.already_present}, "
        f"failed {report.failed}, still spooled {report.remaining}"
    )
    if report.uploaded:
        from aims_mlops.cli._ledger import checkpoint_store, describe

        click.echo(describe(checkpoint_store(store)))
    for problem in report.errors:
        click.echo(f"  {problem}", err=True)
    if report.failed:
        sys.exit(1)


def _load_optional_config(config: Path | None) -> Any:
    from aims_mlops.config import default_config_path, load_config

    path = config or default_config_path()
    if config is None and not path.is_file():
        return None
    return load_config(path)


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
    from aims_mlops.judgement import judge, summary_json
    from aims_mlops.judgement._integrity import integrity_lines
    from aims_mlops.presentation import listing_text

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
    from aims_mlops.engine import status_rows
    from aims_mlops.judgement import judge

    if framework is not None:
        from aims_mlops.cli._euaiact import status_framework

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
    from aims_mlops.reports._lifecycle import pilot_note

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
    from aims_mlops.engine import soa_rows
    from aims_mlops.judgement import judge

    rows = soa_rows(judge(config=config).assessment)
    if fmt == "xlsx":
        from aims_mlops.reports import soa_workbook

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
    from aims_mlops.engine import risk_rows
    from aims_mlops.judgement import judge

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
    from aims_mlops.evidence import TrustPolicy

    cfg = _load_optional_config(config)
    config_ledger = None
    if pack is None and cfg is not None:
        from aims_mlops.capture import make_store
        from aims_mlops.judgement._configuration import pinned_key_ids, read_ledger

        config_ledger, _ = read_ledger(
            make_store(cfg), pinned=pinned_key_ids(trusted_keys or None)
        )
    if public_keys:
        trust = TrustPolicy.from_files([str(p) for p in public_keys], require_signatures=True)
    elif cfg is not None:
        from aims_mlops.config import default_config_path
        from aims_mlops.judgement._integrity import trust_policy

        head = config_ledger.head if config_ledger is not None else None
        trust = (
            head.snapshot.policy()
            if head is not None
            else trust_policy(cfg, config or default_config_path())
        )
    else:
        trust = TrustPolicy()
    if pack is not None:
        from aims_mlops.reports import verify_pack

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
    from aims_mlops.capture import make_store
    from aims_mlops.cli._ledger import load_head
    from aims_mlops.config import default_config_path
    from aims_mlops.evidence._documents import DocumentScope

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
    from aims_mlops.demo import run_demo

    run_demo(workdir, verbose=bool((ctx.obj or {}).get("verbose")), progress=True, fresh=fresh)


def main() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    cli(prog_name="aims")
