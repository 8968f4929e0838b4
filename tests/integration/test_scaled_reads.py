"""The scaled read path (``EvidenceStore.records_for``) against the full-history read, on a real
sqlite MLflow store with a synthetic history (``benchmarks/generate_history.py``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aims_mlops.engine import summary_dict
from aims_mlops.evidence import Subject, new_record
from aims_mlops.judgement import judge
from aims_mlops.store import EvidenceStore
from benchmarks.generate_history import ALIAS, config_text, generate_history

pytestmark = pytest.mark.slow

LOOKBACK = 8
SMALL_RUNS = 12
BIG_RUNS = 40
NOW = datetime.now(UTC)


class RunCounter:
    """Counts the runs a real ``MlflowClient`` hands back (search_runs and get_run)."""

    def __init__(self, store: EvidenceStore) -> None:
        self.runs = 0
        client = store.client
        self._wrap(client, "search_runs", lambda result: len(result))
        self._wrap(client, "get_run", lambda result: 1)

    def _wrap(self, client: Any, name: str, count: Callable[[Any], int]) -> None:
        original = getattr(client, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            self.runs += count(result)
            return result

        setattr(client, name, counted)


def _summary(config: Path, store: EvidenceStore, system: str, **kwargs: Any) -> Any:
    judgement = judge(config=config, systems=[system], store=store, now=NOW, **kwargs)
    return json.loads(json.dumps(summary_dict(judgement.assessment.systems[system]), default=str))


def _both(config: Path, uri: str, tmp: Path, system: str) -> tuple[Any, Any, int]:
    """(scaled summary, full summary, runs the scaled read fetched)."""
    store = EvidenceStore(tracking_uri=uri, spool_dir=tmp / "spool")
    counter = RunCounter(store)
    scaled = _summary(config, store, system, lookback_runs=LOOKBACK)
    full_store = EvidenceStore(tracking_uri=uri, spool_dir=tmp / "spool")
    full = _summary(config, full_store, system, full_history=True)
    return scaled, full, counter.runs


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    tmp = tmp_path_factory.mktemp("scaled-reads")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp)  # the experiments' artifact roots (./mlruns) land there, not the checkout
        return _history(tmp)


def _history(tmp: Path) -> tuple[str, Path, Path]:
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    generate_history(
        tracking_uri=uri, out=tmp / "gen", runs=SMALL_RUNS, records=SMALL_RUNS * 5, names=["small"]
    )
    big = generate_history(
        tracking_uri=uri, out=tmp / "gen", runs=BIG_RUNS, records=BIG_RUNS * 5, names=["big"]
    )
    store = EvidenceStore(tracking_uri=uri, spool_dir=tmp / "spool")
    newest = big.current_run_ids["big"]
    monitoring = new_record(
        kind="monitoring",
        system="big",
        outcome="pass",
        collector="tests.scaled_reads",
        subject=Subject(run_id=newest),
        metrics={"drift": 0.01},
    )
    store.write(monitoring, run_id=newest)  # a kind only the newest run has
    for system in ("small", "big", None):  # system-level and organization-level records
        store.write(
            new_record(
                kind="system_card" if system else "attestation",
                system=system,
                outcome="pass",
                collector="tests.scaled_reads",
                subject=Subject(),
                details={"by": "CRO", "document": "policy.pdf"},
                controls=() if system else ("5.2",),
            )
        )
    config = tmp / "aims.yaml"
    config.write_text(config_text(["small", "big"]), encoding="utf-8")
    return uri, config, tmp


def test_scaled_summary_equals_full_and_reads_do_not_grow(
    history: tuple[str, Path, Path],
) -> None:
    uri, config, tmp = history
    small_scaled, small_full, small_runs = _both(config, uri, tmp, "small")
    big_scaled, big_full, big_runs = _both(config, uri, tmp, "big")
    assert small_scaled == small_full
    assert big_scaled == big_full
    evidence = {e for c in big_full["controls"] for e in c["evidence"]}
    assert len(evidence) >= 4  # run-level, system-level and organization records were judged
    # each judgement reads: the configuration ledger (the organization's runs of the evidence
    # experiment alone: 1 run) + the current run (get_run) + the system's runs of the evidence
    # experiment (1) + the organization's runs (1) + at most LOOKBACK newest runs; the same
    # for 12 and 40 runs of history (the ledger checkpoint search finds no run: none written)
    assert small_runs == big_runs
    assert big_runs <= 1 + 1 + 1 + 1 + LOOKBACK
    full_store = EvidenceStore(tracking_uri=uri, spool_dir=tmp / "spool")
    counter = RunCounter(full_store)
    _summary(config, full_store, "big", full_history=True)
    assert counter.runs >= BIG_RUNS  # the full read fetches the whole history


def test_several_systems_at_once_equal_the_full_read(history: tuple[str, Path, Path]) -> None:
    """The batched path (current models resolved together, look-backs in parallel)."""
    uri, config, tmp = history

    def summaries(**kwargs: Any) -> Any:
        store = EvidenceStore(tracking_uri=uri, spool_dir=tmp / "spool")
        judgement = judge(config=config, systems=["small", "big"], store=store, now=NOW, **kwargs)
        data = {s: summary_dict(a) for s, a in judgement.assessment.systems.items()}
        return json.loads(json.dumps(data, default=str))

    scaled = summaries(lookback_runs=LOOKBACK)
    assert scaled == summaries(full_history=True)
    assert scaled["big"]["model"]["run_id"] != scaled["small"]["model"]["run_id"]


def test_scaled_equals_full_for_an_old_current_model_and_for_none(
    history: tuple[str, Path, Path],
) -> None:
    from mlflow import MlflowClient

    uri, config, tmp = history
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("big")
    oldest = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time ASC"], max_results=5
    )
    old_run = oldest[3].info.run_id  # far outside the newest LOOKBACK runs
    version = client.create_model_version("big", source=f"runs:/{old_run}/model", run_id=old_run)
    client.set_registered_model_alias("big", ALIAS, version.version)
    scaled, full, _ = _both(config, uri, tmp, "big")
    assert scaled["model"]["run_id"] == old_run
    assert scaled == full
    stale = [c for c in full["controls"] if c["status"] == "stale"]
    assert any("monitoring" in r and "not run" in r for c in stale for r in c["reasons"])
    client.delete_registered_model_alias("big", ALIAS)  # no current model: the latest run counts
    scaled, full, _ = _both(config, uri, tmp, "big")
    assert scaled["model"] is None
    assert scaled == full


def test_verified_parse_accepts_intact_and_rejects_altered_records() -> None:
    import hashlib

    from aims_mlops._errors import EvidenceError
    from aims_mlops.evidence import EvidenceRecord

    record = new_record(
        kind="performance",
        system="s",
        outcome="pass",
        collector="tests.scaled_reads",
        subject=Subject(run_id="r1"),
        metrics={"accuracy": 0.91},
    )
    content = {k: v for k, v in json.loads(record.to_json()).items() if k != "signature"}
    expected = content.pop("content_hash")
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == expected  # independent hash
    assert EvidenceRecord.from_json(record.to_json(), verify=True) == record
    data = json.loads(record.to_json())
    del data["valid_until"]  # None when absent: the fast check declines, the full one holds
    assert EvidenceRecord.from_json(json.dumps(data, indent=2), verify=True) == record
    altered = record.to_json().replace("0.91", "0.99")
    with pytest.raises(EvidenceError, match="was altered"):
        EvidenceRecord.from_json(altered, verify=True)
    assert EvidenceRecord.from_json(altered).metrics["accuracy"] == 0.99  # no check by default
