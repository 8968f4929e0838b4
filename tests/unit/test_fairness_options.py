"""FairnessOptions: one keyword-only, frozen object carries the fairness options through every
layer (``assess_fairness`` → the frame or arrays form → the record from the group table)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from aims_mlops.collectors import FairnessOptions, fairness_record
from aims_mlops.collectors._fairness import measure_fairness
from aims_mlops.collectors.backends import frame_fairness_record

FRAME = pd.DataFrame(
    {
        "label": [1, 0, 1, 0, 1, 0, 1, 0] * 5,
        "prediction": [1, 0, 0, 0, 1, 1, 1, 0] * 5,
        "sex": ["F", "F", "F", "F", "M", "M", "M", "M"] * 5,
    }
)
LIMITS = {"demographic_parity_difference": {"max": 0.1}}


def _content(record: object) -> tuple[object, ...]:
    return (record.outcome, record.metrics, record.details, record.controls)  # type: ignore[attr-defined]


def test_options_are_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        FairnessOptions(LIMITS)  # type: ignore[misc]
    options = FairnessOptions(thresholds=LIMITS, min_group_size=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.pos_label = 0  # type: ignore[misc]
    assert FairnessOptions().on_undefined == "fail"


def test_the_keyword_form_and_the_options_form_build_the_same_record() -> None:
    kwargs = {"pos_label": 1, "allow_identifiers": True, "max_categories": 7, "min_group_size": 3}
    by_keywords = fairness_record(
        FRAME["label"], FRAME["prediction"], FRAME["sex"], system="s", thresholds=LIMITS, **kwargs
    )
    by_options = measure_fairness(
        FRAME["label"], FRAME["prediction"], FRAME["sex"], system="s",
        options=FairnessOptions(thresholds=LIMITS, **kwargs),
    )  # fmt: skip
    assert _content(by_keywords.record) == _content(by_options.record)
    assert by_keywords.record.outcome == "fail"  # 0.75 vs 0.25 selected: beyond 0.1


def test_the_frame_form_carries_every_option_to_the_record() -> None:
    never_selected = FRAME.assign(prediction=0)  # a ratio 0/0: the measurement proves nothing
    strict = frame_fairness_record(
        never_selected, y_true="label", y_pred="prediction", sensitive_features=["sex"],
        system="s", options=FairnessOptions(),
    )  # fmt: skip
    lenient = frame_fairness_record(
        never_selected, y_true="label", y_pred="prediction", sensitive_features=["sex"],
        system="s", options=FairnessOptions(on_undefined="warn"),
    )  # fmt: skip
    assert strict.record.outcome == "fail"
    assert lenient.record.outcome == "info"
    hashed = frame_fairness_record(
        FRAME, y_true="label", y_pred="prediction", sensitive_features="sex",
        system="s", options=FairnessOptions(min_group_size=100),
    )  # fmt: skip
    assert all(str(g).startswith("sha256:") for g in hashed.table.index)
