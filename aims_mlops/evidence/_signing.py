"""Ed25519 keys: what pipelines sign with and what auditors verify with.

Key files are PEM: the private key PKCS#8 (``aims-signing.key``, mode 0600), the public key
SubjectPublicKeyInfo (``aims-signing.pub``), so ``openssl pkey`` reads both. A key's id is the
first 16 hex digits of the SHA-256 of the raw 32-byte public key. A signature is written as
``ed25519:<key id>:<base64 signature of the record's content hash>``: it names the key that made
it, and only the holder of the private key can make one; the public key only checks it.

``$AIMS_SIGNING_KEY`` names the private key FILE pipelines sign with; it is read in this one
place (:func:`signing_key_from_env`). ``cryptography`` is imported on first use, never by
``import aims_mlops``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aims_mlops._errors import AimsError

#: The environment variable naming the private key file records and packs are signed with.
ENV_SIGNING_KEY = "AIMS_SIGNING_KEY"
#: The environment variable naming the private key file a person signs their own acts with.
ENV_PERSON_KEY = "AIMS_PERSON_KEY"
#: Where ``aims init`` and ``aims demo`` keep keys, beside aims.yaml.
KEYS_DIR = ".aims/keys"
#: The pipeline's key pair in :data:`KEYS_DIR`.
PIPELINE_KEY_NAME = "pipeline.key"
PIPELINE_PUBLIC_NAME = "pipeline.pub"
WHAT_PERSON_KEY = f"--key (or ${ENV_PERSON_KEY})"
#: File names ``aims keys generate`` writes.
PRIVATE_KEY_NAME = "aims-signing.key"
PUBLIC_KEY_NAME = "aims-signing.pub"
#: The algorithm tag that starts every signature.
SIGNATURE_SCHEME = "ed25519"
KEY_ID_HEX = 16

ERROR_KEY_MISSING = "{what} {path}: no such file"
ERROR_KEY_UNREADABLE = "{what} {path}: cannot read the file: {error}"
ERROR_NOT_A_PRIVATE_KEY = (
    "{what} {path}: not an unencrypted Ed25519 private key in PEM or OpenSSH format (run "
    "`aims keys generate --dir DIR`, or `ssh-keygen -t ed25519 -N ''`)"
)
ERROR_NOT_A_PUBLIC_KEY = (
    "public key {path}: not an Ed25519 public key in PEM or OpenSSH format (the "
    "aims-signing.pub that `aims keys generate` writes, or an ssh-ed25519 .pub line)"
)
ERROR_KEY_PERMISSIONS = (
    "{what} {path} is readable by {who} (mode {mode:o}): a private key must be its owner's "
    "alone; run `chmod 600 {path}`"
)
ERROR_KEY_EXISTS = "{path} already exists; pass --force to overwrite it"
#: How the error messages name the file of ``$AIMS_SIGNING_KEY``.
WHAT_ENV_KEY = f"${ENV_SIGNING_KEY}"
WHAT_PRIVATE_KEY = "private key"


class SigningKeyError(AimsError):
    """A key file is missing, unreadable or not an Ed25519 key."""


def key_id_of(raw_public: bytes) -> str:
    """The id of a public key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    return hashlib.sha256(raw_public).hexdigest()[:KEY_ID_HEX]


def parse_signature(signature: Any) -> tuple[str, bytes] | None:
    """``(key id, signature bytes)`` of a signature string; None when it is not one of ours."""
    if not isinstance(signature, str):
        return None
    scheme, _, rest = signature.partition(":")
    key_id, _, encoded = rest.partition(":")
    if scheme != SIGNATURE_SCHEME or len(key_id) != KEY_ID_HEX or not encoded:
        return None
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return (key_id, raw) if len(raw) == 64 else None


@dataclass(frozen=True, kw_only=True)
class PublicKey:
    """An Ed25519 public key: checks signatures, cannot make them."""

    key_id: str
    raw: bytes = field(repr=False)
    source: str = ""

    def verify(self, content_hash: str, signature: Any) -> bool:
        """True when ``signature`` is this key's signature of ``content_hash``."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        parsed = parse_signature(signature)
        if parsed is None or parsed[0] != self.key_id or not isinstance(content_hash, str):
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(
                parsed[1], content_hash.encode("utf-8")
            )
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, kw_only=True)
class SigningKey:
    """An Ed25519 private key (held by a pipeline): makes signatures."""

    key_id: str
    private: Any = field(repr=False, compare=False)
    source: str = ""

    @property
    def public_key(self) -> PublicKey:
        return PublicKey(key_id=self.key_id, raw=_raw_public(self.private), source=self.source)

    def sign(self, content_hash: str) -> str:
        """``ed25519:<key id>:<base64 signature>`` of ``content_hash``."""
        raw = self.private.sign(content_hash.encode("utf-8"))
        return f"{SIGNATURE_SCHEME}:{self.key_id}:{base64.b64encode(raw).decode('ascii')}"


def _raw_public(private: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _read(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise SigningKeyError(ERROR_KEY_MISSING.format(what=what, path=path))
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(
            ERROR_KEY_UNREADABLE.format(what=what, path=path, error=exc.strerror or exc)
        ) from exc


#: How an OpenSSH private key file starts (``ssh-keygen -t ed25519`` writes this format).
_OPENSSH_PRIVATE = b"-----BEGIN OPENSSH PRIVATE KEY-----"
#: How an OpenSSH public key line starts.
_OPENSSH_PUBLIC = b"ssh-ed25519 "


def _check_private_mode(file: Path, what: str) -> None:
    """Refuse a private key file that group or others may read or write (as ssh does)."""
    if os.name != "posix":
        return
    mode = stat.S_IMODE(file.stat().st_mode)
    if mode & 0o077:
        who = (
            "group and others"
            if mode & 0o070 and mode & 0o007
            else ("its group" if mode & 0o070 else "others")
        )
        raise SigningKeyError(
            ERROR_KEY_PERMISSIONS.format(what=what, path=file, who=who, mode=mode)
        )


def load_signing_key(path: str | os.PathLike[str], *, what: str = WHAT_PRIVATE_KEY) -> SigningKey:
    """The private key in the file ``path`` (PKCS#8 PEM, or an unencrypted OpenSSH ed25519 key
    as ``ssh-keygen`` writes it); :class:`SigningKeyError` otherwise."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    file = Path(path)
    data = _read(file, what)
    try:
        if data.lstrip().startswith(_OPENSSH_PRIVATE):
            private = serialization.load_ssh_private_key(data, password=None)
        else:
            private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(ERROR_NOT_A_PRIVATE_KEY.format(what=what, path=file)) from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(ERROR_NOT_A_PRIVATE_KEY.format(what=what, path=file))
    _check_private_mode(file, what)
    return SigningKey(key_id=key_id_of(_raw_public(private)), private=private, source=str(file))


def load_public_key(path: str | os.PathLike[str]) -> PublicKey:
    """The public key in the file ``path`` (SubjectPublicKeyInfo PEM, or an OpenSSH
    ``ssh-ed25519 AAAA... comment`` line); :class:`SigningKeyError` otherwise."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    file = Path(path)
    data = _read(file, "public key")
    try:
        if data.lstrip().startswith(_OPENSSH_PUBLIC):
            public = serialization.load_ssh_public_key(data.strip())
        else:
            public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(ERROR_NOT_A_PUBLIC_KEY.format(path=file)) from exc
    if not isinstance(public, Ed25519PublicKey):
        raise SigningKeyError(ERROR_NOT_A_PUBLIC_KEY.format(path=file))
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PublicKey(key_id=key_id_of(raw), raw=raw, source=str(file))


def new_signing_key() -> SigningKey:
    """A fresh Ed25519 private key held in memory only (tests, benchmarks, one-off signing)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    return SigningKey(key_id=key_id_of(_raw_public(private)), private=private)


def generate_keys(directory: str | os.PathLike[str], *, force: bool = False) -> SigningKey:
    """Write a new key pair to ``directory``: ``aims-signing.key`` (mode 0600) and
    ``aims-signing.pub``. :class:`SigningKeyError` when either exists (unless ``force``)."""
    folder = Path(directory)
    return generate_key_pair(
        folder / PRIVATE_KEY_NAME, folder / PUBLIC_KEY_NAME, force=force
    )


def generate_key_pair(
    private_path: str | os.PathLike[str],
    public_path: str | os.PathLike[str],
    *,
    force: bool = False,
) -> SigningKey:
    """Write a new key pair: the private key (PKCS#8 PEM, mode 0600) at ``private_path``, the
    public key (PEM) at ``public_path``, creating their folder. :class:`SigningKeyError` when
    either exists (unless ``force``)."""
    from cryptography.hazmat.primitives import serialization

    private_path, public_path = Path(private_path), Path(public_path)
    for path in (private_path, public_path):
        if path.exists() and not force:
            raise SigningKeyError(ERROR_KEY_EXISTS.format(path=path))
    private_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    private = new_signing_key().private
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path.unlink(missing_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(private_path, 0o600)
    public_path.write_bytes(public_pem)
    return SigningKey(
        key_id=key_id_of(_raw_public(private)), private=private, source=str(private_path)
    )


def default_pipeline_key_path(config_dir: str | os.PathLike[str]) -> Path:
    """``.aims/keys/pipeline.key`` beside aims.yaml (in ``config_dir``)."""
    return Path(config_dir) / KEYS_DIR / PIPELINE_KEY_NAME


def pipeline_key(config_dir: str | os.PathLike[str] | None) -> SigningKey | None:
    """The key pipelines sign captured evidence with: the file ``$AIMS_SIGNING_KEY`` names, else
    ``.aims/keys/pipeline.key`` beside aims.yaml when it exists, else None."""
    found = signing_key_from_env()
    if found is not None or config_dir is None:
        return found
    path = default_pipeline_key_path(config_dir)
    return load_signing_key(path) if path.is_file() else None


def person_key(path: str | os.PathLike[str] | None) -> SigningKey | None:
    """The key a person signs their own act with: ``path`` (``--key``), else the file
    ``$AIMS_PERSON_KEY`` names, else None."""
    value = str(path) if path is not None else os.environ.get(ENV_PERSON_KEY, "").strip()
    if not value:
        return None
    return load_signing_key(value, what=WHAT_PERSON_KEY if path is None else "--key")


def signing_key_from_env() -> SigningKey | None:
    """The private key in the file ``$AIMS_SIGNING_KEY`` names; None when unset or empty;
    :class:`SigningKeyError` when the file is missing, unreadable or not a key."""
    value = os.environ.get(ENV_SIGNING_KEY, "").strip()
    if not value:
        return None
    return load_signing_key(value, what=WHAT_ENV_KEY)
