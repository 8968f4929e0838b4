"""From start to certification over a real local MLflow store: the inventory finds an undeclared
registered model and 4.3 fails naming it; the document set is written, attested and judged; the
training and acknowledgement records and the derived entries come from records in the store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from aims_mlops.cli import cli
from aims_mlops.config import example_config_text, load_config
from aims_mlops.evidence import generate_keys
from aims_mlops.judgement import judge

pytestmark = pytest.mark.slow

SYSTEM = "income-classifier"
PEOPLE = """
people:
  - {name: Dana Smith, roles: [top_management]}
  - {name: Ali Khan, roles: [internal_auditor]}
"""


#: an SoA exclusion of suppliers, as an organization with no third party would write it
A103_EXCLUDED = (
    "  - control: A.10.3\n    applicable: false\n    justification: >-\n"
    "      Models are built in-house; no AI supplier contributes to the in-scope system.\n"
)

EXAMPLE_PEOPLE = (
    "people:\n  - name: Chief Executive\n    roles: [top_management]\n"
    "  - name: Chief Risk Officer\n    roles: [top_management]\n"
    "  - name: Head of Internal Audit\n    roles: [internal_auditor]\n"
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def verdict(entry: str) -> object:
    return judge(config="aims.yaml").assessment.systems[SYSTEM].control(entry)


def derived_part(entry: str) -> object:
    return next(p for p in verdict(entry).parts if p.kind == "derived")  # type: ignore[attr-defined]


@pytest.fixture
def workspace(isolated_mlflow: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AIMS_SIGNING_KEY", raising=False)
    monkeypatch.delenv("AIMS_CONFIG", raising=False)
    # the bare example (no keys: names are typed); `aims init` now also writes key pairs
    config = tmp_path / "aims.yaml"
    config.write_text(example_config_text(), encoding="utf-8")
    # these tests' own people next to the example's (whose names the example's owners use)
    text = config.read_text()
    assert EXAMPLE_PEOPLE in text
    ours = PEOPLE.lstrip("\n") + EXAMPLE_PEOPLE.split("people:\n")[1]
    config.write_text(text.replace(EXAMPLE_PEOPLE, ours))
    return tmp_path


def test_an_undeclared_registered_model_fails_scope_and_is_in_the_inventory(
    workspace: Path,
) -> None:
    from mlflow import MlflowClient

    MlflowClient().create_registered_model("shadow-scorer")
    code, out, err = invoke("inventory", "--format", "json")
    assert code == 0, err
    items = {i["name"]: i for i in json.loads(out)["items"]}
    assert items["shadow-scorer"]["declared"] is False
    assert items["shadow-scorer"]["kind"] == "registered_model"
    assert items[SYSTEM]["declared"] is True and items[SYSTEM]["system"] == SYSTEM
    code, out, _ = invoke("inventory")
    assert "declared by no system: shadow-scorer" in out

    scope = verdict("4.3")
    assert scope.status == "failing"  # type: ignore[attr-defined]
    assert "shadow-scorer" in " ".join(scope.reasons)  # type: ignore[attr-defined]

    code, out, _ = invoke("lifecycle", "--format", "json")
    assert code == 0
    view = json.loads(out)
    assert any(a["entry"] == "4.3" for a in view["next"])

    config = workspace / "aims.yaml"
    config.write_text(
        config.read_text().replace(
            "\nrisks:",
            "\n  - id: shadow-scorer\n    name: Shadow scorer\n    owner: Dana Smith\n"
            "    intended_use: an experiment of the data team\n    lifecycle_stage: design\n"
            "    in_scope: false\n    scope_reason: a research prototype never used on customers\n"
            "    mlflow: {registered_model: shadow-scorer}\n\nrisks:",
            1,
        )
    )
    assert verdict("4.3").status == "satisfied"  # type: ignore[attr-defined]
    code, out, _ = invoke("inventory", "--format", "json")
    items = {i["name"]: i for i in json.loads(out)["items"]}
    assert items["shadow-scorer"] == {
        "kind": "registered_model",
        "name": "shadow-scorer",
        "count": 0,
        "declared": True,
        "system": "shadow-scorer",
        "in_scope": False,
        "reason": "a research prototype never used on customers",
    }


def complete(path: Path) -> None:
    path.write_text(re.sub(r"\[TO COMPLETE[^\]]*\]", "Written by the team.", path.read_text()))


def test_documents_attested_and_records_judged_in_a_real_store(workspace: Path) -> None:
    code, out, err = invoke("docs", "init", "--dir", "docs")
    assert code == 0, err
    assert "wrote 27 documents to docs" in out
    policy = workspace / "docs" / "ai-policy.md"

    code, _, err = invoke("attest", "5.2", "--org", "--by", "Dana Smith", "--document", str(policy))
    assert code == 0, err
    assert "AIMS-05 still holds" in err and "it does not count for 5.2" in err
    assert verdict("5.2").status == "missing"  # type: ignore[attr-defined]

    complete(policy)
    # the AI policy is top management's: anyone else is refused at the act (issue 24)
    code, _, err = invoke("attest", "5.2", "--org", "--by", "Ali Khan", "--document", str(policy))
    assert code == 2 and "top_management" in err
    # the unfinished attestation's document has changed since: not satisfied
    assert verdict("5.2").status != "satisfied"  # type: ignore[attr-defined]

    code, _, err = invoke("attest", "5.2", "--org", "--by", "Dana Smith", "--document", str(policy))
    assert code == 0 and "warning" not in err
    assert verdict("5.2").status == "satisfied"  # type: ignore[attr-defined]

    # 7.5.1 and 7.5.3 derived from the attestations in the store
    assert derived_part("7.5.1").status == "satisfied"  # type: ignore[attr-defined]
    assert "AIMS-05 (5.2)" in derived_part("7.5.1").reasons[0]  # type: ignore[attr-defined]
    assert derived_part("7.5.3").status == "satisfied"  # type: ignore[attr-defined]

    # training (7.2) and acknowledgement (7.3): no people keys are declared here (names are
    # typed); a key that is no listed person's is refused, one line
    key = generate_keys(workspace / "dana-keys")
    assert key is not None
    code, out, err = invoke(
        "record", "training", "--person", "Dana Smith", "--topic", "ISO/IEC 42001",
        "--date", "2026-11-01", "--key", str(workspace / "dana-keys" / "aims-signing.key"),
    )  # fmt: skip
    assert code == 2 and "is not one of Dana Smith's public keys" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, out, err = invoke(
        "record", "training", "--person", "Dana Smith", "--topic", "ISO/IEC 42001",
        "--date", "2026-11-01",
    )  # fmt: skip
    assert code == 0, err
    part = derived_part("7.2")
    assert part.status == "missing" and "Ali Khan" in part.reasons[0]  # type: ignore[attr-defined]
    # the example's other people (owners, approvers) are trained too; Ali Khan is the gap
    others = [p.name for p in load_config("aims.yaml").people]
    for name in [n for n in others if n not in ("Dana Smith", "Ali Khan")]:
        code, _, err = invoke(
            "record", "training", "--person", name, "--topic", "ISO/IEC 42001",
            "--date", "2026-11-02",
        )  # fmt: skip
        assert code == 0, err
    part = derived_part("7.2")
    assert part.status == "missing" and "Ali Khan" in part.reasons[0]  # type: ignore[attr-defined]
    code, _, err = invoke(
        "record", "training", "--person", "Ali Khan", "--topic", "auditing", "--date", "2026-11-02"
    )
    assert code == 0, err
    assert derived_part("7.2").status == "satisfied"  # type: ignore[attr-defined]

    code, _, err = invoke(
        "record", "acknowledgement", "--person", "Nobody", "--document", "AIMS-05"
    )
    assert code == 2 and "'Nobody' is not in aims.yaml people" in err and "Traceback" not in err
    for person in others:  # everyone listed acknowledges the AI policy
        code, _, err = invoke(
            "record", "acknowledgement", "--person", person, "--document", "AIMS-05"
        )
        assert code == 0, err
    assert derived_part("7.3").status == "satisfied"  # type: ignore[attr-defined]

    code, out, _ = invoke("lifecycle")
    assert code == 0 and "Leadership commitment and roles" in out and "person-days" in out


def test_training_and_acknowledgement_are_signed_by_the_person(
    isolated_mlflow: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With people's keys declared (`aims init`), a training or an acknowledgement is the
    person's own act: their key signs it; the pipeline key, another person's key or no key is
    refused (exit 2, one line) and nothing is recorded; the signed record counts for 7.2."""
    monkeypatch.delenv("AIMS_SIGNING_KEY", raising=False)
    monkeypatch.delenv("AIMS_PERSON_KEY", raising=False)
    monkeypatch.delenv("AIMS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("init")
    assert code == 0, err
    config = load_config("aims.yaml")
    people = {p.name: (tmp_path / p.public_keys[0]).with_suffix(".key") for p in config.people}
    auditor = config.people_with_role("internal_auditor")[0].name
    chief = config.people_with_role("top_management")[0].name
    pipeline = tmp_path / ".aims" / "keys" / "pipeline.key"
    assert pipeline.is_file()

    def training(*extra: str) -> tuple[int, str, str]:
        return invoke(
            "record", "training", "--person", auditor, "--topic", "auditing",
            "--date", "2026-11-02", *extra,
        )  # fmt: skip

    for refused, fragment in (
        (("--key", str(pipeline)), "is a pipeline key"),
        (("--key", str(people[chief])), f"is not one of {auditor}'s public keys"),
        ((), "signed with that person's own key"),
    ):
        code, out, err = training(*refused)
        assert code == 2 and fragment in err, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, out, err = invoke(
        "record", "acknowledgement", "--person", auditor, "--document", "AIMS-05",
        "--key", str(pipeline),
    )  # fmt: skip
    assert code == 2 and "is a pipeline key" in err
    judged = judge(config="aims.yaml")
    assert not [r for r in judged.records if r.kind in ("training", "acknowledgement")]

    monkeypatch.setenv("AIMS_PERSON_KEY", str(people[auditor]))
    code, out, err = training()
    assert code == 0 and "(signed)" in out, err
    code, out, err = invoke(
        "record", "acknowledgement", "--person", auditor, "--document", "AIMS-05"
    )
    assert code == 0 and "(signed)" in out, err
    judged = judge(config="aims.yaml")
    kept = [r for r in judged.records if r.kind in ("training", "acknowledgement")]
    assert len(kept) == 2 and not judged.integrity_findings
    part = next(
        p for p in judged.assessment.systems[SYSTEM].control("7.2").parts if p.kind == "derived"
    )
    assert auditor not in part.reasons[0]  # trained: no longer named as untrained


def test_validate_refuses_excluding_suppliers_the_store_lineage_shows(workspace: Path) -> None:
    """An SoA that calls suppliers (A.10.3) not applicable while the store's lineage shows the
    census data taken from UCI (by its DOI) contradicts the evidence: `aims validate` refuses
    it, one line per exclusion with its line in aims.yaml, naming the source; before any
    lineage (or with the exclusion withdrawn) the file is valid. Excluding incident reporting
    (A.8.3) for the high-risk system the organization provides is refused too (Art. 73)."""
    from aims_mlops.capture import make_store
    from aims_mlops.engine._suppliers import ERROR_LINEAGE_SUPPLIER_EXCLUDED
    from aims_mlops.evidence import new_record

    config = workspace / "aims.yaml"
    assert "control: A.10.3" not in config.read_text()  # the example keeps suppliers applicable
    config.write_text(config.read_text().replace("\nsoa:\n", "\nsoa:\n" + A103_EXCLUDED, 1))
    code, out, err = invoke("validate")
    assert code == 0, err
    store = make_store(load_config(config))
    store.write(
        new_record(
            kind="lineage.datasets",
            system=SYSTEM,
            outcome="pass",
            collector="test",
            details={
                "datasets": [
                    {
                        "name": "adult-train",
                        "sha256": "ab" * 32,
                        "source": "UCI Adult (Census Income), https://doi.org/10.24432/C5XW20",
                    }
                ]
            },
        )
    )
    code, out, err = invoke("validate")
    assert code == 2 and out == ""
    line = next(
        n for n, text in enumerate(config.read_text().splitlines(), 1)
        if text.strip() == "- control: A.10.3"
    ) + 1  # fmt: skip
    message = ERROR_LINEAGE_SUPPLIER_EXCLUDED.format(
        control="A.10.3",
        suppliers="dataset adult-train from doi.org/10.24432/C5XW20",
    )
    assert err.strip().splitlines() == [f"error: aims.yaml:{line}: soa[0].applicable: {message}"]

    text = config.read_text()
    withdrawn = re.sub(r"  - control: A\.10\.3\n(?:    .*\n)+?(?=  - )", "", text, count=1)
    assert withdrawn != text
    config.write_text(withdrawn)
    code, out, err = invoke("validate")
    assert code == 0, err

    config.write_text(
        withdrawn + "  - {control: A.8.3, applicable: false, justification: no reporting here}\n"
    )
    code, _, err = invoke("validate")
    assert code == 2 and "EU AI Act Art. 73 binds it to report serious incidents" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
