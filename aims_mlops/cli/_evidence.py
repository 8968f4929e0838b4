"""Evidence in and checked: ``aims attest`` (a person vouches, signed with their own key),
``aims sync`` (what was spooled) and ``aims verify`` (a pack or the live store)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import click

from aims_mlops.capture import attest, make_store
from aims_mlops.cli._options import (
    NOTE_PACK_UNVERIFIED,
    check_document,
    checkpoint_store,
    config_option,
    describe,
    echo_absent,
    key_option,
    load_head,
    load_optional_config,
    trusted_key_option,
)
from aims_mlops.config import default_config_path
from aims_mlops.engine._documents import document_problems
from aims_mlops.evidence import TrustPolicy
from aims_mlops.evidence._documents import DocumentScope
from aims_mlops.judgement._configuration import pinned_key_ids, read_ledger
from aims_mlops.judgement._integrity import trust_policy
from aims_mlops.reports import verify_pack


@click.command("attest")
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


@click.command("sync")
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


@click.command("verify")
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
            make_store(cfg, reading=True), pinned=pinned_key_ids(trusted_keys or None)
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
    store = make_store(cfg, reading=True)
    echo_absent(store)
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


def register(group: click.Group) -> None:
    """Add ``attest``, ``sync`` and ``verify`` to the ``aims`` command group."""
    for command in (attest_command, sync_command, verify_command):
        group.add_command(command)
