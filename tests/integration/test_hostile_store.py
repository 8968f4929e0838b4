"""Issue 21, findings 2 and 7 against a real MLflow store: an evidence tag nested thousands of
levels deep, a pointer to an oversized artifact and a record stored without its artifact are
named findings in every command, never a traceback."""

from __future__ import annotations

import json

import pytest

from aims_mlops.evidence import EvidenceRecord
from aims_mlops.store import EvidenceStore
from aims_mlops.store import _contract as contract
from tests.integration.test_trust_store import (  # noqa: F401 - ws: fixture
    FAIRNESS,
    fairness,
    invoke,
    set_tag,
    ws,
)

pytestmark = pytest.mark.slow


def _deep_value(record: EvidenceRecord, depth: int) -> str:
    """The record's tag with ``depth`` nested lists planted in its details (hash recomputed)."""
    data = record.to_dict()
    data["details"] = {"x": "__DEEP__"}
    return json.dumps(data).replace('"__DEEP__"', "[" * depth + "1" + "]" * depth)


def _no_traceback(code: int, out: str, err: str) -> None:
    assert "Traceback" not in out + err and "RecursionError" not in out + err, err[-600:]
    assert code in (0, 1), (code, err[-600:])


def test_deep_tag_and_huge_artifact_are_findings_in_every_command(ws: dict) -> None:  # noqa: F811
    real = fairness(ws, "pass", signed=True)
    EvidenceStore(tracking_uri=ws["uri"]).write(real, run_id=ws["run_id"])
    deep = fairness(ws, "pass", signed=True)
    ws["client"].set_tag(ws["run_id"], contract.evidence_tag(deep.id), _deep_value(deep, 5000))
    huge = fairness(ws, "pass", signed=True)
    path = contract.artifact_path(huge)
    big = ws["dir"] / "big"
    (big / huge.kind).mkdir(parents=True)
    (big / huge.kind / f"{huge.id}.json").write_bytes(b" " * (contract.MAX_ARTIFACT_BYTES + 10))
    ws["client"].log_artifacts(ws["run_id"], str(big), contract.EVIDENCE_ARTIFACT_DIR)
    pointer = {"id": huge.id, "content_hash": huge.content_hash, "artifact": path}
    ws["client"].set_tag(ws["run_id"], contract.evidence_tag(huge.id), json.dumps(pointer))
    version = ["--model-version", ws["version"]]
    out_dir = ws["dir"] / "out"
    out_dir.mkdir()

    for args in (
        ["summary", "credit", *version],
        ["status"],
        ["report", "credit", *version, "-o", str(out_dir / "r.html")],
        ["audit-pack", "credit", "-o", str(out_dir / "p.zip")],
    ):
        code, out, err = invoke(*args)
        _no_traceback(code, out, err)

    code, out, err = invoke("summary", "credit", *version, "--format", "json")
    found = {f["record_id"] for f in json.loads(out)["integrity"]["findings"]}
    assert {deep.id, huge.id} <= found and real.id not in found

    code, out, err = invoke("gate", "credit", *version, "--require", "A.5.4")
    _no_traceback(code, out, err)
    assert code == 1 and deep.id in out and huge.id in out

    code, out, err = invoke("verify")
    _no_traceback(code, out, err)
    assert code == 1
    assert f"record {deep.id} on run {ws['run_id']}: the evidence tag is refused" in err
    assert "nested more than 64 levels deep" in err
    assert f"record {huge.id} on run {ws['run_id']}: the artifact {path} is refused" in err


def test_a_record_stored_without_its_artifact_is_a_finding_in_the_gate(ws: dict) -> None:  # noqa: F811
    """Issue 21, finding 7: a tag-only record (no artifact) no longer counts in the gate."""
    lone = fairness(ws, "pass", signed=True)
    set_tag(ws, lone, artifact=False)
    ws["client"].set_tag(ws["run_id"], contract.TAG_SYSTEM, "credit")  # so that it is read
    version = ["--model-version", ws["version"]]
    code, out, err = invoke("gate", "credit", *version, "--require", FAIRNESS[0])
    _no_traceback(code, out, err)
    assert code == 1 and f"record {lone.id} failed verification" in out
    assert "is missing" in out
    code, out, err = invoke("summary", "credit", *version, "--format", "json")
    findings = json.loads(out)["integrity"]["findings"]
    assert [f["record_id"] for f in findings] == [lone.id]
    code, out, err = invoke("verify")
    assert code == 1 and f"record {lone.id} on run {ws['run_id']}: artifact" in err
    # stored properly (artifact first, then the tag), the same evidence counts
    real = fairness(ws, "pass", signed=True)
    EvidenceStore(tracking_uri=ws["uri"]).write(real, run_id=ws["run_id"])
    code, out, err = invoke("summary", "credit", *version, "--format", "json")
    assert [f["record_id"] for f in json.loads(out)["integrity"]["findings"]] == [lone.id]
