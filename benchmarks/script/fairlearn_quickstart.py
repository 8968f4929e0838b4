"""fairlearn's quickstart (a decision tree on the Adult census data, ``MetricFrame`` by sex),
written again by hand for ``benchmarks/bench_script.py``: no download (the Adult data bundled
with aims_mlops stands in for ``fetch_adult``), inside one MLflow run that logs the overall
metrics and the model, as a team tracking it would.

With ``AIMS_BENCH=1`` the script is integrated as the README says: ``aims.init``, ``check_data``
on the training frame, ``log_input``, ``validate_performance``, ``assess_fairness``; lineage is
recorded as the run ends. Without it, only the script's own fairlearn and MLflow calls run.

    python benchmarks/script/fairlearn_quickstart.py
"""

from __future__ import annotations

import os

import mlflow
import mlflow.sklearn
import pandas as pd
from fairlearn.metrics import MetricFrame, count, selection_rate
from mlflow.models import infer_signature
from sklearn.metrics import accuracy_score
from sklearn.tree import DecisionTreeClassifier

from aims_mlops.datasets import load_adult

AIMS = os.environ.get("AIMS_BENCH") == "1"
if AIMS:
    import aims_mlops as aims


def main() -> None:
    data = load_adult("train")
    y_true = data["label"]
    X = pd.get_dummies(data.drop(columns=["label"]))
    sex = data["sex"]

    if AIMS:
        aims.init(system="income-classifier")
    mlflow.set_experiment("fairlearn-quickstart")
    with mlflow.start_run():
        if AIMS:
            aims.check_data(data, name="adult")
            mlflow.log_input(mlflow.data.from_pandas(data, name="adult"), context="training")
        classifier = DecisionTreeClassifier(min_samples_leaf=10, max_depth=4)
        classifier.fit(X, y_true)
        y_pred = classifier.predict(X)
        mf = MetricFrame(
            metrics={"accuracy": accuracy_score, "selection rate": selection_rate, "count": count},
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=sex,
        )
        print(mf.overall)
        print(mf.by_group)
        accuracy = float(mf.overall["accuracy"])
        mlflow.log_metric("accuracy", accuracy)
        mlflow.log_metric("selection_rate", float(mf.overall["selection rate"]))
        if AIMS:
            aims.validate_performance({"accuracy": accuracy})
            aims.assess_fairness(y_true, y_pred, data)
        signature = infer_signature(X.head(100), classifier.predict(X.head(100)))
        mlflow.sklearn.log_model(
            classifier,
            name="model",
            signature=signature,
            skops_trusted_types=["sklearn.tree._tree.Tree"],  # our own tree, trained above
        )


if __name__ == "__main__":
    main()
