"""Do reads scale? ``aims summary`` and ``aims status`` on large synthetic histories, side by side
with a raw ``MlflowClient.search_runs`` over the same runs, in one process.

Backends: the embedded sqlite store, and PostgreSQL (a throwaway cluster, see
``tests/postgres_fixtures.py``) read through a real ``mlflow server`` and, for reference,
directly. Histories come from ``benchmarks/generate_history.py`` (5 records per run):

- growth: systems ``g100``, ``g1000``, ``g10000`` with that many runs; ``g1000`` (1,000 runs,
  5,000 records) is the target case: ``aims summary`` < 2 s and < 1.5x the raw search;
- portfolio: 100 systems of 10 runs each in the same store: ``aims status`` < 10 s.

Each timing is the median of ``--repeat`` calls after one warm-up (the CLI builds a new store per
call, as a user's command does). Phases of one summary (current model, records, engine) show
where the time goes.

Run: ``MLFLOW_DISABLE_TELEMETRY=true python benchmarks/bench_summary.py [--growth 100,1000,10000]
[--backends sqlite,postgres] [--repeat 3]`` (about 15 minutes with 10,000 runs on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate_history import config_text, generate_history

RECORDS_PER_RUN = 5
PORTFOLIO_SYSTEMS = 100
PORTFOLIO_RUNS = 10
TARGET_SUMMARY_SECONDS = 2.0
TARGET_SUMMARY_RATIO = 1.5
TARGET_STATUS_SECONDS = 10.0


@dataclass
class Results:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **row: Any) -> None:
        self.rows.append(row)
        print(json.dumps(row), flush=True)


def median_seconds(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up: imports, connections, server caches
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


@contextmanager
def tracking_env(uri: str, workdir: Path) -> Iterator[None]:
    saved = (os.environ.get("MLFLOW_TRACKING_URI"), Path.cwd())
    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.chdir(workdir)
    try:
        yield
    finally:
        if saved[0] is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved[0]
        os.chdir(saved[1])


def cli_call(args: Sequence[str]) -> Any:
    from click.testing import CliRunner

    from aims_mlops.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"aims {' '.join(args)} exited {result.exit_code}: {result.output}")
    return json.loads(result.stdout)


_CLIENTS: dict[str, Any] = {}


def client_for(uri: str) -> Any:
    from mlflow import MlflowClient

    if uri not in _CLIENTS:
        _CLIENTS[uri] = MlflowClient(tracking_uri=uri)
    return _CLIENTS[uri]


def raw_search(uri: str, system: str) -> int:
    """Every run of ``system`` (by its ``aims.system`` tag in its experiment), all pages."""
    client = client_for(uri)
    experiment = client.get_experiment_by_name(system)
    assert experiment is not None
    count, token = 0, None
    while True:
        page = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.`aims.system` = '{system}'",
            max_results=1000,
            page_token=token,
        )
        count += len(page)
        token = page.token
        if not token:
            return count


def phases(uri: str, config: Path, system: str) -> dict[str, float]:
    """Seconds spent in one summary's parts: current model, records, engine."""
    from datetime import UTC, datetime

    from aims_mlops import _capture
    from aims_mlops.catalog import load_catalog
    from aims_mlops.config import load_config
    from aims_mlops.engine import assess

    cfg = load_config(config)
    store = _capture.make_store(cfg, tracking_uri=uri)
    binding = cfg.system(system).mlflow
    began = time.perf_counter()
    current = store.current_model(
        registered_model=binding.registered_model,
        alias=binding.alias,
        experiment=binding.experiment,
    )
    t_current = time.perf_counter() - began
    began = time.perf_counter()
    records = store.records(system=system)
    t_records = time.perf_counter() - began
    began = time.perf_counter()
    assess(
        load_catalog(),
        cfg,
        records,
        current_models={system: current},
        now=datetime.now(UTC),
        systems=[system],
    )
    t_engine = time.perf_counter() - began
    return {
        "current_model_s": round(t_current, 3),
        "records_s": round(t_records, 3),
        "engine_s": round(t_engine, 3),
        "records": len(records),
    }


# -- the proposed read path (a prototype of the store change the report describes) ----------------
EVIDENCE_PREFIX = "aims.evidence."
_HASH_EXCLUDED = ("content_hash", "signature")
#: How far back (newest runs first) the proposed read looks for kinds the current run lacks.
HISTORY_RUNS = 100


def fast_record(value: str) -> Any:
    """Parse one evidence tag, checking the hash on the parsed JSON (the tag holds canonical
    JSON, so its content re-serializes byte for byte); falls back to the record's own check."""
    import hashlib

    from aims_mlops.evidence import EvidenceRecord

    data = json.loads(value)
    content = {k: v for k, v in data.items() if k not in _HASH_EXCLUDED}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    record = EvidenceRecord.from_dict(data)
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != data.get("content_hash"):
        record.verify()  # the slow, authoritative check (raises when altered)
    return record


def _tag_records(runs: Sequence[Any], seen: dict[str, Any]) -> None:
    for run in runs:
        for key, value in run.data.tags.items():
            if key.startswith(EVIDENCE_PREFIX) and key[len(EVIDENCE_PREFIX) :] not in seen:
                seen[key[len(EVIDENCE_PREFIX) :]] = fast_record(value)


def _all_pages(client: Any, ids: list[str], filter_string: str) -> list[Any]:
    found, token = [], None
    while True:
        page = client.search_runs(ids, filter_string, max_results=1000, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def candidate_judge(uri: str, config: Path, systems: Sequence[str] | None = None) -> Any:
    """judge() with the proposed reads: per system the current model's run (one batched
    ``attributes.run_id IN`` search for all systems), the evidence experiment's runs (two searches
    for all systems and the organization), and, only when a run-level kind has no record on the
    current run, the system's newest :data:`HISTORY_RUNS` runs (one page)."""
    from datetime import UTC, datetime

    from aims_mlops import _capture
    from aims_mlops.catalog import load_catalog
    from aims_mlops.config import load_config
    from aims_mlops.engine import assess

    cfg = load_config(config)
    wanted = list(systems) if systems is not None else [s.id for s in cfg.in_scope_systems]
    store = _capture.make_store(cfg, tracking_uri=uri)
    client = client_for(uri)
    catalog = load_catalog()
    run_kinds = {k for e in catalog.entries if e.scope == "system" for k in e.rule.kinds}
    current = {}
    for system in wanted:
        binding = cfg.system(system).mlflow
        current[system] = store.current_model(
            registered_model=binding.registered_model,
            alias=binding.alias,
            experiment=binding.experiment,
        )
    by_system: dict[str, dict[str, Any]] = {system: {} for system in wanted}
    org: dict[str, Any] = {}
    evidence = client.get_experiment_by_name(cfg.store.evidence_experiment)
    if evidence is not None:
        eid = [evidence.experiment_id]
        _tag_records(_all_pages(client, eid, "tags.`aims.scope` = 'organization'"), org)
        for run in _all_pages(client, eid, "tags.`aims.system` LIKE '%'"):
            system = run.data.tags.get("aims.system")
            if system in by_system:
                _tag_records([run], by_system[system])
    run_ids = [m.run_id for m in current.values() if m is not None and m.run_id]
    experiment_ids = store._all_experiment_ids() if run_ids else []  # one request per 1,000
    for start in range(0, len(run_ids), 100):
        quoted = ", ".join(f"'{r}'" for r in run_ids[start : start + 100])
        for chunk in range(0, len(experiment_ids), 100):
            ids = experiment_ids[chunk : chunk + 100]
            for run in _all_pages(client, ids, f"attributes.run_id IN ({quoted})"):
                system = run.data.tags.get("aims.system")
                if system in by_system:
                    _tag_records([run], by_system[system])
    for system in wanted:
        have = {r.kind for r in by_system[system].values()}
        if not run_kinds - have:
            continue
        binding = cfg.system(system).mlflow
        experiment = (
            client.get_experiment_by_name(binding.experiment) if binding.experiment else None
        )
        if experiment is None:
            continue
        page = client.search_runs(
            [experiment.experiment_id],
            f"tags.`aims.system` = '{system}'",
            max_results=HISTORY_RUNS,
            order_by=["attributes.start_time DESC"],
        )
        _tag_records(page, by_system[system])
    records = list(org.values()) + [r for found in by_system.values() for r in found.values()]
    return assess(
        catalog, cfg, records, current_models=current, now=datetime.now(UTC), systems=wanted
    )


def candidate_summary(uri: str, config: Path, system: str) -> Any:
    from aims_mlops.engine import summary_dict

    data = summary_dict(candidate_judge(uri, config, [system]).systems[system])
    return json.loads(json.dumps(data, default=str))


def candidate_status(uri: str, config: Path) -> Any:
    from aims_mlops.engine import status_rows

    return json.loads(json.dumps(status_rows(candidate_judge(uri, config)), default=str))


def measure(
    results: Results,
    *,
    backend: str,
    uri: str,
    workdir: Path,
    growth: Sequence[int],
    repeat: int,
) -> None:
    growth_config = workdir / "growth.yaml"
    growth_config.write_text(config_text([f"g{n}" for n in growth]), encoding="utf-8")
    portfolio_config = workdir / "portfolio.yaml"
    portfolio_config.write_text(
        config_text([f"p-{i:03d}" for i in range(PORTFOLIO_SYSTEMS)]), encoding="utf-8"
    )
    with tracking_env(uri, workdir):
        for n in growth:
            system = f"g{n}"
            summary = median_seconds(
                lambda system=system: cli_call(
                    ["summary", system, "--config", str(growth_config), "--format", "json"]
                ),
                repeat,
            )
            raw = median_seconds(lambda system=system: raw_search(uri, system), repeat)
            proposed = median_seconds(
                lambda system=system: candidate_summary(uri, growth_config, system), repeat
            )
            same = candidate_summary(uri, growth_config, system) == cli_call(
                ["summary", system, "--config", str(growth_config), "--format", "json"]
            )
            row: dict[str, Any] = {
                "backend": backend,
                "case": "summary",
                "system": system,
                "runs": n,
                "records": n * RECORDS_PER_RUN,
                "summary_s": round(summary, 3),
                "raw_search_s": round(raw, 3),
                "ratio": round(summary / raw, 2),
                "proposed_s": round(proposed, 3),
                "proposed_ratio": round(proposed / raw, 2),
                "proposed_same_summary": same,
                **phases(uri, growth_config, system),
            }
            if n == 1000:
                row["meets_target"] = summary < TARGET_SUMMARY_SECONDS and (
                    summary / raw < TARGET_SUMMARY_RATIO
                )
            results.add(**row)
        status = median_seconds(
            lambda: cli_call(["status", "--config", str(portfolio_config), "--format", "json"]),
            max(1, repeat - 1),
        )
        proposed_status = median_seconds(
            lambda: candidate_status(uri, portfolio_config), max(1, repeat - 1)
        )
        same_status = candidate_status(uri, portfolio_config) == cli_call(
            ["status", "--config", str(portfolio_config), "--format", "json"]
        )
        raw_all = median_seconds(
            lambda: [raw_search(uri, f"p-{i:03d}") for i in range(PORTFOLIO_SYSTEMS)], 1
        )
        results.add(
            backend=backend,
            case="status",
            systems=PORTFOLIO_SYSTEMS,
            runs=PORTFOLIO_SYSTEMS * PORTFOLIO_RUNS,
            records=PORTFOLIO_SYSTEMS * PORTFOLIO_RUNS * RECORDS_PER_RUN,
            status_s=round(status, 3),
            raw_search_s=round(raw_all, 3),
            ratio=round(status / raw_all, 2),
            meets_target=status < TARGET_STATUS_SECONDS,
            proposed_s=round(proposed_status, 3),
            proposed_same_status=same_status,
        )


def populate(
    uri: str, workdir: Path, growth: Sequence[int], results: Results, backend: str
) -> None:
    for n in growth:
        history = generate_history(
            tracking_uri=uri,
            out=workdir / "gen",
            runs=n,
            records=n * RECORDS_PER_RUN,
            names=[f"g{n}"],
        )
        results.add(backend=backend, case="generate", runs=n, seconds=round(history.seconds, 1))
    history = generate_history(
        tracking_uri=uri,
        out=workdir / "gen",
        runs=PORTFOLIO_RUNS,
        records=PORTFOLIO_RUNS * RECORDS_PER_RUN,
        names=[f"p-{i:03d}" for i in range(PORTFOLIO_SYSTEMS)],
    )
    results.add(
        backend=backend,
        case="generate",
        runs=PORTFOLIO_SYSTEMS * PORTFOLIO_RUNS,
        seconds=round(history.seconds, 1),
    )


def run_sqlite(workdir: Path, growth: Sequence[int], repeat: int, results: Results) -> None:
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    marker = workdir / ".populated"  # --workdir: a second run reuses the sqlite history
    if not marker.exists():
        populate(uri, workdir, growth, results, "sqlite")
        marker.touch()
    measure(results, backend="sqlite", uri=uri, workdir=workdir, growth=growth, repeat=repeat)


def run_postgres(
    workdir: Path, growth: Sequence[int], repeat: int, results: Results, workers: int
) -> None:
    from tests.postgres_fixtures import PostgresCluster, PostgresMlflowServer, find_pg_bindir

    bindir = find_pg_bindir()
    if bindir is None:
        print("postgres: binaries missing (bash scripts/postgres.sh); skipped", file=sys.stderr)
        return
    cluster = PostgresCluster(bindir=bindir)
    server: PostgresMlflowServer | None = None
    try:
        cluster.start()
        db_uri = cluster.create_database("bench")
        # tables first (as the server would), then the history straight into the database
        populate(db_uri, workdir, growth, results, "postgres")
        server = PostgresMlflowServer(workdir, backend_uri=db_uri, workers=workers)
        server.start()
        measure(
            results,
            backend=f"postgres via mlflow server ({workers} workers)",
            uri=server.uri,
            workdir=workdir,
            growth=growth,
            repeat=repeat,
        )
        measure(
            results,
            backend="postgres direct",
            uri=db_uri,
            workdir=workdir,
            growth=growth,
            repeat=repeat,
        )
    finally:
        if server is not None:
            server.stop()
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--growth", default="100,1000,10000", help="runs per growth system")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="mlflow server workers")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep (and reuse) the sqlite history here"
    )
    args = parser.parse_args()
    growth = [int(n) for n in args.growth.split(",") if n]
    results = Results()
    with tempfile.TemporaryDirectory(prefix="aims-bench-summary-") as tmp:
        for backend in args.backends.split(","):
            workdir = (args.workdir or Path(tmp)) / backend
            workdir.mkdir(parents=True, exist_ok=True)
            if backend == "sqlite":
                run_sqlite(workdir, growth, args.repeat, results)
            elif backend == "postgres":
                run_postgres(workdir, growth, args.repeat, results, args.workers)
            else:
                parser.error(f"unknown backend {backend!r}")
    if args.json is not None:
        args.json.write_text(json.dumps(results.rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
