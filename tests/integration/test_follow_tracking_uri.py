"""Capture follows the tracking URI current when each record is written.

A process bound with ``aims_mlops.init`` (no tracking URI pinned) trains one run in store A,
switches ``mlflow.set_tracking_uri()`` to store B and trains another: each run's evidence
(autolog's lineage at run end, ``validate_performance`` inside the run) lands on that run in its
own store, nothing goes to the spool, and records without a run follow the switch too.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import aims_mlops
from aims_mlops import AimsWarning
from aims_mlops.capture import get_session
from aims_mlops.store import EvidenceStore, Spool
from tests.unit.test_gate import CONFIG

pytestmark = pytest.mark.slow


def _train(name: str) -> str:
    import mlflow

    mlflow.set_experiment(f"credit-{name}")
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_metric("accuracy", 0.9)
        aims_mlops.validate_performance(metrics={"accuracy": 0.9})
    return str(run.info.run_id)


def test_each_run_evidence_lands_in_its_own_store(tmp_path: Path, monkeypatch) -> None:
    import mlflow

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    spool = tmp_path / "spool"
    config = tmp_path / "aims.yaml"
    config.write_text(CONFIG + f"store: {{spool_dir: '{spool}'}}\n")
    uri_a, uri_b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"

    aims_mlops.init(system="credit", config=config)  # autolog on, no tracking URI pinned
    with warnings.catch_warnings():
        warnings.simplefilter("error", AimsWarning)  # a record that misses its store warns
        mlflow.set_tracking_uri(uri_a)
        run_a = _train("a")
        mlflow.set_tracking_uri(uri_b)
        run_b = _train("b")
        no_run_store = get_session().context(system="credit").store

    store_a, store_b = EvidenceStore(tracking_uri=uri_a), EvidenceStore(tracking_uri=uri_b)
    in_a = {(r.subject.run_id, r.kind) for r in store_a.records()}
    in_b = {(r.subject.run_id, r.kind) for r in store_b.records()}
    for run, found, other in ((run_a, in_a, in_b), (run_b, in_b, in_a)):
        kinds = {kind for run_id, kind in found if run_id == run}
        assert {"performance", "lineage.params"} <= kinds, (run, found)
        assert not any(run_id == run for run_id, _ in other)
    # a record about no run follows the URI current when it is written
    assert no_run_store.tracking_uri == uri_b
    assert Spool(directory=spool).pending() == 0  # nothing waits in the spool
