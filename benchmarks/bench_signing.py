"""What Ed25519 signatures cost: per record, and for ``aims summary`` over a real store.

(a) Per record (pure, in memory): building a record without and with a signature, and checking
it (the trust check without keys, and with a trusted public key: hash + signature).
(b) ``aims summary`` (the in-process judgement it runs, median of a few) over two local sqlite
stores holding the same number of records on a system's current run, one unsigned and judged
without ``trust:``, one signed and judged with the public key listed; and one ``aims summary``
subprocess of each (interpreter and MLflow import included).

    python benchmarks/bench_signing.py [--records 2000] [--stored 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _timing import alternate, report

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

SYSTEM = "bench"
CONFIG = """\
version: 1
organization: {name: Bench Ltd, aims_scope: Bench, policy_owner: CRO}
systems:
  - id: bench
    name: Bench model
    owner: Dana
    intended_use: Benchmarking.
    lifecycle_stage: validation
    mlflow: {experiment: bench}
    sensitive_features: [sex]
    fairness: {demographic_parity_difference: {max: 0.1}}
"""
TRUST = "trust:\n  public_keys: [keys/aims-signing.pub]\n"
KINDS = ("fairness", "performance", "data_quality", "lineage.code", "lineage.params")


def records(count: int, *, run_id: str = "run-1", key=None) -> list:
    from aims_mlops.catalog import load_catalog
    from aims_mlops.evidence import Subject, new_record

    catalog = load_catalog()
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        out.append(
            new_record(
                kind=kind,
                system=SYSTEM,
                outcome="info" if kind.startswith("lineage") else "pass",
                collector="bench",
                subject=Subject(run_id=run_id),
                metrics={"value": i / count},
                details={"checks": [{"passed": True, "reason": f"check {i}"}]},
                controls=catalog.controls_for_kind(kind),
                signing_key=key,
            )
        )
    return out


def per_record(count: int) -> None:
    from aims_mlops.evidence import NO_TRUST, TrustPolicy, check_record, load_kinds, new_signing_key

    key = new_signing_key()
    policy = TrustPolicy(keys={key.key_id: key.public_key}, require_signatures=True)
    kinds = load_kinds()
    clock = datetime.now(UTC)

    def timed(fn) -> float:
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) / count * 1e6

    plain = records(10, key=None)  # warm up (catalog, kinds, cryptography import)
    records(10, key=key)
    build_plain = timed(lambda: records(count))
    build_signed = timed(lambda: records(count, key=key))
    plain = records(count)
    signed = records(count, key=key)
    hashes = [r.content_hash for r in plain]
    sign_only = timed(lambda: [key.sign(h) for h in hashes])
    check_plain = timed(
        lambda: [check_record(r, policy=NO_TRUST, kinds=kinds, clock=clock) for r in plain]
    )
    check_signed = timed(
        lambda: [check_record(r, policy=policy, kinds=kinds, clock=clock) for r in signed]
    )
    verify_only = timed(
        lambda: [key.public_key.verify(r.content_hash, r.signature) for r in signed]
    )
    print(f"per record, {count} records (microseconds)")
    print(f"  build unsigned          {build_plain:8.1f}")
    print(f"  build signed            {build_signed:8.1f}   (+{build_signed - build_plain:.1f})")
    print(f"  Ed25519 sign only       {sign_only:8.1f}")
    print(f"  check, no trust         {check_plain:8.1f}")
    print(f"  check, trusted key      {check_signed:8.1f}   (+{check_signed - check_plain:.1f})")
    print(f"  Ed25519 verify only     {verify_only:8.1f}")


def _store(folder: Path, stored: int, *, signed: bool) -> None:
    from mlflow import MlflowClient

    from aims_mlops.evidence import generate_keys
    from aims_mlops.store import EvidenceStore

    folder.mkdir(parents=True)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    key = generate_keys(folder / "keys") if signed else None
    config = CONFIG + (TRUST if signed else "")
    config += f"store: {{tracking_uri: '{uri}'}}\n"
    (folder / "aims.yaml").write_text(config)
    client = MlflowClient(tracking_uri=uri)
    run_id = client.create_run(client.create_experiment("bench")).info.run_id
    client.set_tag(run_id, "aims.system", SYSTEM)
    client.set_terminated(run_id)
    EvidenceStore(tracking_uri=uri, spool_dir=folder / "spool").write_many(
        records(stored, run_id=run_id, key=key), run_id=run_id
    )


def _judge(folder: Path) -> None:
    from aims_mlops.judgement import judge

    result = judge(config=folder / "aims.yaml", systems=[SYSTEM])
    assert not result.integrity_findings, result.integrity_findings[:3]


def _cli_seconds(folder: Path) -> float:
    aims = Path(sys.executable).with_name("aims")
    start = time.perf_counter()
    subprocess.run(
        [str(aims), "summary", SYSTEM, "--config", str(folder / "aims.yaml")],
        check=True,
        capture_output=True,
        cwd=folder,
    )
    return time.perf_counter() - start


def summary_ratio(stored: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="aims-bench-signing-") as tmp:
        unsigned, signed = Path(tmp) / "unsigned", Path(tmp) / "signed"
        _store(unsigned, stored, signed=False)
        _store(signed, stored, signed=True)
        _judge(unsigned), _judge(signed)  # warm up
        judged = alternate(
            {
                "judgement, unsigned, no trust": lambda: _judge(unsigned),
                "judgement, signed, trusted key": lambda: _judge(signed),
            },
            repeat=repeat,
        )
        cli: dict[str, list[float]] = {"CLI, unsigned": [], "CLI, signed": []}
        for _ in range(repeat):  # alternating
            cli["CLI, unsigned"].append(_cli_seconds(unsigned))
            cli["CLI, signed"].append(_cli_seconds(signed))
    print(f"aims summary over {stored} stored records")
    report(judged, baseline="judgement, unsigned, no trust")
    report(cli, baseline="CLI, unsigned")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--stored", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    per_record(args.records)
    summary_ratio(args.stored, args.repeat)


if __name__ == "__main__":
    main()
