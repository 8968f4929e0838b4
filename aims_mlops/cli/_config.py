"""Configuration and getting started: ``aims init`` (a starter aims.yaml with its keys), ``aims
validate``, ``aims demo``, ``aims config approve`` / ``status`` (the configuration counts once
approved) and ``aims risk accept``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from aims_mlops._errors import AimsError
from aims_mlops.capture import accept_risk, approve_configuration, make_store
from aims_mlops.catalog import load_catalog
from aims_mlops.cli._options import (
    ERROR_CONFIG_EXISTS,
    EXIT_USER_ERROR,
    config_option,
    echo_json,
    format_option,
    key_option,
)
from aims_mlops.collectors._data_quality import expectation_problems
from aims_mlops.config import config_digest, default_config_path, load_config
from aims_mlops.config._loader import locate_problems
from aims_mlops.config._starter import write_starter
from aims_mlops.demo import run_demo
from aims_mlops.engine._suppliers import exclusions_against_lineage
from aims_mlops.judgement._configuration import (
    configuration_state,
    pinned_key_ids,
    read_ledger,
)
from aims_mlops.ledger import snapshot_of
from aims_mlops.store import AbsentStore

CONFIG_HELP = """The configuration is evidence: aims.yaml counts for verdicts once a person of
top management approves it (`aims config approve`); `aims config status` lists what the working
copy changes against the last approved configuration."""


# -- aims init | validate | demo ------------------------------------------------------------------
@click.command("init")
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


@click.command("validate")
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


def _lineage_valid(cfg: Any, path: Path) -> bool:
    """The SoA may not exclude a supplier entry (A.10.2, A.10.3) while the store's lineage shows
    third-party data or models: print each such exclusion as ``file:line: field: message``.
    True when none is found, or when there is no store to read (a note says so)."""
    if not any(not d.applicable for d in cfg.soa):
        return True
    store = make_store(cfg, reading=True)
    if isinstance(store, AbsentStore):
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


@click.command("demo")
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


# -- aims config approve | status ----------------------------------------------------------------
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
    ledger, _ = read_ledger(
        make_store(working.config, reading=True), pinned=pinned_key_ids(), working=working
    )
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
    record = accept_risk(risk_id, config_path=config or default_config_path(), key=key_file, by=by)
    click.echo(
        f"recorded the acceptance of risk {risk_id} by {record.details['by']} on "
        f"{record.details['on']}: record {record.id}"
    )


def register(group: click.Group) -> None:
    """Add ``init``, ``validate``, ``demo``, ``config`` and ``risk`` to the ``aims`` group."""
    for command in (init_command, validate_command, demo_command, config_group):
        group.add_command(command)
    group.add_command(risk_group)
