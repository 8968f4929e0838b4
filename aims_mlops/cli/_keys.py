"""``aims keys generate``: an Ed25519 key pair for signing evidence and audit packs."""

from __future__ import annotations

from pathlib import Path

import click

from aims_mlops._errors import AimsError
from aims_mlops.evidence import PRIVATE_KEY_NAME, PUBLIC_KEY_NAME, generate_keys

ERROR_CANNOT_WRITE = "cannot write keys to {dir}: {error}"
KEYS_HELP = """Signing keys: pipelines sign evidence with the private key ($AIMS_SIGNING_KEY names
its file, else .aims/keys/pipeline.key beside aims.yaml); aims.yaml `trust: {public_keys: [...]}`
lists the public keys whose records count. People sign their own acts with their own keys
(`people: [{name, roles, public_keys}]`; `--key FILE` or $AIMS_PERSON_KEY; OpenSSH ed25519 keys
work too)."""


@click.group("keys", help=KEYS_HELP)
def keys_group() -> None:
    """Signing keys."""


@keys_group.command("generate")
@click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for aims-signing.key (private, mode 0600) and aims-signing.pub.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing key pair.")
def generate_command(directory: Path, force: bool) -> None:
    """Write a new Ed25519 key pair (PEM) to DIR."""
    try:
        key = generate_keys(directory, force=force)
    except OSError as exc:
        error = ERROR_CANNOT_WRITE.format(dir=directory, error=exc.strerror or exc)
        raise AimsError(error) from exc
    private, public = directory / PRIVATE_KEY_NAME, directory / PUBLIC_KEY_NAME
    click.echo(f"wrote {private} (private, mode 0600) and {public}; key id {key.key_id}")
    click.echo(
        f"sign in pipelines with AIMS_SIGNING_KEY={private}; trust it in aims.yaml with "
        f"`trust: {{public_keys: [{public}]}}`; keep the private key out of version control"
    )


def register(group: click.Group) -> None:
    group.add_command(keys_group)
