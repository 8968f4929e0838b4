"""Identifier-like columns are refused; category labels are hashed unless values may be kept."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from aims_mlops import ConfigError, DataError
from aims_mlops.collectors._fairness import fairness_record
from aims_mlops.collectors._identifiers import (
    ERROR_LOOKS_LIKE_IDENTIFIER,
    NEAR_UNIQUE_SHARE,
    hashed_label,
    looks_like_identifier,
)
from aims_mlops.collectors.backends import monitoring_record
from aims_mlops.config import example_config_text, parse_config

NAMES = [f"Person{i:03d} Surname{i:03d}" for i in range(200)]


def frame(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "name": [NAMES[i % len(NAMES)] for i in range(n)],
            "sex": rng.choice(["Female", "Male"], n),
            "income": rng.normal(5e4, 1e4, n),
        }
    )


def test_the_rule_more_than_the_limit_or_near_unique() -> None:
    assert looks_like_identifier(51, 10_000, max_categories=50)
    assert not looks_like_identifier(50, 10_000, max_categories=50)
    assert looks_like_identifier(19, 20, max_categories=50)  # near-unique
    assert not looks_like_identifier(2, 2, max_categories=50)  # two groups in two rows
    assert not looks_like_identifier(10, 10, max_categories=50)
    assert hashed_label("Female") == "sha256:" + hashlib.sha256(b"Female").hexdigest()[:12]


def test_fairness_refuses_a_name_column_naming_it_and_the_counts() -> None:
    df = frame()
    y = (df["income"] > 5e4).astype(int)
    with pytest.raises(DataError) as raised:
        fairness_record(y, y, df["name"], system="s", thresholds={})
    assert str(raised.value) == ERROR_LOOKS_LIKE_IDENTIFIER.format(
        column="name", distinct=200, rows=400, limit=50, unique_percent=NEAR_UNIQUE_SHARE * 100
    )
    assert "Person" not in str(raised.value)
    with pytest.raises(DataError, match="'name' looks like an identifier"):
        fairness_record(y, y, df[["sex", "name"]], system="s", thresholds={})
    with pytest.raises(DataError, match="12 distinct values in 12 rows"):  # near-unique
        fairness_record(y[:12], y[:12], df["name"][:12], system="s", thresholds={})
    record = fairness_record(y, y, df["name"], system="s", thresholds={}, allow_identifiers=True)
    assert record.record.details["groups"] == 200
    assert fairness_record(y, y, df["sex"], system="s", thresholds={}).record.details["groups"] == 2
    limited = fairness_record(y, y, df["name"], system="s", thresholds={}, max_categories=500)
    assert limited.record.details["groups"] == 200


def test_monitoring_skips_identifiers_by_default_and_refuses_a_named_one() -> None:
    reference, current = frame(), frame()
    record = monitoring_record(current, reference, system="s")
    text = record.to_json()
    assert not [name for name in NAMES if name in text]
    assert record.details["identifier_columns_skipped"] == ("name",)
    assert record.details["category_labels"] == "sha256"
    assert "Female" not in text and hashed_label("Female") in text
    with pytest.raises(DataError, match="column 'name' looks like an identifier"):
        monitoring_record(current, reference, system="s", columns=["name", "sex"])
    allowed = monitoring_record(
        current, reference, system="s", allow_identifiers=True, include_values=True
    )
    assert allowed.details["identifier_columns_skipped"] == ()
    features = {f["feature"]: f for f in json.loads(allowed.to_json())["details"]["features"]}
    assert "Female" in {c["category"] for c in features["sex"]["top_categories"]}


def test_max_categories_is_a_capture_setting() -> None:
    text = example_config_text()
    assert "  max_categories: 50" in text
    assert parse_config(text).capture.max_categories == 50
    lowered = text.replace("  max_categories: 50", "  max_categories: 10", 1)
    assert parse_config(lowered).capture.max_categories == 10
    with pytest.raises(ConfigError, match="max_categories"):
        parse_config(text.replace("  max_categories: 50", "  max_categories: 0", 1))
