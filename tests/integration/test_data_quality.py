"""Data-quality evidence with the real Great Expectations 1.x on the real Adult data (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from aims_mlops import DataError
from aims_mlops.catalog import load_catalog
from aims_mlops.collectors._data_quality import (
    ERROR_BAD_EXPECTATION_ARGS,
    ERROR_NOT_A_FRAME,
    ERROR_UNKNOWN_EXPECTATION,
    MAX_LIST_ITEMS,
    build_expectations,
)
from aims_mlops.collectors._digest import frame_sha256
from aims_mlops.collectors.backends import data_quality_record, run_expectations
from aims_mlops.datasets import load_adult
from aims_mlops.evidence import EvidenceRecord, Subject

pytestmark = pytest.mark.slow

RACES = ["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"]


def _spec(type_: str, **kwargs: Any) -> dict[str, Any]:
    """The declarative (aims.yaml) form of an expectation."""
    return {"type": type_, "kwargs": kwargs}


SUITE: list[dict[str, Any]] = [
    _spec("expect_column_values_to_be_between", column="age", min_value=17, max_value=90),
    _spec("expect_column_values_to_not_be_null", column="sex"),
    _spec("expect_column_values_to_be_in_set", column="sex", value_set=["Male", "Female"]),
    _spec("expect_column_values_to_be_in_set", column="race", value_set=RACES),
    _spec("expect_column_values_to_be_between", column="hours_per_week", min_value=1, max_value=99),
    _spec("expect_column_mean_to_be_between", column="age", min_value=30, max_value=50),
    _spec("expect_table_row_count_to_be_between", min_value=30000, max_value=40000),
]
MARKER = "Atlantis-7f3e9"  # a value that stands for personal data: it must not leak by default


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return load_adult("train")


@pytest.fixture(scope="module")
def corrupted(adult: pd.DataFrame) -> dict[str, Any]:
    """Adult with ages of 200 in 40 rows, sex missing in 25 others, one unknown country."""
    df = adult.copy()
    rng = np.random.default_rng(7)
    rows = rng.choice(len(df), size=66, replace=False)
    age_rows, sex_rows, marker_row = rows[:40], rows[40:65], int(rows[65])
    df.loc[age_rows, "age"] = 200
    df.loc[sex_rows, "sex"] = None
    df.loc[marker_row, "native_country"] = MARKER
    return {"df": df, "marker_row": marker_row}


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f} %"


def _checks(record: EvidenceRecord) -> list[dict[str, Any]]:
    return json.loads(record.to_json())["details"]["checks"]


def test_adult_passes_a_sensible_suite(
    adult: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: Any
) -> None:
    # the suite's bounds hold on the data, checked with pandas
    assert adult["age"].between(17, 90).all() and adult["sex"].notna().all()
    assert adult["race"].isin(RACES).all() and adult["hours_per_week"].between(1, 99).all()
    monkeypatch.chdir(tmp_path)
    capfd.readouterr()
    record = data_quality_record(
        adult, SUITE, name="adult-train", system="credit-scoring", subject=Subject(run_id="r-1")
    )
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    assert list(tmp_path.iterdir()) == []  # no gx/ folder, no files at all

    assert record.kind == "data_quality"
    assert record.outcome == "pass"
    assert record.controls == tuple(sorted(load_catalog().controls_for_kind("data_quality")))
    assert record.system == "credit-scoring"
    digest = frame_sha256(adult)
    assert record.subject.dataset_digests == (digest,)
    assert record.subject.run_id == "r-1"
    assert record.details["dataset"] == "adult-train"
    assert record.details["dataset_digest"] == digest
    assert dict(record.metrics) == {
        "evaluated_expectations": len(SUITE),
        "successful_expectations": len(SUITE),
        "unsuccessful_expectations": 0,
        "success_percent": 100.0,
        "row_count": adult.shape[0],
        "column_count": adult.shape[1],
    }
    checks = _checks(record)
    assert [c["type"] for c in checks] == [s["type"] for s in SUITE]  # in the given order
    assert checks[0]["reason"] == (
        f"expect_column_values_to_be_between(age, 17..90): 0 of {len(adult):,} values (0.00 %) "
        "outside"
    )
    assert checks[0]["kwargs"] == {"column": "age", "min_value": 17, "max_value": 90}
    mean = checks[5]
    assert mean["observed_value"] == pytest.approx(adult["age"].mean())
    assert mean["reason"] == (
        f"expect_column_mean_to_be_between(age, 30..50): observed {adult['age'].mean():.6g}, met"
    )
    assert checks[6]["observed_value"] == len(adult)
    record.verify()
    assert EvidenceRecord.from_json(record.to_json()) == record


def test_corrupted_data_fails_with_the_right_counts(corrupted: dict[str, Any]) -> None:
    df = corrupted["df"]
    n = len(df)
    bad_ages = int((~df["age"].between(17, 90)).sum())
    null_sex = int(df["sex"].isna().sum())
    outside_set = int((~df["sex"].isin(["Male", "Female"]) & df["sex"].notna()).sum())
    assert (bad_ages, null_sex, outside_set) == (40, 25, 0)

    record = data_quality_record(df, SUITE, name="adult-corrupted", system="s")
    assert record.outcome == "fail"
    assert record.metrics["unsuccessful_expectations"] == 2
    assert record.metrics["successful_expectations"] == len(SUITE) - 2
    assert record.metrics["success_percent"] == pytest.approx(100 * (len(SUITE) - 2) / len(SUITE))
    checks = _checks(record)
    age, sex_null, sex_set = checks[0], checks[1], checks[2]
    assert (age["success"], age["unexpected_count"], age["element_count"]) == (False, bad_ages, n)
    assert age["unexpected_percent"] == pytest.approx(100 * bad_ages / n)
    assert age["reason"] == (
        f"expect_column_values_to_be_between(age, 17..90): {bad_ages} of {n:,} values "
        f"({_percent(bad_ages, n)}) outside"
    )
    assert (sex_null["success"], sex_null["unexpected_count"]) == (False, null_sex)
    assert sex_null["reason"] == (
        f"expect_column_values_to_not_be_null(sex): {null_sex} of {n:,} values "
        f"({_percent(null_sex, n)}) null"
    )
    # GE leaves missing values out of set membership: they are counted, not judged
    assert (sex_set["success"], sex_set["unexpected_count"]) == (True, outside_set)
    assert sex_set["missing_count"] == null_sex
    assert sex_set["reason"].endswith(f"; {null_sex} missing values not checked")
    assert record.subject.dataset_digests == (frame_sha256(df),)
    assert record.subject.dataset_digests != (frame_sha256(load_adult("train")),)


def test_declarative_config_and_object_forms_give_identical_results(
    corrupted: dict[str, Any],
) -> None:
    import great_expectations as gx

    from aims_mlops.config import Expectation

    objects = [
        gx.expectations.ExpectColumnValuesToBeBetween(column="age", min_value=17, max_value=90),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="sex"),
        gx.expectations.ExpectColumnValuesToBeInSet(column="sex", value_set=["Male", "Female"]),
        gx.expectations.ExpectColumnValuesToBeInSet(column="race", value_set=RACES),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="hours_per_week", min_value=1, max_value=99
        ),
        gx.expectations.ExpectColumnMeanToBeBetween(column="age", min_value=30, max_value=50),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=30000, max_value=40000),
    ]
    config_models = [Expectation(type=s["type"], kwargs=s["kwargs"]) for s in SUITE]
    df = corrupted["df"]
    declarative = run_expectations(df, SUITE)
    assert run_expectations(df, objects) == declarative
    assert run_expectations(df, config_models) == declarative
    assert declarative["success"] is False
    assert declarative["statistics"]["unsuccessful_expectations"] == 2
    # the caller's objects are copied, not bound to our suite: they can be used again
    assert all(e.id is None for e in objects)
    assert run_expectations(df, objects) == declarative


def test_unknown_expectation_type_gives_the_error_with_near_matches() -> None:
    import great_expectations as gx

    typo = "expect_column_values_to_be_betwen"
    with pytest.raises(DataError) as caught:
        build_expectations([{"type": typo, "kwargs": {"column": "age"}}])
    message = str(caught.value)
    examples = message.rsplit("knows e.g.: ", 1)[1]
    assert message == ERROR_UNKNOWN_EXPECTATION.format(
        type=typo, version=gx.__version__, examples=examples
    )
    assert examples.split(", ")[0] == "expect_column_values_to_be_between"


def test_bad_arguments_name_the_problem() -> None:
    with pytest.raises(DataError) as caught:
        build_expectations(
            [{"type": "expect_column_values_to_be_between", "kwargs": {"min_value": 1}}]
        )
    assert str(caught.value) == ERROR_BAD_EXPECTATION_ARGS.format(
        type="expect_column_values_to_be_between", problems="column: field required"
    )
    with pytest.raises(DataError) as caught:
        data_quality_record([1, 2], SUITE, name="x", system=None)  # type: ignore[arg-type]
    assert str(caught.value) == ERROR_NOT_A_FRAME.format(got="list")


def test_row_values_stay_out_unless_asked(corrupted: dict[str, Any]) -> None:
    df = corrupted["df"]
    countries = sorted(set(df["native_country"].dropna()) - {MARKER})
    suite = [
        _spec("expect_column_values_to_be_in_set", column="native_country", value_set=countries),
        _spec("expect_column_max_to_be_between", column="age", min_value=17, max_value=90),
    ]
    unknown = df["native_country"].notna() & ~df["native_country"].isin(countries)
    assert df.index[unknown].tolist() == [corrupted["marker_row"]]

    default = data_quality_record(df, suite, name="adult", system="s")
    text = default.to_json()
    assert MARKER not in text
    assert "partial_unexpected" not in text
    country, age_max = _checks(default)
    assert country["unexpected_count"] == 1 and "values" not in country
    assert "observed_value" not in age_max and "values" not in age_max  # a max is a row's value
    assert age_max["reason"] == (
        "expect_column_max_to_be_between(age, 17..90): not met "
        "(observed value withheld: it is a data value)"
    )

    opted_in = data_quality_record(df, suite, name="adult", system="s", include_values=True)
    assert MARKER in opted_in.to_json()
    country, age_max = _checks(opted_in)
    assert country["values"]["partial_unexpected_list"] == [MARKER]
    assert country["values"]["partial_unexpected_index_list"] == [corrupted["marker_row"]]
    assert country["values"]["partial_unexpected_counts"] == [{"value": MARKER, "count": 1}]
    assert age_max["values"]["observed_value"] == int(df["age"].max()) == 200
    assert country["reason"] == _checks(default)[0]["reason"]


def test_long_value_sets_are_cut(adult: pd.DataFrame) -> None:
    allowed = sorted(set(adult["native_country"].dropna())) + [f"Nowhere-{i}" for i in range(30)]
    assert len(allowed) > MAX_LIST_ITEMS
    spec = {"column": "native_country", "value_set": allowed}
    summary = run_expectations(
        adult, [{"type": "expect_column_values_to_be_in_set", "kwargs": spec}]
    )
    (check,) = summary["results"]
    assert check["kwargs"]["value_set"] == allowed[:MAX_LIST_ITEMS]
    assert check["value_set_size"] == len(allowed)
    assert check["reason"].startswith(
        f"expect_column_values_to_be_in_set(native_country, {len(allowed)} values): 0 of"
    )


def test_a_missing_column_is_a_failed_check_with_the_reason(adult: pd.DataFrame) -> None:
    record = data_quality_record(
        adult,
        [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "salary"}}],
        name="adult",
        system="s",
    )
    assert record.outcome == "fail"
    (check,) = _checks(record)
    assert 'The column "salary" in BatchData does not exist' in check["exception"]
    assert check["reason"].startswith(
        "expect_column_values_to_not_be_null(salary): could not be evaluated: "
    )


def test_an_empty_suite_is_information_only(adult: pd.DataFrame) -> None:
    record = data_quality_record(adult, [], name="adult", system="s")
    assert record.outcome == "info"
    assert record.details["checks"] == ()
    assert record.metrics["row_count"] == len(adult)


def test_a_fresh_process_writes_no_files_and_nothing_on_stderr(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        from aims_mlops.collectors.backends import data_quality_record
        from aims_mlops.datasets import load_adult

        suite = [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "age"}}]
        df = load_adult().head(2000)
        print(data_quality_record(df, suite, name="a", system=None).outcome)
        print(data_quality_record(df, suite, name="a", system=None).outcome)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == "pass\npass\n"
    assert list(tmp_path.iterdir()) == []


# -- the checkpoint action ------------------------------------------------------------------------
def _checkpoint(df: pd.DataFrame, action: Any, specs: list[dict[str, Any]] = SUITE) -> Any:
    """A real GE 1.x Checkpoint on ``df`` in the user's own (ephemeral) context."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("census")
        .add_dataframe_asset("adult")
        .add_batch_definition_whole_dataframe("all")
    )
    suite = context.suites.add(
        gx.ExpectationSuite(name="adult_suite", expectations=build_expectations(specs))
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="adult_validation", data=batch, suite=suite)
    )
    checkpoint = gx.Checkpoint(
        name="nightly", validation_definitions=[definition], actions=[action]
    )
    context.checkpoints.add(checkpoint)
    return checkpoint.run(batch_parameters={"dataframe": df})


def _by_expectation(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(checks, key=lambda c: (c["type"], json.dumps(c["kwargs"], sort_keys=True)))


def test_checkpoint_action_records_each_validation(corrupted: dict[str, Any]) -> None:
    from aims_mlops.integrations.gx_action import AimsEvidenceAction

    df = corrupted["df"]
    received: list[EvidenceRecord] = []
    action = AimsEvidenceAction(system="credit-scoring", run_id="run-42", sink=received.append)
    result = _checkpoint(df, action)
    assert result.success is False
    (record,) = received
    assert record.kind == "data_quality"
    assert record.outcome == "fail"
    assert record.system == "credit-scoring"
    assert record.subject.run_id == "run-42"
    assert record.controls == ("A.6.2.4", "A.7.4")
    assert record.details["dataset"] == "census/adult"
    assert record.details["suite"] == "adult_suite"
    assert record.details["checkpoint"] == "nightly"
    record.verify()
    # the same numbers, checks and reasons as the collector, from the shared code
    direct = data_quality_record(df, SUITE, name="census/adult", system="credit-scoring")
    assert _by_expectation(_checks(record)) == _by_expectation(_checks(direct))
    for key in ("evaluated_expectations", "unsuccessful_expectations", "success_percent"):
        assert record.metrics[key] == direct.metrics[key]
    assert record.metrics["row_count"] == len(df)


def test_checkpoint_action_strips_values_unless_asked(corrupted: dict[str, Any]) -> None:
    from aims_mlops.integrations.gx_action import AimsEvidenceAction

    df = corrupted["df"]
    countries = sorted(set(df["native_country"].dropna()) - {MARKER})
    kwargs = {"column": "native_country", "value_set": countries}
    specs = [{"type": "expect_column_values_to_be_in_set", "kwargs": kwargs}]
    default: list[EvidenceRecord] = []
    _checkpoint(df, AimsEvidenceAction(system="s", sink=default.append), specs)
    opted_in: list[EvidenceRecord] = []
    action = AimsEvidenceAction(system="s", include_values=True, sink=opted_in.append)
    _checkpoint(df, action, specs)
    assert MARKER not in default[0].to_json()
    assert MARKER in opted_in[0].to_json()


def test_checkpoint_action_is_registered_and_serializes_without_its_sink() -> None:
    from great_expectations.checkpoint.actions import _VALIDATION_ACTION_REGISTRY

    from aims_mlops.integrations.gx_action import AimsEvidenceAction

    action = AimsEvidenceAction(system="s", run_id="r", sink=print)
    assert _VALIDATION_ACTION_REGISTRY.get("aims_evidence") is AimsEvidenceAction
    assert json.loads(action.json()) == {
        "type": "aims_evidence",
        "name": "aims_evidence",
        "system": "s",
        "include_values": False,
        "run_id": "r",
    }
    rebuilt = AimsEvidenceAction.parse_raw(action.json())
    assert rebuilt.sink is None and rebuilt.system == "s"


def test_checkpoint_action_without_a_sink_stores_through_capture(
    corrupted: dict[str, Any], isolated_mlflow: str
) -> None:
    import mlflow

    import aims_mlops
    from aims_mlops.capture import reset_session
    from aims_mlops.integrations.gx_action import AimsEvidenceAction
    from aims_mlops.store import EvidenceStore

    with pytest.warns(aims_mlops.AimsWarning, match="no aims.yaml"):
        aims_mlops.init(tracking_uri=isolated_mlflow, autolog=False)
    try:
        with mlflow.start_run() as run:
            result = _checkpoint(
                corrupted["df"], AimsEvidenceAction(system="credit-scoring", run_id=run.info.run_id)
            )
    finally:
        reset_session()
    assert result.success is False
    stored = EvidenceStore(tracking_uri=isolated_mlflow).records(system="credit-scoring")
    (record,) = [r for r in stored if r.kind == "data_quality"]
    assert record.subject.run_id == run.info.run_id
    assert record.details["checkpoint"] == "nightly"
    assert record.outcome == "fail"
    assert MARKER not in record.to_json()


def test_the_cached_context_does_not_keep_the_callers_frame(adult: pd.DataFrame) -> None:
    import gc
    import weakref

    frame = adult.head(5000).copy()
    alive = weakref.ref(frame)
    record = data_quality_record(frame, SUITE[:2], name="adult", system="s")
    assert record.metrics["row_count"] == 5000
    del frame
    gc.collect()
    assert alive() is None


def test_an_empty_suite_is_summarized_as_great_expectations_would_without_importing_it() -> None:
    from aims_mlops.collectors._data_quality import EMPTY_SUITE_SUMMARY, summarize_validation
    from aims_mlops.collectors.backends._pandas_quality import validate_frame

    frame = pd.DataFrame({"age": [30, 40]})
    assert summarize_validation(validate_frame(frame, []), order=[]) == EMPTY_SUITE_SUMMARY
    script = textwrap.dedent(
        """
        import sys
        import pandas as pd
        from aims_mlops.collectors.backends import data_quality_record
        record = data_quality_record(pd.DataFrame({"age": [30, 40]}), [], name="t", system=None)
        print(record.outcome, record.details["great_expectations_version"] != "",
              "great_expectations" in sys.modules)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert completed.stdout.split() == ["info", "True", "False"]


def test_check_data_for_a_system_that_declares_no_expectations_records_that_nothing_was_checked(
    isolated_mlflow: str, tmp_path: Path
) -> None:
    import aims_mlops as aims

    config = tmp_path / "aims.yaml"
    config.write_text(
        textwrap.dedent(
            """\
            version: 1
            organization: {name: Org, aims_scope: One model, policy_owner: Head of Data}
            systems:
              - id: plain
                name: Plain
                owner: Head of Data
                intended_use: A system with no data_quality section.
                lifecycle_stage: development
            """
        ),
        encoding="utf-8",
    )
    aims.init(system="plain", config=config, autolog=False)
    record = aims.check_data(pd.DataFrame({"age": [30, 40]}), name="training")
    assert record.outcome == "info"
    assert record.details["note"] == "no expectations were given: nothing was checked"


def test_the_shipped_expectation_argument_table_is_the_installed_great_expectations_one() -> None:
    from aims_mlops.collectors import _expectation_args

    shipped = json.loads(
        (Path(_expectation_args.__file__).parent / _expectation_args.TABLE_RESOURCE).read_text()
    )
    built = json.loads(json.dumps(_expectation_args.build_table(), default=str))
    assert shipped == built, (
        "regenerate: python -m aims_mlops.collectors._expectation_args > "
        "aims_mlops/collectors/expectation_arguments.json"
    )


#: Argument values the property test draws from: plain, odd, out of range, wrongly typed.
_POOL: list[Any] = [
    None, "", "age", "2024-01-01", 0, 1, -1, 0.5, 0.955, 0.95, 1.5, 1e300, True, False,
    [], ["a"], ["Male", "Female"], [1, 2.5], [""], [None], {}, {"$PARAMETER": "x"}, "^a+$",
]  # fmt: skip


def test_every_declaration_the_table_calls_valid_great_expectations_accepts() -> None:
    """The table may only save time: whatever ``surely_valid`` accepts, GE's class accepts."""
    import random

    from aims_mlops.collectors._data_quality import _expectation_class
    from aims_mlops.collectors._expectation_args import _table, surely_valid

    table = _table()
    assert table is not None, "the shipped table is for another Great Expectations version"
    rng = random.Random(42)
    accepted = 0
    for type_name, entry in table["types"].items():
        cls = _expectation_class(type_name)
        fields = sorted(entry["fields"])
        required = [f for f in fields if entry["fields"][f]["required"]]
        for _ in range(150):
            chosen = set(required) | set(rng.sample(fields, k=rng.randint(0, 3)))
            kwargs = {name: rng.choice(_POOL) for name in sorted(chosen)}
            if surely_valid(type_name, kwargs):
                accepted += 1
                cls(**kwargs)  # raises if the table were wrong
    assert accepted > 200  # the fast path is taken for plain declarations
