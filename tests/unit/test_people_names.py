"""Names that act are people listed in aims.yaml ``people:`` whenever it is declared, with or
without public keys: ``--auditor``, ``--chair`` and ``--by`` included."""

from __future__ import annotations

from pathlib import Path

import pytest

from aims_mlops.capture._acts import ERROR_NOT_LISTED, PersonKeyError, act_signing_key
from aims_mlops.config import parse_config
from aims_mlops.evidence._signing import ENV_PERSON_KEY, ENV_SIGNING_KEY

CONFIG = """\
version: 1
organization: {name: Acme, policy_owner: Jane Doe}
people:
  - {name: Jane Doe, roles: [top_management]}
  - {name: Ann Audit, roles: [internal_auditor]}
systems:
  - id: scorer
    name: Scorer
    owner: Jane Doe
    intended_use: Score applicants
    lifecycle_stage: development
"""


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_PERSON_KEY, raising=False)
    monkeypatch.delenv(ENV_SIGNING_KEY, raising=False)


def test_an_act_by_someone_not_listed_is_refused_without_keys(tmp_path: Path) -> None:
    config = parse_config(CONFIG, source=str(tmp_path / "aims.yaml"))
    with pytest.raises(PersonKeyError) as caught:
        act_signing_key(config, config_path=tmp_path / "aims.yaml", by="Zed Typed")
    assert str(caught.value) == ERROR_NOT_LISTED.format(
        name="Zed Typed", known="Jane Doe, Ann Audit"
    )
    name, key = act_signing_key(
        config, config_path=tmp_path / "aims.yaml", by="Ann Audit (internal audit)"
    )
    assert (name, key) == ("Ann Audit", None)  # the listed name; unsigned without keys


def test_without_people_a_name_is_taken_as_given(tmp_path: Path) -> None:
    text = CONFIG.replace(
        "people:\n  - {name: Jane Doe, roles: [top_management]}\n"
        "  - {name: Ann Audit, roles: [internal_auditor]}\n",
        "",
    )
    config = parse_config(text, source=str(tmp_path / "aims.yaml"))
    assert act_signing_key(config, config_path=tmp_path / "aims.yaml", by="Zed Typed") == (
        "Zed Typed",
        None,
    )
