"""Synthetic MLflow histories for read benchmarks: K systems, N runs and M evidence records each.

Each system gets an experiment (``<system>``), ``runs`` finished training runs with 10 params and
10 metrics, ``records`` evidence records spread evenly over the runs (kinds ``lineage.datasets``,
``lineage.code``, ``data_quality``, ``fairness``, ``performance`` in turn, built with
:func:`aims_mlops.evidence.new_record`, with the controls the catalog maps them to), and a
registered model ``<system>`` whose alias ``champion`` points at a version of the newest run.
An ``aims.yaml`` declaring the systems is written next to it.

The evidence is laid out exactly as :class:`aims_mlops.store.EvidenceStore` lays it out (tag
``aims.system``, tags ``aims.evidence.<id>`` = :func:`aims_mlops.store.tag_value`); ``--via tags``
(the default, fast) writes the record artifacts in one ``log_artifacts`` call and the tags in
one ``log_batch`` call per run (a read checks that each record's artifact exists: a tag alone is
a finding); ``--via store`` writes through ``EvidenceStore.write_many`` (slower, retried).

Run: ``MLFLOW_DISABLE_TELEMETRY=true python benchmarks/generate_history.py --tracking-uri
sqlite:////tmp/h/mlflow.db --systems 1 --runs 1000 --records 5000 --out /tmp/h``
(a ``postgresql+psycopg2://`` URI writes straight into a server's database: much faster than HTTP).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from aims_mlops.evidence import EvidenceRecord

KINDS = ("lineage.datasets", "lineage.code", "data_quality", "fairness", "performance")
METRICS = (
    "accuracy",
    "roc_auc",
    "f1",
    "precision",
    "recall",
    "log_loss",
    "demographic_parity_difference",
    "equalized_odds_difference",
    "train_seconds",
    "n_features",
)
ALIAS = "champion"


@dataclass(frozen=True, kw_only=True)
class History:
    """What was generated, where."""

    tracking_uri: str
    config_path: Path
    systems: tuple[str, ...]
    runs_per_system: int
    records_per_system: int
    current_run_ids: dict[str, str]
    seconds: float


def system_ids(count: int) -> list[str]:
    return [f"sys-{i:03d}" for i in range(count)]


def config_text(systems: Sequence[str]) -> str:
    """An ``aims.yaml`` declaring ``systems`` (each bound to its experiment and model)."""
    lines = [
        "version: 1",
        "organization: {name: Benchmark Ltd, aims_scope: Synthetic systems, policy_owner: CRO}",
        "systems:",
    ]
    for system in systems:
        lines += [
            f"  - id: {system}",
            f"    name: Synthetic system {system}",
            "    owner: Benchmark Owner (owner@example.test)",
            "    intended_use: Benchmark the evidence read path.",
            "    lifecycle_stage: development",
            f"    mlflow: {{experiment: {system}, registered_model: {system}, alias: {ALIAS}}}",
            "    sensitive_features: [sex, race]",
            "    fairness: {demographic_parity_difference: {max: 0.1}}",
            "    performance: {accuracy: {min: 0.8}, roc_auc: {min: 0.85}}",
        ]
    return "\n".join(lines) + "\n"


def _controls_by_kind() -> dict[str, list[str]]:
    from aims_mlops.catalog import load_catalog

    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for entry in load_catalog().entries:
        for kind in entry.rule.kinds:
            if kind in found:
                found[kind].append(entry.id)
    return found


def make_record(
    *,
    kind: str,
    system: str,
    run_id: str,
    experiment_id: str,
    digest: str,
    controls: Sequence[str],
    rng: random.Random,
) -> EvidenceRecord:
    """One record with realistic metrics and bounded details (about 0.5-1.5 kB of JSON)."""
    from aims_mlops.evidence import Subject, new_record

    metrics: dict[str, float] = {}
    details: dict[str, Any] = {}
    outcome = "pass"
    if kind == "lineage.datasets":
        details = {
            "datasets": [
                {"name": "train", "digest": digest, "context": "training", "rows": 32561},
                {"name": "test", "digest": digest[::-1], "context": "evaluation", "rows": 16281},
            ]
        }
        outcome = "info"
    elif kind == "lineage.code":
        details = {"git_commit": f"{rng.getrandbits(160):040x}", "source": "train.py"}
        outcome = "info"
    elif kind == "data_quality":
        results = [
            {"type": "expect_column_values_to_not_be_null", "column": c, "success": True}
            for c in ("age", "education", "sex", "race", "hours_per_week", "occupation")
        ]
        details = {"expectations": results, "rows": 32561}
        metrics = {"evaluated": 6.0, "successful": 6.0, "success_percent": 100.0}
    elif kind == "fairness":
        metrics = {
            "demographic_parity_difference": rng.uniform(0.0, 0.12),
            "equalized_odds_difference": rng.uniform(0.0, 0.12),
        }
        details = {
            "by_group": {
                g: {"selection_rate": rng.random(), "count": rng.randint(100, 20000)}
                for g in ("Male", "Female", "White", "Black", "Other")
            },
            "thresholds": {"demographic_parity_difference": {"max": 0.1}},
        }
        outcome = "pass" if metrics["demographic_parity_difference"] <= 0.1 else "fail"
    elif kind == "performance":
        metrics = {"accuracy": rng.uniform(0.78, 0.86), "roc_auc": rng.uniform(0.84, 0.91)}
        details = {"thresholds": {"accuracy": {"min": 0.8}, "roc_auc": {"min": 0.85}}}
        outcome = "pass" if metrics["accuracy"] >= 0.8 and metrics["roc_auc"] >= 0.85 else "fail"
    return new_record(
        kind=kind,
        system=system,
        outcome=outcome,  # type: ignore[arg-type]
        collector=f"aims_mlops.benchmark.{kind}",
        subject=Subject(run_id=run_id, experiment_id=experiment_id, dataset_digests=(digest,)),
        metrics=metrics,
        details=details,
        controls=controls,
    )


def _one_run(
    client: MlflowClient,
    *,
    system: str,
    experiment_id: str,
    index: int,
    n_records: int,
    controls: dict[str, list[str]],
    via_store: Any,
    start_ms: int,
) -> str:
    """Create one finished run with its params, metrics and ``n_records`` evidence records."""
    from mlflow.entities import Metric, Param
    from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME

    from aims_mlops.store import TAG_SYSTEM, evidence_tag, tag_value

    rng = random.Random(f"{system}-{index}")
    run = client.create_run(
        experiment_id,
        start_time=start_ms,
        tags={TAG_SYSTEM: system, MLFLOW_RUN_NAME: f"train-{index:05d}"},
    )
    run_id = run.info.run_id
    digest = f"{rng.getrandbits(64):016x}"
    records = [
        make_record(
            kind=KINDS[i % len(KINDS)],
            system=system,
            run_id=run_id,
            experiment_id=experiment_id,
            digest=digest,
            controls=controls[KINDS[i % len(KINDS)]],
            rng=rng,
        )
        for i in range(n_records)
    ]
    params = [Param(f"param_{i}", str(rng.randint(0, 1000))) for i in range(10)]
    metrics = [Metric(name, rng.random(), start_ms, 0) for name in METRICS]
    if via_store is None:
        import tempfile

        from mlflow.entities import RunTag

        from aims_mlops.store import EVIDENCE_ARTIFACT_DIR, artifact_path

        if records:  # the artifacts first, then the tags (as the store writes them)
            with tempfile.TemporaryDirectory(prefix="aims-history-") as tmp:
                for record in records:
                    target = Path(tmp) / artifact_path(record)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(record.to_json(), encoding="utf-8")
                evidence = EVIDENCE_ARTIFACT_DIR
                client.log_artifacts(run_id, str(Path(tmp) / evidence), evidence)
        tags = [RunTag(evidence_tag(r.id), tag_value(r)) for r in records]
        client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    else:
        client.log_batch(run_id, metrics=metrics, params=params)
        via_store.write_many(records, run_id=run_id)
    client.set_terminated(run_id, "FINISHED", end_time=start_ms + 60_000)
    return run_id


def generate_history(
    *,
    tracking_uri: str,
    out: Path,
    systems: int = 1,
    runs: int = 1000,
    records: int = 5000,
    via: str = "tags",
    threads: int = 1,
    names: Sequence[str] | None = None,
) -> History:
    """Write ``systems`` synthetic systems (``sys-000``, ... or the given ``names``) with ``runs``
    runs and ``records`` records each, and an ``aims.yaml`` declaring them."""
    from mlflow import MlflowClient

    from aims_mlops.store import EvidenceStore

    began = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=tracking_uri)
    controls = _controls_by_kind()
    store = (
        EvidenceStore(tracking_uri=tracking_uri, spool_dir=out / "spool")
        if via == "store"
        else None
    )
    names = list(names) if names is not None else system_ids(systems)
    now_ms = int(time.time() * 1000)
    current: dict[str, str] = {}
    per_run = [records // runs + (1 if i < records % runs else 0) for i in range(runs)]
    for system in names:
        experiment = client.get_experiment_by_name(system)
        experiment_id = (
            experiment.experiment_id if experiment is not None else client.create_experiment(system)
        )

        def one(index: int, system: str = system, experiment_id: str = experiment_id) -> str:
            return _one_run(
                client,
                system=system,
                experiment_id=experiment_id,
                index=index,
                n_records=per_run[index],
                controls=controls,
                via_store=store,
                start_ms=now_ms - (runs - index) * 60_000,
            )

        if threads > 1:
            with ThreadPoolExecutor(threads) as pool:
                run_ids = list(pool.map(one, range(runs)))
        else:
            run_ids = [one(index) for index in range(runs)]
        newest = run_ids[-1]
        if not client.search_registered_models(filter_string=f"name = '{system}'"):
            client.create_registered_model(system)
        version = client.create_model_version(system, source=f"runs:/{newest}/model", run_id=newest)
        client.set_registered_model_alias(system, ALIAS, version.version)
        current[system] = newest
    config_path = out / "aims.yaml"
    config_path.write_text(config_text(names), encoding="utf-8")
    return History(
        tracking_uri=tracking_uri,
        config_path=config_path,
        systems=tuple(names),
        runs_per_system=runs,
        records_per_system=records,
        current_run_ids=current,
        seconds=time.perf_counter() - began,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for aims.yaml")
    parser.add_argument("--systems", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1000, help="runs per system")
    parser.add_argument("--records", type=int, default=5000, help="evidence records per system")
    parser.add_argument("--via", choices=("tags", "store"), default="tags")
    parser.add_argument("--threads", type=int, default=1, help="parallel writers (servers)")
    args = parser.parse_args()
    history = generate_history(
        tracking_uri=args.tracking_uri,
        out=args.out,
        systems=args.systems,
        runs=args.runs,
        records=args.records,
        via=args.via,
        threads=args.threads,
    )
    total_runs = len(history.systems) * history.runs_per_system
    print(
        f"{len(history.systems)} systems, {total_runs} runs, "
        f"{len(history.systems) * history.records_per_system} records in {history.seconds:.1f} s "
        f"({total_runs / history.seconds:.0f} runs/s); config: {history.config_path}"
    )


if __name__ == "__main__":
    main()
