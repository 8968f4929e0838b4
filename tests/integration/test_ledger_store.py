"""The ledger over a real MLflow store: the configuration counts once approved, trust is anchored
in the approval chain, people sign for themselves (issue 23's attacks, as an auditor and an
attacker with write access to the store and the repository would try them)."""

from __future__ import annotations

import html
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from aims_mlops._errors import AimsError
from aims_mlops.capture import approve_configuration
from aims_mlops.capture._acts import ERROR_PIPELINE_KEY_FOR_ACT
from aims_mlops.catalog import load_catalog
from aims_mlops.cli import cli
from aims_mlops.evidence import Subject, load_signing_key, new_record
from aims_mlops.evidence._signing import generate_key_pair
from aims_mlops.judgement import judge
from aims_mlops.judgement._judge import ERROR_NOT_APPROVED_SYSTEM
from aims_mlops.ledger import approval_record, configuration_record, snapshot_of

pytestmark = pytest.mark.slow

NOW = datetime.now(UTC)
CONFIG = """\
version: 1
organization: {{name: Ledger Ltd, aims_scope: Credit models, policy_owner: Alice Chief}}
trust:
  public_keys: [keys/pipeline.pub]
people:
  - {{name: Alice Chief, roles: [top_management], public_keys: [keys/alice.pub]}}
  - {{name: Dana Smith, roles: [], public_keys: [keys/dana.pub]}}
{extra}systems:
  - id: credit
    name: Credit model
    owner: Dana Smith
    intended_use: Score loan applicants for a human underwriter.
    lifecycle_stage: validation
    mlflow: {{experiment: credit}}
    sensitive_features: [sex]
    fairness: {{demographic_parity_difference: {{max: {dpd}}}}}
"""
MALLORY = "  - {name: Mallory, roles: [top_management], public_keys: [keys/mallory.pub]}\n"
LOOSENED = "systems[credit].fairness.demographic_parity_difference.max: 0.1 -> 0.3"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workspace(isolated_mlflow: str, tmp_path: Path) -> Path:
    for name in ("pipeline", "alice", "dana", "mallory"):
        generate_key_pair(tmp_path / "keys" / f"{name}.key", tmp_path / "keys" / f"{name}.pub")
    write_config(tmp_path)
    return tmp_path


def write_config(folder: Path, *, dpd: float = 0.1, extra: str = "") -> Path:
    path = folder / "aims.yaml"
    path.write_text(CONFIG.format(dpd=dpd, extra=extra), encoding="utf-8")
    return path


def key(folder: Path, name: str):
    return load_signing_key(folder / "keys" / f"{name}.key")


def approve_as_alice(folder: Path) -> None:
    approve_configuration(
        config_path=folder / "aims.yaml", by="Alice Chief", key=folder / "keys" / "alice.key"
    )


def training_run() -> str:
    import mlflow

    mlflow.set_experiment("credit")
    with mlflow.start_run() as run:
        mlflow.log_metric("accuracy", 0.9)
    return run.info.run_id


def fairness(folder: Path, run_id: str, *, dpd: float, bound: float, when: datetime):
    """A fairness record as capture writes it under a working copy whose bound is ``bound``."""
    from aims_mlops.capture import make_store

    passed = dpd <= bound
    record = new_record(
        kind="fairness",
        system="credit",
        outcome="pass" if passed else "fail",
        collector="aims_mlops.assess_fairness",
        subject=Subject(run_id=run_id),
        metrics={"demographic_parity_difference": dpd},
        details={
            "checks": [
                {
                    "metric": "demographic_parity_difference",
                    "value": dpd,
                    "min": None,
                    "max": bound,
                    "passed": passed,
                    "reason": f"demographic_parity_difference = {dpd}",
                }
            ],
            "sensitive_features": ["sex"],
        },
        controls=load_catalog().controls_for_kind("fairness"),
        collected_at=when.isoformat(),
    ).signed(key(folder, "pipeline"))
    make_store(None).write(record, run_id=run_id)
    return record


def status_of(config: Path, entry: str, **kwargs) -> str:
    judgement = judge(config=config, systems=["credit"], **kwargs)
    return next(c for c in judgement.assessment.systems["credit"].controls if c.id == entry).status


def test_loosened_thresholds_count_only_once_approved(workspace: Path) -> None:
    config = workspace / "aims.yaml"
    # nothing approved yet: every verdict is a draft and the gate fails
    code, out, _ = invoke("gate", "credit", "--config", str(config))
    assert code == 1 and "configuration NOT APPROVED (draft)" in out
    first = approve_configuration(
        config_path=config,
        by="Alice Chief",
        key=workspace / "keys" / "alice.key",
        now=NOW - timedelta(days=2),
    )
    assert first.root and first.sequence == 1
    run_id = training_run()
    fairness(workspace, run_id, dpd=0.2, bound=0.1, when=NOW - timedelta(days=3))
    assert status_of(config, "A.6.2.4") == "failing"
    # the threshold is loosened in the working copy and the capture re-run: it "passes" there
    write_config(workspace, dpd=0.3)
    fairness(workspace, run_id, dpd=0.2, bound=0.3, when=NOW - timedelta(days=1))
    assert status_of(config, "A.6.2.4") == "failing"  # judged against the approved 0.1
    code, out, _ = invoke("summary", "credit", "--config", str(config))
    assert code == 0 and f"unapproved changes: {LOOSENED}" in out
    assert "A.6.2.4" in out
    code, out, _ = invoke("summary", "credit", "--config", str(config), "--format", "json")
    data = json.loads(out)
    assert data["configuration"]["unapproved_changes"] == [LOOSENED]
    assert next(c for c in data["controls"] if c["id"] == "A.6.2.4")["status"] == "failing"
    code, out, _ = invoke("status", "--config", str(config))
    assert f"unapproved changes: {LOOSENED}" in out
    code, out, _ = invoke("readiness", "--config", str(config))
    assert f"unapproved changes: {LOOSENED}" in out
    code, out, _ = invoke("readiness", "--config", str(config), "--format", "json")
    blockers = json.loads(out)["blockers"]  # no certification rests on an unapproved change
    assert {"id": "aims.yaml", "status": "unapproved_change"}.items() <= next(
        b for b in blockers if b["status"] == "unapproved_change"
    ).items()
    assert any(LOOSENED in b["reason"] for b in blockers if b["status"] == "unapproved_change")
    code, out, _ = invoke("gate", "credit", "--config", str(config))
    assert code == 1 and f"unapproved changes (1): {LOOSENED}" in out
    code, out, _ = invoke("gate", "credit", "--config", str(config), "--format", "json")
    trust = json.loads(out)["trust"]
    assert trust["unapproved_changes"] == [LOOSENED]
    assert trust["approved_configuration"]["sequence"] == 1 and trust["signed"] is True
    assert set(trust) >= {
        "signed",
        "require_signatures",
        "keys",
        "unsigned_records",
        "approved_configuration",
        "unapproved_changes",
    }
    report = workspace / "credit.md"
    code, _, err = invoke(
        "report", "credit", "--config", str(config), "--format", "md", "-o", str(report)
    )
    assert code == 0, err
    assert "unapproved changes" in report.read_text()
    pack = workspace / "pack.zip"
    code, out, err = invoke("audit-pack", "credit", "--config", str(config), "-o", str(pack))
    assert code == 0, err
    assert "unapproved changes" in out
    with zipfile.ZipFile(pack) as archive:
        state = json.loads(archive.read("config/configuration.json"))
        assert state["unapproved_changes"] == [LOOSENED]
        assert state["root_key"] == key(workspace, "alice").key_id
        assert "max: 0.1" in archive.read("config/aims.yaml").decode()  # the approved text
    # the notebook widget shows the draft verdict beside the approved one
    from aims_mlops.views import dashboard

    shown = dashboard("credit", config=config).configuration.value
    assert f"unapproved changes: {html.escape(LOOSENED)}" in shown
    assert "<b>approved verdict</b>" in shown and "<b>draft</b> (working copy)" in shown
    assert "A.6.2.4 failing → " in shown
    # --draft judges the working copy, and says so
    code, out, _ = invoke("summary", "credit", "--config", str(config), "--draft")
    assert out.startswith("DRAFT: judged with the working copy")
    assert status_of(config, "A.6.2.4", draft=True) != "failing"
    # approved: the change takes effect; as of a moment before the approval, it does not
    second = approve_configuration(
        config_path=config, by="Alice Chief", key=workspace / "keys" / "alice.key"
    )
    assert second.sequence == 2 and second.changes == (LOOSENED,)
    assert status_of(config, "A.6.2.4") != "failing"
    before = (NOW - timedelta(hours=12)).isoformat()
    assert status_of(config, "A.6.2.4", as_of=before) == "failing"
    code, out, _ = invoke("config", "status", "--config", str(config))
    assert "no unapproved changes" in out and "#2 by Alice Chief" in out
    # a new system in the working copy: judged only as a draft until approved
    config.write_text(
        config.read_text() + "  - id: tickets\n    name: Tickets\n    owner: Dana Smith\n"
        "    intended_use: Rank support tickets for a human.\n    lifecycle_stage: development\n"
    )
    code, _, err = invoke("summary", "tickets", "--config", str(config))
    assert code == 2 and ERROR_NOT_APPROVED_SYSTEM.format(system="tickets", sequence=2) in err
    code, out, _ = invoke("summary", "tickets", "--config", str(config), "--draft")
    assert code == 0 and out.startswith("DRAFT")


def test_trust_change_with_an_untrusted_key_is_refused_and_has_no_effect(
    workspace: Path,
) -> None:
    config = workspace / "aims.yaml"
    approve_as_alice(workspace)
    run_id = training_run()
    fairness(workspace, run_id, dpd=0.2, bound=0.1, when=NOW - timedelta(hours=1))
    # Mallory edits aims.yaml: adds herself to top management, loosens the threshold
    write_config(workspace, dpd=0.3, extra=MALLORY)
    code, _, err = invoke(
        "config", "approve", "--config", str(config), "--by", "Mallory", "--key", "keys/mallory.key"
    )
    assert code == 2 and err.startswith("error: refused, nothing recorded: Mallory with key")
    assert "previously approved configuration" in err
    # ... and forges the approval into the store directly
    from aims_mlops.capture import make_store
    from aims_mlops.judgement._configuration import read_ledger

    store = make_store(None)
    ledger, _ = read_ledger(store)
    working = snapshot_of(config)
    recorded = configuration_record(working)
    store.write(recorded.signed(key(workspace, "pipeline")))
    forged = approval_record(configuration=recorded, by="Mallory", previous=ledger.head)
    store.write(forged.signed(key(workspace, "mallory")))
    judgement = judge(config=config, systems=["credit"])
    assert judgement.configuration.in_force.sequence == 1  # no effect
    sa = judgement.assessment.systems["credit"]
    by_id = {c.id: c for c in sa.controls}
    assert by_id["A.6.2.4"].status == "failing"
    assert by_id["6.3"].status == "failing"
    assert any(forged.id in r and "does not list for Mallory" in r for r in by_id["6.3"].reasons)
    code, out, _ = invoke("gate", "credit", "--config", str(config))
    assert code == 1 and forged.id in out
    code, _, err = invoke("verify", "--config", str(config))
    assert code == 1 and forged.id in err
    # an auditor who pinned another root key sees the chain refused
    code, _, err = invoke(
        "verify", "--config", str(config), "--trusted-key", str(workspace / "keys" / "mallory.pub")
    )
    assert code == 1 and "not one of the pinned keys" in err
    code, out, _ = invoke(
        "verify", "--config", str(config), "--trusted-key", str(workspace / "keys" / "alice.pub")
    )
    assert "chain root key " + key(workspace, "alice").key_id in out


def test_the_pipeline_key_cannot_sign_a_persons_act(workspace: Path) -> None:
    config = workspace / "aims.yaml"
    approve_as_alice(workspace)
    policy = workspace / "policy.md"
    policy.write_text("Our AI policy: every model is checked for fairness before release. " * 3)
    args = ["attest", "A.2.2", "--org", "--by", "Dana Smith", "--document", str(policy)]
    code, _, err = invoke(*args, "--config", str(config), "--key", "keys/pipeline.key")
    pipeline = key(workspace, "pipeline").key_id
    assert code == 2
    assert (
        err
        == "error: "
        + ERROR_PIPELINE_KEY_FOR_ACT.format(key_id=pipeline, why="listed in trust.public_keys")
        + "\n"
    )
    code, _, err = invoke(*args, "--config", str(config))  # no key at all
    assert code == 2 and "signed with that person's own key" in err
    code, _, err = invoke(*args, "--config", str(config), "--key", "keys/alice.key")
    assert code == 2 and "is not one of Dana Smith's public keys" in err
    own = ["attest", "A.2.2", "--org", "--by", "Alice Chief", "--document", str(policy)]
    code, _, err = invoke(*own, "--config", str(config), "--key", "keys/alice.key")
    assert code == 0, err
    # forged into the store: an attestation "by Dana Smith" signed with the pipeline key
    from aims_mlops.capture import make_store

    forged = new_record(
        kind="attestation",
        system=None,
        outcome="pass",
        collector="aims_mlops.attest",
        controls=["A.2.3"],
        details={"by": "Dana Smith", "document": "https://example.test/p", "statement": "ok"},
    ).signed(key(workspace, "pipeline"))
    make_store(None).write(forged)
    judgement = judge(config=config, systems=["credit"])
    finding = next(f for f in judgement.integrity_findings if f.record_id == forged.id)
    assert "signed with the pipeline key" in finding.why
    a23 = next(c for c in judgement.assessment.systems["credit"].controls if c.id == "A.2.3")
    assert a23.status == "failing"
    a22 = next(c for c in judgement.assessment.systems["credit"].controls if c.id == "A.2.2")
    assert a22.status == "satisfied"  # Alice's own signed attestation counts


def test_unsigned_is_an_explicit_opt_out_that_fails_the_gate(workspace: Path) -> None:
    config = workspace / "aims.yaml"
    text = config.read_text().replace(
        "trust:\n  public_keys: [keys/pipeline.pub]\n", "trust: {unsigned: true}\n"
    )
    config.write_text(text)
    approve_as_alice(workspace)
    code, out, _ = invoke("gate", "credit", "--config", str(config))
    assert code == 1 and "trust: UNSIGNED;" in out and "--allow-unsigned" in out
    code, out, _ = invoke("gate", "credit", "--config", str(config), "--allow-unsigned")
    assert "trust: UNSIGNED (allowed by --allow-unsigned)" in out
    assert "--allow-unsigned is given" not in out


#: a bias risk kept above the appetite by its declared acceptance (id, acceptor and the
#: acceptance's document, ``, document: ...`` or nothing, filled in by each test)
ACCEPTED_RISK = """\
risks:
  - id: {risk}
    system: credit
    category: bias
    description: Unequal treatment kept for a quarter while the data is rebuilt.
    likelihood: 4
    impact: 4
    treatment: accept
    owner: Dana Smith
    acceptance: {{by: {by}, on: 2026-11-30{document}}}
"""
RISK = ACCEPTED_RISK.format(
    risk="R9", by="Alice Chief", document=", document: https://example.test/r9"
)


def test_a_risk_acceptance_counts_only_signed_by_its_acceptor(workspace: Path) -> None:
    config = workspace / "aims.yaml"
    config.write_text(config.read_text() + RISK)
    approve_as_alice(workspace)

    def acceptance() -> tuple[str | None, list[str]]:
        risk = next(
            r
            for r in judge(config=config, systems=["credit"]).assessment.systems["credit"].risks
            if r.id == "R9"
        )
        return risk.acceptance, list(risk.reasons)

    accepted, reasons = acceptance()
    assert accepted is None
    unsigned = "is not signed by Alice Chief (`aims risk accept R9 --key FILE`)"
    assert any(unsigned in r for r in reasons), reasons
    accept = ("risk", "accept", "R9", "--config", str(config), "--key")
    code, _, err = invoke(*accept, "keys/dana.key")
    assert code == 2 and "is not one of Alice Chief's public keys" in err
    code, out, err = invoke(*accept, "keys/alice.key")
    assert code == 0, err
    assert "recorded the acceptance of risk R9 by Alice Chief on 2026-11-30" in out
    accepted, _ = acceptance()
    assert accepted == "accepted by Alice Chief on 2026-11-30"


def test_capture_records_the_working_configuration_once(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aims_mlops
    from aims_mlops.capture import make_store, reset_session

    monkeypatch.setenv("AIMS_SIGNING_KEY", str(workspace / "keys" / "pipeline.key"))
    config = workspace / "aims.yaml"
    try:
        # a session records its aims.yaml before its first capture (when it gives a context)
        aims_mlops.init(system="credit", config=config, autolog=False).context()
        aims_mlops.init(system="credit", config=config, autolog=False).context()  # same content
        write_config(workspace, dpd=0.2)
        aims_mlops.init(system="credit", config=config, autolog=False).context()  # another
    finally:
        reset_session()
    recorded = make_store(None).records(kinds=["configuration"])
    assert len(recorded) == 2
    pipeline = key(workspace, "pipeline").key_id
    assert all(r.signature and r.signature.split(":")[1] == pipeline for r in recorded)
    assert {r.details["identity"] for r in recorded} == {
        snapshot_of(config).identity,
        snapshot_of(write_config(workspace)).identity,
    }


def unsigned_fairness(run_id: str):
    """What an attacker with write access (or a pipeline without its key) writes: no signature."""
    from aims_mlops.capture import make_store

    record = new_record(
        kind="fairness",
        system="credit",
        outcome="pass",
        collector="aims_mlops.assess_fairness",
        subject=Subject(run_id=run_id),
        metrics={"demographic_parity_difference": 0.01},
        details={"checks": [{"passed": True, "reason": "dpd"}], "sensitive_features": ["sex"]},
        controls=load_catalog().controls_for_kind("fairness"),
    )
    make_store(None).write(record, run_id=run_id)
    return record


def test_the_gate_counts_the_unsigned_records_it_read(workspace: Path) -> None:
    """Auditor's replay: a store holding an unsigned record printed "trust: signed (…; 0
    unsigned records)" and the JSON said ``unsigned_records: 0``, while ``aims verify`` reported
    the record "is not signed": the count left out the records that failed verification. The
    count is every unsigned record the judgement read, and ``signed`` is false when any is."""
    config = workspace / "aims.yaml"
    approve_as_alice(workspace)
    unsigned_fairness(training_run())
    code, out, err = invoke("verify", "--config", str(config))
    assert code == 1 and "is not signed" in out + err
    code, out, _ = invoke("gate", "credit", "--config", str(config), "--format", "json")
    trust = json.loads(out)["trust"]
    assert trust["unsigned_records"] == 1 and trust["signed"] is False
    code, out, _ = invoke("gate", "credit", "--config", str(config))
    assert code == 1
    line = next(x for x in out.splitlines() if x.startswith("trust: "))
    assert line.startswith("trust: UNSIGNED RECORDS (keys ") and "1 unsigned records" in line


def test_capture_without_its_key_warns_once_and_strict_raises(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Auditor's replay: with ``.aims/keys/pipeline.key`` missing in a store whose configuration
    requires signatures, capture printed nothing and wrote an unsigned record (a finding found
    only later). It warns once per session, naming where it looked; strict capture raises; a
    run is never broken otherwise."""
    import warnings

    import aims_mlops
    from aims_mlops import AimsWarning, CaptureError
    from aims_mlops.capture import reset_session
    from aims_mlops.capture._context import WARNING_SIGNING_KEY_MISSING

    monkeypatch.delenv("AIMS_SIGNING_KEY", raising=False)
    config = workspace / "aims.yaml"
    approve_as_alice(workspace)
    expected = WARNING_SIGNING_KEY_MISSING.format(path=workspace / ".aims/keys/pipeline.key")
    try:
        aims_mlops.init(system="credit", config=config, autolog=False, quiet=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = aims_mlops.validate_performance({"accuracy": 0.9})
            second = aims_mlops.validate_performance({"accuracy": 0.91})
        said = [str(w.message) for w in caught if issubclass(w.category, AimsWarning)]
        assert said == [expected]
        assert first.signature is None and second.signature is None  # written, not broken
        aims_mlops.init(system="credit", config=config, autolog=False, quiet=True, strict=True)
        with pytest.raises(CaptureError) as raised:
            aims_mlops.validate_performance({"accuracy": 0.9})
        assert str(raised.value) == expected
    finally:
        reset_session()


def test_status_says_the_evidence_is_unsigned_as_summary_does(workspace: Path) -> None:
    """Auditor's replay: in an unsigned store, summary, readiness and the gate said the evidence
    was unsigned while ``aims status`` said nothing. Status says it in the same words."""
    from aims_mlops.evidence._trust import NOTE_UNSIGNED_OPT_OUT

    config = workspace / "aims.yaml"
    config.write_text(
        config.read_text().replace(
            "trust:\n  public_keys: [keys/pipeline.pub]\n", "trust: {unsigned: true}\n"
        )
    )
    approve_as_alice(workspace)
    unsigned_fairness(training_run())
    _, summary, _ = invoke("summary", "credit", "--config", str(config))
    code, out, _ = invoke("status", "--config", str(config))
    assert code == 0 and f"integrity: {NOTE_UNSIGNED_OPT_OUT}" in out
    assert f"integrity: {NOTE_UNSIGNED_OPT_OUT}" in summary
    code, out, err = invoke("status", "--config", str(config), "--format", "json")
    assert code == 0 and json.loads(out) and f"integrity: {NOTE_UNSIGNED_OPT_OUT}" in err




def test_a_risk_acceptance_without_authority_is_refused_at_the_act(workspace: Path) -> None:
    """Auditor's replay: ``aims risk accept R2`` by a person who is not top management, or by top
    management above the appetite with no ``acceptance.document``, exited 0 "recorded the
    acceptance of risk R2" although judgement then refused it. Issue 24: a person's role is
    checked at the act and again at judgement. Refused: exit 2, one line, nothing recorded."""
    from aims_mlops.capture import accept_risk, make_store
    from aims_mlops.capture._approve import ERROR_ACCEPTANCE_REFUSED
    from aims_mlops.engine._programme import ERROR_NO_ROLE
    from aims_mlops.engine._risk import ACCEPTANCE_NO_DOCUMENT

    config = workspace / "aims.yaml"
    base = config.read_text()
    no_role = ERROR_ACCEPTANCE_REFUSED.format(
        risk="R2",
        problem="its acceptance does not count: Dana Smith may not attest or approve 8.3: "
        + ERROR_NO_ROLE.format(
            name="Dana Smith", role="top_management", holders="held by Alice Chief"
        ),
    )
    no_document = ERROR_ACCEPTANCE_REFUSED.format(
        risk="R2", problem=ACCEPTANCE_NO_DOCUMENT.format(by="Alice Chief")
    )
    for by, acceptor, expected in (
        ("Dana Smith", "dana", no_role),
        ("Alice Chief", "alice", no_document),
    ):
        config.write_text(base + ACCEPTED_RISK.format(risk="R2", by=by, document=""))
        approve_as_alice(workspace)
        accept = ("risk", "accept", "R2", "--config", str(config), "--key")
        code, out, err = invoke(*accept, f"keys/{acceptor}.key")
        assert (code, out) == (2, "") and err.strip().splitlines() == [f"error: {expected}"]
        with pytest.raises(AimsError) as raised:
            accept_risk("R2", config_path=config, key=workspace / "keys" / f"{acceptor}.key")
        assert str(raised.value) == expected
        assert make_store(None).records(kinds=["risk_acceptance"]) == []
    # with the authority and the document, the same act is recorded
    config.write_text(
        base + ACCEPTED_RISK.format(risk="R2", by="Alice Chief", document=", document: docs/r2.md")
    )
    approve_as_alice(workspace)
    code, out, err = invoke(
        "risk", "accept", "R2", "--config", str(config), "--key", "keys/alice.key"
    )
    assert code == 0, err
    assert "recorded the acceptance of risk R2 by Alice Chief" in out
