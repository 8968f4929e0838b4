"""Signed, approved workspaces for tests that judge with a real store (issue 23: verdicts count
with an approved configuration and signed evidence)."""

from __future__ import annotations

from pathlib import Path

from aims_mlops.evidence import SigningKey
from aims_mlops.evidence._signing import generate_key_pair

KEYS = ".aims/keys"


def approved_workspace(
    folder: Path,
    config_text: str,
    *,
    approver: str = "Dana Smith",
    people: tuple[str, ...] = (),
    store: object | None = None,
) -> SigningKey:
    """Write ``config_text`` to ``folder/aims.yaml`` with a pipeline key (``trust:``) and keys
    for ``approver`` (role top_management) and ``people`` under ``.aims/keys``, approve it, and
    return the pipeline key (also found by capture beside aims.yaml)."""
    from aims_mlops.capture import approve_configuration

    pipeline = generate_key_pair(folder / KEYS / "pipeline.key", folder / KEYS / "pipeline.pub")
    lines = [f"trust: {{public_keys: [{KEYS}/pipeline.pub]}}", "people:"]
    for index, name in enumerate((approver, *people)):
        stem = f"person{index}"
        generate_key_pair(folder / KEYS / f"{stem}.key", folder / KEYS / f"{stem}.pub")
        roles = "[top_management]" if index == 0 else "[]"
        lines.append(
            f"  - {{name: {name}, roles: {roles}, public_keys: [{KEYS}/{stem}.pub]}}"
        )
    path = folder / "aims.yaml"
    path.write_text(config_text.rstrip("\n") + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    approve_configuration(
        config_path=path,
        by=approver,
        key=folder / KEYS / "person0.key",
        store=store,  # type: ignore[arg-type]
    )
    return pipeline


def person_key(folder: Path, index: int = 0) -> Path:
    """The private key file of the approver (0) or of ``people[index - 1]``."""
    return folder / KEYS / f"person{index}.key"
