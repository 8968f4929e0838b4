"""MLflow's wine-quality ElasticNet example (``examples/sklearn_elasticnet_wine/train.py``),
written again by hand for ``benchmarks/bench_script.py``: no download (scikit-learn's bundled
wine data stands in for the wine-quality CSV), the same MLflow calls.

With ``AIMS_BENCH=1`` the script is integrated as the README says: ``aims.init``, ``check_data``
on the training frame, ``log_input``, ``validate_performance``; lineage is recorded as the run
ends. Without it, only the script's own MLflow calls run.

    python benchmarks/script/wine_elasticnet.py [alpha] [l1_ratio]
"""

from __future__ import annotations

import os
import sys

import mlflow
import mlflow.sklearn
import numpy as np
from mlflow.models import infer_signature
from sklearn.datasets import load_wine
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

AIMS = os.environ.get("AIMS_BENCH") == "1"
if AIMS:
    import aims_mlops as aims


def eval_metrics(actual: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    rmse = float(np.sqrt(mean_squared_error(actual, pred)))
    mae = float(mean_absolute_error(actual, pred))
    r2 = float(r2_score(actual, pred))
    return rmse, mae, r2


def main() -> None:
    np.random.seed(40)
    data = load_wine(as_frame=True).frame.rename(columns={"target": "quality"})
    data.columns = [c.replace("/", "_") for c in data.columns]
    train, test = train_test_split(data)
    train_x, test_x = train.drop(["quality"], axis=1), test.drop(["quality"], axis=1)
    train_y, test_y = train[["quality"]], test[["quality"]]

    alpha = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    l1_ratio = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5

    if AIMS:
        aims.init(system="wine-quality")
    mlflow.set_experiment("wine-quality")
    with mlflow.start_run():
        if AIMS:
            aims.check_data(train, name="training")
            mlflow.log_input(mlflow.data.from_pandas(train, name="training"), context="training")
        lr = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
        lr.fit(train_x, train_y)
        predicted_qualities = lr.predict(test_x)
        (rmse, mae, r2) = eval_metrics(test_y.to_numpy().ravel(), predicted_qualities)
        print(f"Elasticnet model (alpha={alpha:f}, l1_ratio={l1_ratio:f}):")
        print(f"  RMSE: {rmse}\n  MAE: {mae}\n  R2: {r2}")

        mlflow.log_param("alpha", alpha)
        mlflow.log_param("l1_ratio", l1_ratio)
        mlflow.log_metric("rmse", rmse)
        mlflow.log_metric("r2", r2)
        mlflow.log_metric("mae", mae)
        if AIMS:
            aims.validate_performance({"rmse": rmse, "r2": r2, "mae": mae})

        signature = infer_signature(train_x, lr.predict(train_x))
        mlflow.sklearn.log_model(lr, name="model", signature=signature)


if __name__ == "__main__":
    main()
