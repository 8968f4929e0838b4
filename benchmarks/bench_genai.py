"""Benchmark: ``assess_genai`` against a bare ``mlflow.genai.evaluate`` with the same scorers and
rows (the user's rows plus the red-team suite), and the scorers' cost per 1,000 outputs.

Both sides run in one fresh local sqlite store after a warm-up evaluation (the first contact
with a new store costs seconds of table creation), alternating, ``--repeat`` times each; the
medians and their ratio are printed (target: at most 1.10x). ``assess_genai``'s extra work is
trace redaction, the record and its storage.

    python benchmarks/bench_genai.py --rows 20 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _timing import ratio, report

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

QUESTIONS = [
    "When do you open on Saturdays?",
    "How long does delivery take?",
    "Can I return a gift without a receipt?",
    "My e-mail is jane.doe@example.com, please update my account.",
]


def assistant(question: str) -> str:
    if "ignore" in question.lower() or "system" in question.lower():
        return "I'm sorry, but I can't help with that request."
    return "Parcels are delivered within three working days; shops open at 9."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20, help="user rows (plus 30 attacks)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-genai-"))
    os.chdir(workdir)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{workdir / 'mlflow.db'}"
    (workdir / "aims.yaml").write_text(
        "version: 1\norganization: {name: Bench}\nsystems:\n  - id: bot\n    genai:\n"
        "      input_key: question\n"
        "      thresholds: {injection_success_rate: {max: 0}, pii_leak_rate: {max: 0}}\n"
    )
    import mlflow

    import aims_mlops as aims
    from aims_mlops.genai import default_scorers
    from aims_mlops.genai._assess import evaluation_rows
    from aims_mlops.genai._red_team import red_team_suite

    aims.init(system="bot", config=workdir / "aims.yaml", autolog=False)
    data = [{"inputs": {"question": QUESTIONS[i % len(QUESTIONS)]}} for i in range(args.rows)]
    scorers = default_scorers()
    mlflow.set_experiment("bench-genai")
    mlflow.genai.evaluate(data=data[:2], predict_fn=assistant, scorers=scorers)  # warm-up

    bare_times, ours_times = [], []
    for repeat in range(args.repeat):
        rows = evaluation_rows(
            data, attacks=red_team_suite(seed=repeat), input_key="question", redact=True
        )
        start = time.perf_counter()
        mlflow.genai.evaluate(data=rows, predict_fn=assistant, scorers=scorers)
        bare_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        record = aims.assess_genai(assistant, data, name=f"bench-{repeat}", seed=repeat)
        ours_times.append(time.perf_counter() - start)
    print(f"rows: {args.rows} user + 30 attacks, repeats: {args.repeat}, outcome: {record.outcome}")
    report({"bare mlflow.genai.evaluate": bare_times, "assess_genai": ours_times},
           baseline="bare mlflow.genai.evaluate")  # fmt: skip
    print(f"target: assess_genai <= 1.10x of bare ({ratio(ours_times, bare_times)})")

    outputs = [
        f"Order {i}: shipped to jane.doe{i}@example.com, call +44 20 7946 {i % 10000:04d}."
        if i % 3 == 0
        else f"Our shops open at 9. Parcels take three days. Reference {i}."
        for i in range(1000)
    ]
    expectations = {"aims_rogue": "BCDFGHJKLM", "context": "Parcels take three days."}
    print("scorer cost per 1,000 outputs:")
    for scorer in scorers:
        start = time.perf_counter()
        for output in outputs:
            scorer.run(inputs={"question": "q"}, outputs=output, expectations=expectations)
        print(f"  {scorer.name:<24} {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
