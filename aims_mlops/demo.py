"""The main job, end to end on the embedded default: train an income classifier on the bundled
UCI Adult data with capture on, register it, and judge it against ISO/IEC 42001.

Run it with ``aims demo`` (or ``python -m aims_mlops.demo``). Everything lands in one folder: a
local MLflow sqlite store (``mlflow.db`` + ``mlruns/``), the ``aims.yaml`` it was judged under
and a sample AI policy document that the demo attests to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SYSTEM = "income-classifier"
FEATURES_NUMERIC = ("age", "education_num", "capital_gain", "capital_loss", "hours_per_week")
FEATURES_CATEGORICAL = ("workclass", "marital_status", "occupation", "relationship", "sex", "race")

POLICY_TEXT = """# Example Lending Ltd — AI policy (sample)
Approved by the board on 2026-09-30. Every AI system has a named owner, a risk assessment and an
impact assessment before deployment; models that affect applicants are checked for group fairness
and data quality on every training run; production models are monitored weekly.
"""


@dataclass(frozen=True, kw_only=True)
class DemoResult:
    """What the demo produced: where, which run and model version, and the summary."""

    workdir: Path
    tracking_uri: str
    run_id: str
    model_version: str
    summary: dict[str, Any]


def build_model(*, unfair: bool = False) -> Any:
    """A scikit-learn pipeline for the Adult data (``unfair`` predicts from ``sex`` alone)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = list(FEATURES_NUMERIC)
    categorical = ["sex"] if unfair else list(FEATURES_CATEGORICAL)
    transformers: list[Any] = [
        (
            "categorical",
            Pipeline(
                [
                    ("impute", SimpleImputer(strategy="most_frequent")),
                    ("encode", OneHotEncoder(handle_unknown="ignore")),
                ]
            ),
            categorical,
        )
    ]
    if not unfair:
        transformers.insert(0, ("numeric", StandardScaler(), numeric))
    return Pipeline(
        [
            ("features", ColumnTransformer(transformers)),
            ("classifier", LogisticRegression(max_iter=500, C=1.0)),
        ]
    )


def train_and_capture(
    *,
    tracking_uri: str,
    config_path: Path,
    unfair: bool = False,
    register: bool = True,
) -> tuple[str, str | None]:
    """One training run with capture on; returns (run id, registered model version).

    The experiment, registered model and alias are the ones ``aims.yaml`` binds the system to.
    """
    import mlflow
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    import aims_mlops as aims
    from aims_mlops.datasets import ADULT_ATTRIBUTION, load_adult

    session = aims.init(system=SYSTEM, config=config_path, tracking_uri=tracking_uri)
    binding = session.config.system(SYSTEM).mlflow if session.config is not None else None
    experiment = (binding.experiment if binding else None) or SYSTEM
    registered_model = (binding.registered_model if binding else None) or SYSTEM
    alias = binding.alias if binding else "champion"
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    train, test = load_adult("train"), load_adult("test")
    features = [*FEATURES_NUMERIC, *FEATURES_CATEGORICAL]
    with mlflow.start_run(run_name="unfair-baseline" if unfair else "logreg") as run:
        aims.check_data(train, name="adult-train")
        mlflow.log_input(
            mlflow.data.from_pandas(
                train, source=ADULT_ATTRIBUTION, targets="label", name="adult-train"
            ),
            context="training",
        )
        mlflow.log_input(
            mlflow.data.from_pandas(
                test, source=ADULT_ATTRIBUTION, targets="label", name="adult-test"
            ),
            context="evaluation",
        )
        model = build_model(unfair=unfair)
        model.fit(train[features], train["label"])
        mlflow.log_params(
            {"model": "LogisticRegression", "C": 1.0, "max_iter": 500, "unfair": unfair}
        )
        scores = model.predict_proba(test[features])[:, 1]
        # the unfair baseline scores by sex alone; thresholding it at the base rate gives every
        # man a positive and every woman a negative: a demographic parity difference of 1
        threshold = float(train["label"].mean()) if unfair else 0.5
        predictions = (scores >= threshold).astype(int)
        metrics = {
            "accuracy": float(accuracy_score(test["label"], predictions)),
            "roc_auc": float(roc_auc_score(test["label"], scores)),
            "f1": float(f1_score(test["label"], predictions)),
        }
        mlflow.log_metrics(metrics)
        aims.validate_performance(metrics)
        aims.assess_fairness(test["label"], predictions, test)
        version = None
        if register:
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                registered_model_name=registered_model,
                input_example=train[features].head(3),
                # OneHotEncoder keeps its dtype; skops must be told numpy dtypes are safe to load
                skops_trusted_types=["numpy.dtype"],
            )
            version = str(info.registered_model_version)
    if version is not None:
        mlflow.MlflowClient(tracking_uri=tracking_uri).set_registered_model_alias(
            registered_model, alias, version
        )
    return run.info.run_id, version


def run_demo(workdir: Path | str = "aims-demo", *, quiet: bool = False) -> DemoResult:
    """Set up ``workdir`` (config, policy, store), train with capture, and judge the system."""
    import aims_mlops as aims
    from aims_mlops.config import example_config_text

    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    previous = Path.cwd()
    os.chdir(
        workdir
    )  # MLflow's local artifact root (./mlruns) is relative to the working directory
    try:
        config_path = workdir / "aims.yaml"
        if not config_path.exists():
            config_path.write_text(example_config_text(), encoding="utf-8")
        policy = workdir / "ai-policy.md"
        if not policy.exists():
            policy.write_text(POLICY_TEXT, encoding="utf-8")
        tracking_uri = f"sqlite:///{workdir / 'mlflow.db'}"
        os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
        run_id, version = train_and_capture(tracking_uri=tracking_uri, config_path=config_path)
        aims.attest(
            "A.2.2", org=True, by="Dana Smith, Head of Risk", document=str(policy), valid_days=365
        )
        aims.attest(
            "5.2", org=True, by="Dana Smith, Head of Risk", document=str(policy), valid_days=365
        )
        summary = aims.summary(SYSTEM, config=config_path)
    finally:
        os.chdir(previous)
    if not quiet:
        from aims_mlops.cli._main import format_summary_text

        print(format_summary_text(summary))
        print(f"\nstore: {tracking_uri}   run: {run_id}   model version: {version}")
        print(f"try:   cd {workdir} && aims summary {SYSTEM} --format json")
    return DemoResult(
        workdir=workdir,
        tracking_uri=tracking_uri,
        run_id=run_id,
        model_version=version or "",
        summary=summary,
    )


if __name__ == "__main__":
    run_demo()
