"""The public key files ``trust:`` and ``people:`` list: each must exist and hold an Ed25519
public key.

Checked when aims.yaml is loaded, so a typo'd path is a ``file:line: trust.public_keys[i]``
error like any other field, not a surprise at judgement time. Paths are relative to the folder
of aims.yaml unless absolute.
"""

from __future__ import annotations

from pathlib import Path

from aims_mlops.config._models import AimsConfig, Loc
from aims_mlops.evidence import SigningKeyError, load_public_key
from aims_mlops.evidence._trust import resolve_key_path

ERROR_DUPLICATE_KEY_FILE = "public key {key_id} is listed twice (also at public_keys[{first}])"


def trust_key_problems(config: AimsConfig, *, base_dir: Path) -> list[tuple[Loc, str]]:
    """(location, message) for every listed key file that is missing or not a public key."""
    problems: list[tuple[Loc, str]] = []
    seen: dict[str, int] = {}
    for index, path in enumerate(config.trust.public_keys):
        loc: Loc = ("trust", "public_keys", index)
        try:
            key = load_public_key(resolve_key_path(path, base_dir))
        except SigningKeyError as exc:
            problems.append((loc, str(exc)))
            continue
        if key.key_id in seen:
            problems.append(
                (loc, ERROR_DUPLICATE_KEY_FILE.format(key_id=key.key_id, first=seen[key.key_id]))
            )
        seen.setdefault(key.key_id, index)
    for index, person in enumerate(config.people):
        for position, path in enumerate(person.public_keys):
            loc = ("people", index, "public_keys", position)
            try:
                load_public_key(resolve_key_path(path, base_dir))
            except SigningKeyError as exc:
                problems.append((loc, str(exc)))
    return problems
