"""Re-performance as of a date, the evidence digest and the auditor's own sample (no MLflow)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aims_mlops import AimsError
from aims_mlops.config import example_config_text
from aims_mlops.engine import ERROR_BAD_AS_OF, evidence_digest, parse_as_of
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.judgement import judge, summary_json
from aims_mlops.judgement._reperform import NOTE_ALIAS, NOTE_NO_VERSION
from aims_mlops.reports._audit import audit_plan, audit_plan_markdown
from aims_mlops.reports._content import is_record_id
from aims_mlops.store import ReadResult
from aims_mlops.store._ledger import LedgerReport
from tests.unit.test_audit import HISTORY, attestation, fairness
from tests.unit.test_pack import SYSTEM, make_judgement

NOW = datetime(2026, 3, 1, tzinfo=UTC)


class FakeStore:
    """The few store calls ``judge`` makes, over a list of records and registry versions."""

    def __init__(
        self, records: Iterable[EvidenceRecord], versions: list[tuple[str, str]] = ()
    ) -> None:
        self.all = list(records)
        self.versions = list(versions)
        self.pinned: list[Any] = []

    def current_models(self, bindings: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        from aims_mlops.engine import CurrentModel

        self.pinned.append({k: dict(v) for k, v in bindings.items()})
        found: dict[str, Any] = {}
        for system, binding in bindings.items():
            version = binding.get("version")
            found[system] = (
                CurrentModel(name=str(binding["registered_model"]), version=version, run_id=None)
                if version is not None and binding.get("registered_model")
                else None
            )
        return found

    def model_versions(self, name: str) -> list[tuple[str, str]]:
        return self.versions

    def records(self, *, system: str | None = None) -> list[EvidenceRecord]:
        return [r for r in self.all if r.system in (system, None)]

    def records_for(self, systems: Any, **kwargs: Any) -> list[EvidenceRecord]:
        return list(self.all)

    def read(self, *, system: str | None = None, **kwargs: Any) -> ReadResult:
        return ReadResult(records=tuple(self.records(system=system)), problems=())

    def read_for(self, systems: Any, **kwargs: Any) -> ReadResult:
        return ReadResult(records=tuple(self.all), problems=())

    def identity(self) -> None:
        return None  # a store without an id: no record is judged by its store

    def verify_ledger(self, **kwargs: Any) -> LedgerReport:
        return LedgerReport(findings=(), problems=(), head=None, replaced=frozenset(), listed=0)


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "aims.yaml"
    path.write_text(example_config_text())
    return path


def test_as_of_before_any_evidence_cites_no_record_and_scores_lower(tmp_path: Path) -> None:
    store = FakeStore(HISTORY, versions=[("1", "2026-01-12T00:00:00.000Z")])
    path = config_file(tmp_path)
    now = judge(config=path, store=store, now=NOW)  # type: ignore[arg-type]
    before = judge(config=path, store=store, as_of="2025-12-31")  # type: ignore[arg-type]
    assert before.records == () and before.as_of == "2025-12-31T23:59:59Z"
    sa_now, sa_before = now.assessment.systems[SYSTEM], before.assessment.systems[SYSTEM]
    assert not [e for c in sa_before.controls for e in c.evidence if is_record_id(e)]
    assert [e for c in sa_now.controls for e in c.evidence if is_record_id(e)]
    assert sa_before.score < sa_now.score
    assert before.assessment.evaluated_at == "2025-12-31T23:59:59Z"
    model = before.config.system(SYSTEM).mlflow.registered_model
    assert NOTE_NO_VERSION.format(system=SYSTEM, model=model, moment=before.as_of) in (
        before.approximations
    )
    assert before.current_models[SYSTEM] is None


def test_as_of_judges_the_version_registered_last_by_then(tmp_path: Path) -> None:
    versions = [("1", "2026-01-12T00:00:00.000Z"), ("2", "2026-02-20T00:00:00.000Z")]
    store = FakeStore(HISTORY, versions=versions)
    result = judge(config=config_file(tmp_path), store=store, as_of="2026-02-01")  # type: ignore[arg-type]
    assert store.pinned[-1][SYSTEM]["version"] == "1"
    assert all(r.collected <= parse_as_of("2026-02-01") for r in result.records)
    assert len(result.records) == 4  # POLICY, F1, D1, REVIEW
    binding = result.config.system(SYSTEM).mlflow
    note = NOTE_ALIAS.format(
        system=SYSTEM,
        alias=binding.alias,
        moment=result.as_of,
        model=binding.registered_model,
        version="1",
    )
    assert note in result.approximations
    data = summary_json(result, SYSTEM)
    assert data["as_of"] == result.as_of and data["approximations"] == list(result.approximations)
    assert data["evidence_digest"] == result.evidence_digest


def test_as_of_rejects_what_is_not_a_date() -> None:
    with pytest.raises(AimsError) as caught:
        parse_as_of("last tuesday")
    assert str(caught.value) == ERROR_BAD_AS_OF.format(value="last tuesday")
    assert parse_as_of("2026-02-01T10:00:00Z") == datetime(2026, 2, 1, 10, tzinfo=UTC)


def test_same_inputs_same_digest_a_new_record_changes_it(tmp_path: Path) -> None:
    first = make_judgement(tmp_path, HISTORY, now=NOW)
    again = make_judgement(tmp_path, list(reversed(HISTORY)), now=NOW)
    assert first.evidence_digest == again.evidence_digest
    assert len(first.evidence_digest) == 64
    more = make_judgement(tmp_path, [*HISTORY, attestation("A.2.2", "2026-02-25T09:00:00Z")])
    assert more.evidence_digest != first.evidence_digest
    digest = first.assessment.config_digest
    assert evidence_digest(digest, HISTORY) != evidence_digest("other", HISTORY)


# ----------------------------------------------------------------------------- the sample
def _sample(plan: dict[str, Any], entry: str) -> tuple[str, ...]:
    items = {i["id"]: i for i in plan["items"]}
    return tuple(s["id"] for s in items[entry]["sample"])


def test_audit_plan_same_seed_same_plan_other_seed_other_plan(tmp_path: Path) -> None:
    runs = [fairness(f"2026-02-{day:02d}T10:00:00Z", 0.04, f"run-{day}") for day in range(1, 21)]
    judgement = make_judgement(tmp_path, runs, now=NOW)
    plan = audit_plan(judgement, seed=11, sample_size=3)
    assert audit_plan(judgement, seed=11, sample_size=3) == plan
    assert plan["seed"] == 11 and plan["population_size"] == 20
    assert plan["evidence_digest"] == judgement.evidence_digest
    others = {_sample(audit_plan(judgement, seed=s, sample_size=3), "A.5.4") for s in range(8)}
    assert len(others) > 1
    # only the latest fairness record is cited by the verdict; the sample draws from all 20
    items = {i["id"]: i for i in plan["items"]}
    assert items["A.5.4"]["population"] == 20
    wide = audit_plan(judgement, seed=11, sample_size=20)
    cited = [s for s in {i["id"]: i for i in wide["items"]}["A.5.4"]["sample"]]
    assert sum(1 for s in cited if not s["cited_by_verdict"]) == 19
    assert "not cited by the verdict" in audit_plan_markdown(wide)


def test_audit_plan_draws_from_the_period_only(tmp_path: Path) -> None:
    runs = [fairness(f"2026-02-{day:02d}T10:00:00Z", 0.04, f"run-{day}") for day in range(1, 21)]
    judgement = make_judgement(tmp_path, runs, now=NOW)
    plan = audit_plan(judgement, seed=1, sample_size=50, start="2026-02-05", end="2026-02-10")
    assert plan["period"] == {"from": "2026-02-05T00:00:00Z", "to": "2026-02-10T00:00:00Z"}
    days = {s["collected_at"][:10] for s in {i["id"]: i for i in plan["items"]}["A.5.4"]["sample"]}
    assert days == {f"2026-02-{d:02d}" for d in range(5, 10)}
