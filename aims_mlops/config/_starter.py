"""A signed-by-default starting point: the example aims.yaml with its keys generated.

``aims init`` and ``aims demo`` call :func:`write_starter`: it generates the pipeline key pair
(``.aims/keys/pipeline.key`` / ``.pub``) and a key pair for every person the example declares
under ``.aims/keys/`` beside aims.yaml (private keys mode 0600, a ``.gitignore`` there covering
``*.key``), and writes the example with its ``trust:`` and ``people:`` blocks filled in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from aims_mlops._files import write_atomically
from aims_mlops.config._loader import example_config_text, load_config, parse_config
from aims_mlops.config._models import ROLE_TOP_MANAGEMENT
from aims_mlops.evidence._signing import KEYS_DIR, generate_key_pair
from aims_mlops.ledger import key_paths

#: The lines of the example between these markers are the commented trust: and people: blocks.
KEYS_BEGIN = "# >>> keys"
KEYS_END = "# <<< keys"
#: What the .gitignore beside the keys says: private keys never enter version control.
GITIGNORE_TEXT = "# private keys stay out of version control\n*.key\n"


@dataclass(frozen=True, kw_only=True)
class Starter:
    """What :func:`write_starter` wrote: aims.yaml, the key pairs (public path -> key id)."""

    config_path: Path
    keys: dict[str, str] = field(default_factory=dict)
    private_keys: dict[str, Path] = field(default_factory=dict)
    gitignore: Path | None = None
    #: the person of top management the example names, and their private key file
    approver: str = ""
    approver_key: Path | None = None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _with_people_keys(text: str) -> str:
    """Each ``people:`` entry (``  - name: X``) given ``public_keys: [.aims/keys/<x>.pub]``."""
    out: list[str] = []
    inside = False
    for line in text.splitlines(keepends=True):
        if line.startswith("people:"):
            inside = True
        elif inside and line.strip() and not line.startswith((" ", "#")):
            inside = False
        out.append(line)
        found = re.match(r"^  - name: (.+?)\s*$", line) if inside else None
        if found:
            key = f"{KEYS_DIR}/{_slug(found.group(1))}.pub"
            out.append(f"    public_keys: [{key}]\n")
    return "".join(out)


def starter_text(text: str | None = None) -> str:
    """The example (or ``text``) with the blocks between the key markers uncommented and a
    key for every person."""
    lines = (text if text is not None else example_config_text()).splitlines(keepends=True)
    out: list[str] = []
    inside = False
    for line in lines:
        stripped = line.rstrip("\n")
        if stripped == KEYS_BEGIN:
            inside = True
            continue
        if stripped == KEYS_END:
            inside = False
            continue
        if inside:
            if stripped == "#":
                out.append("\n")
            elif stripped.startswith("# "):
                out.append(line[2:])
            else:
                out.append(line)
        else:
            out.append(line)
    return _with_people_keys("".join(out))


def private_key_path(public: Path) -> Path:
    """``x.pub`` -> ``x.key``."""
    return public.with_suffix(".key")


def write_starter(config_path: str | Path, *, force: bool = False) -> Starter:
    """Generate the keys and write the starter aims.yaml at ``config_path`` (see the module
    docstring). :class:`~aims_mlops.evidence.SigningKeyError` when a key file exists (unless
    ``force``)."""
    path = Path(config_path)
    folder = path.parent
    text = starter_text()
    config = parse_config(text, source=str(path), check_key_files=False)
    keys: dict[str, str] = {}
    private: dict[str, Path] = {}
    for public in key_paths(config):
        public_path = folder / public
        secret = private_key_path(public_path)
        key = generate_key_pair(secret, public_path, force=force)
        keys[public] = key.key_id
        private[public] = secret
    gitignore = folder / KEYS_DIR / ".gitignore"
    gitignore.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(gitignore, GITIGNORE_TEXT)
    write_atomically(path, text)
    top = config.people_with_role(ROLE_TOP_MANAGEMENT)
    approver = top[0] if top else None
    return Starter(
        config_path=path,
        keys=keys,
        private_keys=private,
        gitignore=gitignore,
        approver=approver.name if approver else "",
        approver_key=private.get(approver.public_keys[0]) if approver else None,
    )


def person_key_file(config_path: str | Path, name: str) -> Path:
    """The private key file the starter generated for the person ``name``."""
    path = Path(config_path)
    config = load_config(path)
    for person in config.people:
        if person.name == name and person.public_keys:
            return private_key_path(path.parent / person.public_keys[0])
    raise KeyError(name)
