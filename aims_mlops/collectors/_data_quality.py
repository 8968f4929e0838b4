"""Data-quality evidence: a Great Expectations 1.x suite run on a pandas (or Spark) DataFrame.

This is the core: expectations, GE's runtime, the summary and the record built from numbers
(:func:`quality_record`). The backends (:mod:`aims_mlops.collectors.backends`: pandas, and GE's
Spark datasource for a Spark DataFrame) compute those numbers: same expectations, same record.

GE runs in an in-memory ("ephemeral") context built once per process: no ``gx/`` folder, no files,
no progress bars. Expectations come as GE expectation objects, as the declarative
``{"type": "expect_...", "kwargs": {...}}`` mappings of ``aims.yaml``, or as objects with ``.type``
and ``.kwargs`` (the config's pydantic models, GE's ``ExpectationConfiguration``).

What a record keeps of each expectation result (see :func:`summarize_validation`):

* always: the type, its keyword arguments (a ``value_set`` cut to its first 50 items; its full
  size in ``value_set_size``), success, ``element_count``, ``unexpected_count``,
  ``unexpected_percent``, ``missing_count``, any exception message, and a one-sentence reason;
* an aggregate ``observed_value`` (a mean, a row count, a proportion) when it is a number, and
  schema facts (column names, dtype names) for the table/column-type expectations;
* only with ``include_values=True``: everything that can carry row values, i.e.
  ``partial_unexpected_list``, ``partial_unexpected_counts``, ``partial_unexpected_index_list``,
  full unexpected lists, the value-revealing observed values (a column's min, max, quantiles,
  most common value, distinct values) and GE's ``details``, under the check's ``values`` key and
  bounded (lists of at most 50 items, strings of at most 200 characters).

The result is "allow-listed": a key GE adds in a later version is left out by default.
"""

from __future__ import annotations

import copy
import difflib
import importlib.metadata
import json
import math
import re
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import DataError
from aims_mlops.catalog import catalog_record
from aims_mlops.collectors._expectation_args import _great_expectations, surely_valid
from aims_mlops.evidence._record import (
    MAX_DETAILS_CHARS,
    EvidenceRecord,
    Outcome,
    Subject,
    canonical_json,
)

if TYPE_CHECKING:
    pass

KIND = "data_quality"
COLLECTOR = "aims_mlops.data_quality"

#: Longest list (a ``value_set``, a sample of values) kept in a record.
MAX_LIST_ITEMS = 50
#: Longest string kept in a record (longer ones end with an ellipsis).
MAX_STRING_CHARS = 200
#: The details of a record are kept under this many characters (the record's limit is higher).
_DETAILS_BUDGET = MAX_DETAILS_CHARS - 2_000

ERROR_UNKNOWN_EXPECTATION = (
    "unknown expectation type {type!r}; Great Expectations {version} knows e.g.: {examples}"
)
ERROR_BAD_EXPECTATION_ARGS = "invalid arguments for {type!r}: {problems}"
ERROR_BAD_EXPECTATION_SPEC = (
    "expectation #{index} must be a Great Expectations expectation, a mapping "
    "{{'type': 'expect_...', 'kwargs': {{...}}}}, or an object with .type and .kwargs; got {got}"
)
MSG_BAD_REGEX = "not a valid regular expression: {error}"
#: Keyword arguments of an expectation that hold regular expressions (checked by compiling).
REGEX_KWARGS = ("regex", "regex_list")

ERROR_NOT_A_FRAME = "data-quality checks need a pandas or Spark DataFrame; got {got}"

# Result keys safe to keep by default: counts and percentages, never values.
_COUNT_KEYS: tuple[str, ...] = (
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "missing_count",
    "missing_percent",
    "unexpected_percent_total",
    "unexpected_percent_nonmissing",
)
# Expectations whose observed value is a value of some row (not an aggregate statistic).
_VALUE_REVEALING = re.compile(r"_(min|max)_to_|most_common|quantile|distinct_values|_to_equal_set")
# Expectations whose (non-numeric) observed value is schema, not data: column names, dtypes.
_SCHEMA_TYPES: tuple[str, ...] = (
    "expect_table_column",
    "expect_column_to_exist",
    "expect_column_values_to_be_of_type",
    "expect_column_values_to_be_in_type_list",
)
# How a column-map expectation's unexpected values are described in a reason, first match wins.
_VERBS: tuple[tuple[str, str], ...] = (
    ("_to_not_be_null", "null"),
    ("_to_be_null", "not null"),
    ("_to_not_be_in_set", "in the forbidden set"),
    ("_to_be_in_set", "not in the allowed set"),
    ("_between", "outside"),
    ("_to_be_unique", "not unique"),
    ("_not_match_regex", "matching a forbidden pattern"),
    ("_match_regex", "not matching the pattern"),
    ("_not_match_like", "matching a forbidden pattern"),
    ("_match_like", "not matching the pattern"),
    ("_increasing", "out of order"),
    ("_decreasing", "out of order"),
    ("_parseable", "not parseable"),
    ("_to_be_json", "not parseable"),
    ("_strftime", "not in the format"),
    ("_to_equal", "different"),
)


# ------------------------------------------------------------------------------------ building
def _gx_version() -> str:
    """The version of Great Expectations: the imported module's, else the installed
    distribution's (an empty suite runs without importing it)."""
    module = sys.modules.get("great_expectations")
    if module is not None:
        return str(module.__version__)
    return importlib.metadata.version("great-expectations")


#: What Great Expectations' validation of an empty suite summarizes to
#: (``tests/integration/test_data_quality.py`` checks it against GE): an empty suite is validated
#: without importing GE, which costs seconds while saying nothing about the data.
EMPTY_SUITE_SUMMARY: Mapping[str, Any] = {
    "success": True,
    "statistics": {
        "evaluated_expectations": 0,
        "successful_expectations": 0,
        "unsuccessful_expectations": 0,
        "success_percent": None,
    },
    "results": [],
}


def _expectation_class(type_name: str) -> type:
    """The GE expectation class of a snake_case type (registry first, then the class name)."""
    gx = _great_expectations()
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.registry import (
        get_expectation_impl,
        list_registered_expectation_implementations,
    )

    try:
        return get_expectation_impl(type_name)
    except ExpectationNotFoundError:
        pass  # not registered under that name: try the CamelCase class name below
    class_name = "".join(part.capitalize() for part in type_name.split("_"))
    found = getattr(gx.expectations, class_name, None)
    if isinstance(found, type):
        return found
    known = sorted(list_registered_expectation_implementations())
    examples = difflib.get_close_matches(type_name, known, n=3, cutoff=0.6) or known[:3]
    raise DataError(
        ERROR_UNKNOWN_EXPECTATION.format(
            type=type_name, version=gx.__version__, examples=", ".join(examples)
        )
    )


def _plain_kwargs(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain_kwargs(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_kwargs(v) for v in value]
    return value


def _validation_problems(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    seen: dict[str, str] = {}
    for error in errors():
        loc = ".".join(str(part) for part in error.get("loc", ()) if part != "__root__")
        seen.setdefault(loc, str(error.get("msg", "")))  # a union lists one message per branch
    return "; ".join(f"{loc}: {msg}" if loc else msg for loc, msg in seen.items())


def _build_one(type_name: str, kwargs: Mapping[str, Any], meta: Any = None) -> Any:
    cls = _expectation_class(type_name)
    arguments = _plain_kwargs(kwargs)
    if meta is not None:
        arguments["meta"] = _plain_kwargs(meta)
    try:
        return cls(**arguments)
    except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
        raise DataError(
            ERROR_BAD_EXPECTATION_ARGS.format(type=type_name, problems=_validation_problems(exc))
        ) from exc


def _field_problems(exc: Exception) -> list[tuple[tuple[str, ...], str]]:
    """(location under the expectation, message) per field of a GE validation error; the
    model-level messages only when no field is named (they follow from a field's error)."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return [((), str(exc))]
    fields: dict[tuple[str, ...], str] = {}
    root: list[str] = []
    for error in errors():
        loc = tuple(str(part) for part in error.get("loc", ()) if part != "__root__")
        if loc:
            fields.setdefault(("kwargs", *loc), str(error.get("msg", "")))
        else:
            root.append(str(error.get("msg", "")))
    if fields:
        return list(fields.items())
    return [(("kwargs",), msg) for msg in dict.fromkeys(root)]


def _regex_problems(kwargs: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    for name in REGEX_KWARGS:
        value = kwargs.get(name)
        patterns = [(("kwargs", name), value)] if isinstance(value, str) else []
        if isinstance(value, list | tuple):
            patterns = [(("kwargs", name, str(i)), v) for i, v in enumerate(value)]
        for loc, pattern in patterns:
            if not isinstance(pattern, str):
                continue
            try:
                re.compile(pattern)
            except re.error as exc:
                found.append((loc, MSG_BAD_REGEX.format(error=exc)))
    return found


def expectation_problems(
    expectations: Sequence[Any],
) -> list[tuple[tuple[int | str, ...], str]]:
    """What is wrong with each declared expectation (``.type``/``.kwargs``), found by building
    the Great Expectations class and compiling its regular expressions: ``(location, message)``
    with the location under the list (``(j, "kwargs", "min_value")``). GE is imported only for
    a declaration that the shipped argument table cannot prove valid
    (:func:`aims_mlops.collectors._expectation_args.surely_valid`)."""
    found: list[tuple[tuple[int | str, ...], str]] = []
    for index, spec in enumerate(expectations):
        kwargs = _plain_kwargs(spec.kwargs)
        if not surely_valid(spec.type, kwargs):
            try:
                cls = _expectation_class(spec.type)
            except DataError as exc:
                found.append(((index, "type"), str(exc)))
                continue
            try:
                cls(**kwargs)
            except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
                found.extend(((index, *loc), message) for loc, message in _field_problems(exc))
        found.extend(((index, *loc), message) for loc, message in _regex_problems(kwargs))
    return found


def build_expectations(specs: Sequence[object]) -> list[Any]:
    """GE expectation objects from expectations, declarative mappings or ``.type``/``.kwargs``
    objects. GE objects are copied (a suite binds the objects it holds)."""
    _great_expectations()
    from great_expectations.expectations.expectation import Expectation

    built: list[Any] = []
    for index, spec in enumerate(specs):
        if isinstance(spec, Expectation):
            built.append(copy.copy(spec))
        elif isinstance(spec, Mapping):
            unknown = set(spec) - {"type", "kwargs", "meta"}
            type_name = spec.get("type")
            kwargs = spec.get("kwargs") or {}
            if unknown or not isinstance(type_name, str) or not isinstance(kwargs, Mapping):
                got = f"a mapping with keys {sorted(map(str, spec))}"
                raise DataError(ERROR_BAD_EXPECTATION_SPEC.format(index=index, got=got))
            built.append(_build_one(type_name, kwargs, spec.get("meta")))
        elif isinstance(getattr(spec, "type", None), str) and isinstance(
            getattr(spec, "kwargs", None), Mapping
        ):
            built.append(_build_one(spec.type, spec.kwargs, getattr(spec, "meta", None)))  # type: ignore[attr-defined]
        else:
            got = type(spec).__name__
            raise DataError(ERROR_BAD_EXPECTATION_SPEC.format(index=index, got=got))
    return built


# ------------------------------------------------------------------------------------- running
@dataclass
class _GxRuntime:
    context: Any
    datasource: Any
    batch_definition: Any
    empty: Any  # an empty DataFrame
    lock: threading.Lock


_runtime: _GxRuntime | None = None
_runtime_lock = threading.Lock()


def _gx_runtime() -> _GxRuntime:
    """The process's ephemeral GE context and whole-dataframe batch definition (built once)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            import pandas as pd

            gx = _great_expectations()
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            datasource = context.data_sources.add_pandas("aims")
            batch_definition = datasource.add_dataframe_asset(
                "dataframe"
            ).add_batch_definition_whole_dataframe("whole")
            _runtime = _GxRuntime(
                context, datasource, batch_definition, pd.DataFrame(), threading.Lock()
            )
        return _runtime


def validate_on(runtime: Any, df: Any, expectations: Sequence[object]) -> Any:
    """Validate ``df`` through one of our GE runtimes (pandas or Spark: ``datasource``,
    ``batch_definition``, ``lock``, ``empty``), leaving no reference to ``df`` behind."""
    gx = _great_expectations()
    suite = gx.ExpectationSuite(
        name="aims_data_quality", expectations=build_expectations(expectations)
    )
    with runtime.lock:
        batch = runtime.batch_definition.get_batch(batch_parameters={"dataframe": df})
        try:
            return batch.validate(suite, result_format="SUMMARY")
        finally:
            # GE's execution engine caches the last batch: drop it, so our long-lived context
            # does not keep the caller's frame (or its Spark lineage) alive after the call
            engine = runtime.datasource.get_execution_engine()
            engine.batch_manager.reset_batch_cache()
            if runtime.empty is not None:
                engine.load_batch_data(batch_id=batch.id, batch_data=runtime.empty)


def _bounded(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy: lists cut to 50 items, strings to 200 characters, depth to 4."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value if len(value) <= MAX_STRING_CHARS else value[: MAX_STRING_CHARS - 1] + "…"
    if hasattr(value, "item") and callable(value.item) and not hasattr(value, "__len__"):
        try:
            return _bounded(value.item(), depth)  # numpy scalars
        except (TypeError, ValueError):
            return _bounded(str(value), depth)
    if depth >= 4:
        return _bounded(str(value), depth)
    if isinstance(value, Mapping):
        items = list(value.items())[:MAX_LIST_ITEMS]
        return {str(k): _bounded(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple | set | frozenset):
        return [_bounded(v, depth + 1) for v in list(value)[:MAX_LIST_ITEMS]]
    if hasattr(value, "tolist"):
        return _bounded(value.tolist(), depth)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return _bounded(str(value), depth)


def _number(value: Any) -> float | int | None:
    value = _bounded(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _fmt(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        items = [_fmt(v) for v in list(value)[:5]]
        more = f", … ({len(value)} in all)" if len(value) > 5 else ""
        return f"[{', '.join(items)}{more}]"
    number = _number(value)
    if number is None:
        return str(_bounded(value))
    if isinstance(number, int) or (number.is_integer() and abs(number) < 1e15):
        return str(int(number))
    return f"{number:.6g}"


def _percent(part: int, whole: int) -> str:
    share = 100.0 * part / whole if whole else 0.0
    if 0 < share < 0.005:
        return "<0.01 %"
    if 99.995 <= share < 100:
        return ">99.99 %"
    return f"{share:.2f} %"


def _signature(type_name: str, kwargs: Mapping[str, Any]) -> str:
    """``expect_x(age, 17..90)``: the type with its column(s) and bounds."""
    parts: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if kwargs.get(key) is not None:
            parts.append(str(kwargs[key]))
    for key in ("column_list", "column_set"):
        if isinstance(kwargs.get(key), list | tuple | set | frozenset):
            parts.append(_fmt(kwargs[key]))
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None or high is not None:
        parts.append(f"{'' if low is None else _fmt(low)}..{'' if high is None else _fmt(high)}")
    if kwargs.get("value") is not None:
        parts.append(f"= {_fmt(kwargs['value'])}")
    if isinstance(kwargs.get("value_set"), list | tuple | set | frozenset):
        count = len(kwargs["value_set"])
        parts.append(f"{count} value{'' if count == 1 else 's'}")
    for key in ("regex", "like_pattern", "strftime_format", "type_"):
        if kwargs.get(key) is not None:
            text = str(kwargs[key])
            parts.append(repr(text if len(text) <= 40 else text[:39] + "…"))
    mostly = kwargs.get("mostly")
    if mostly is not None and mostly != 1:
        parts.append(f"mostly {_fmt(mostly)}")
    return f"{type_name}({', '.join(parts)})"


def _verb(type_name: str) -> str:
    return next((verb for marker, verb in _VERBS if marker in type_name), "unexpected")


def _keeps_observed(type_name: str, observed: Any) -> bool:
    if type_name.startswith(_SCHEMA_TYPES):
        return True
    return _number(observed) is not None and not _VALUE_REVEALING.search(type_name)


def _reason(
    type_name: str,
    kwargs: Mapping[str, Any],
    success: bool,
    result: Mapping[str, Any],
    *,
    exception: str | None,
    observed_kept: bool,
) -> str:
    head = _signature(type_name, kwargs)
    if exception:
        return f"{head}: could not be evaluated: {exception}"
    unexpected, elements = result.get("unexpected_count"), result.get("element_count")
    if isinstance(unexpected, int) and isinstance(elements, int):
        sentence = (
            f"{head}: {unexpected:,} of {elements:,} values ({_percent(unexpected, elements)}) "
            f"{_verb(type_name)}"
        )
        missing = result.get("missing_count")
        if isinstance(missing, int) and missing:
            sentence += f"; {missing:,} missing values not checked"
        return sentence
    verdict = "met" if success else "not met"
    if "observed_value" in result:
        if observed_kept:
            return f"{head}: observed {_fmt(result['observed_value'])}, {verdict}"
        return f"{head}: {verdict} (observed value withheld: it is a data value)"
    return f"{head}: {verdict}"


def _exception_message(info: Any) -> str | None:
    """The exception message(s) of a result: GE gives one ``{"raised_exception", ...}`` dict, or
    one such dict per failed metric."""
    if not isinstance(info, Mapping):
        return None
    parts = [info] if "raised_exception" in info else list(info.values())
    messages: list[str] = []
    for part in parts:
        if isinstance(part, Mapping) and part.get("raised_exception"):
            message = str(part.get("exception_message") or "an exception was raised")
            if message not in messages:
                messages.append(message)
    return _bounded("; ".join(messages)) if messages else None


def _check_entry(evr: Any, *, include_values: bool) -> dict[str, Any]:
    """One bounded, JSON-ready summary of a GE ``ExpectationValidationResult``."""
    config = evr.expectation_config
    type_name = str(config.type)
    kwargs = {k: v for k, v in dict(config.kwargs).items() if k != "batch_id"}
    result: Mapping[str, Any] = evr.result or {}
    exception = _exception_message(evr.exception_info)
    entry: dict[str, Any] = {"type": type_name, "kwargs": _bounded(kwargs)}
    value_set = kwargs.get("value_set")
    if isinstance(value_set, list | tuple | set | frozenset):
        entry["value_set_size"] = len(value_set)
    entry["success"] = bool(evr.success)
    entry["unexpected_count"] = _number(result.get("unexpected_count"))
    entry["unexpected_percent"] = _number(result.get("unexpected_percent"))
    for key in _COUNT_KEYS:
        if key not in entry and key in result:
            entry[key] = _number(result[key])
    observed_kept = "observed_value" in result and _keeps_observed(
        type_name, result["observed_value"]
    )
    if observed_kept:
        entry["observed_value"] = _bounded(result["observed_value"])
    entry["reason"] = _reason(
        type_name,
        kwargs,
        bool(evr.success),
        result,
        exception=exception,
        observed_kept=observed_kept,
    )
    if exception:
        entry["exception"] = exception
    if include_values:
        withheld = {
            key: value
            for key, value in result.items()
            if key not in _COUNT_KEYS and not (key == "observed_value" and observed_kept)
        }
        if withheld:
            entry["values"] = _bounded(withheld)
    return entry


def _order_key(type_name: str, kwargs: Mapping[str, Any]) -> str:
    plain = {k: v for k, v in kwargs.items() if k != "batch_id"}
    return type_name + json.dumps(_bounded(plain), sort_keys=True, default=str)


def _fit(checks: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Keep the checks within the details budget: drop row values first, then passing checks,
    then the last failing ones. Says what it dropped."""
    notes: dict[str, Any] = {}
    if len(canonical_json(checks)) <= _DETAILS_BUDGET:
        return checks, notes
    if any("values" in c for c in checks):
        checks = [{k: v for k, v in c.items() if k != "values"} for c in checks]
        notes["values_omitted"] = True
        if len(canonical_json(checks)) <= _DETAILS_BUDGET:
            return checks, notes
    ranked = sorted(range(len(checks)), key=lambda i: (checks[i]["success"], i))
    kept: list[int] = []
    size = 2
    for index in ranked:
        cost = len(canonical_json(checks[index])) + 1
        if size + cost > _DETAILS_BUDGET:
            break
        kept.append(index)
        size += cost
    notes["checks_omitted"] = len(checks) - len(kept)
    return [checks[i] for i in sorted(kept)], notes


def summarize_validation(
    result: Any, *, include_values: bool = False, order: Sequence[Any] | None = None
) -> dict[str, Any]:
    """``{"success", "statistics", "results"}`` from GE's ``ExpectationSuiteValidationResult``
    (shared by the collector and the checkpoint action). ``order``: the expectations as given,
    so results come back in that order (GE groups them by domain)."""
    entries = [(evr, _check_entry(evr, include_values=include_values)) for evr in result.results]
    if order is not None:
        slots: dict[str, list[int]] = {}
        for position, expectation in enumerate(order):
            config = expectation.configuration
            slots.setdefault(_order_key(str(config.type), dict(config.kwargs)), []).append(position)

        def position_of(evr: Any) -> int:
            queue = slots.get(
                _order_key(str(evr.expectation_config.type), dict(evr.expectation_config.kwargs))
            )
            return queue.pop(0) if queue else len(order)

        entries = sorted(entries, key=lambda pair: position_of(pair[0]))
    stats = result.statistics or {}
    statistics = {
        key: _number(stats.get(key))
        for key in (
            "evaluated_expectations",
            "successful_expectations",
            "unsuccessful_expectations",
            "success_percent",
        )
    }
    return {
        "success": bool(result.success),
        "statistics": statistics,
        "results": [entry for _, entry in entries],
    }


# -------------------------------------------------------------------------------------- records
def record_from_summary(
    summary: Mapping[str, Any],
    *,
    name: str,
    system: str | None,
    subject: Subject | None = None,
    config_digest: str | None = None,
    dataset_digest: str | None = None,
    row_count: int | None = None,
    column_count: int | None = None,
    extra_details: Mapping[str, Any] | None = None,
) -> EvidenceRecord:
    """The ``data_quality`` record of a :func:`summarize_validation` summary."""
    checks, notes = _fit(list(summary["results"]))
    statistics = summary["statistics"]
    metrics = {k: float(v) for k, v in statistics.items() if v is not None}
    if row_count is not None:
        metrics["row_count"] = float(row_count)
    if column_count is not None:
        metrics["column_count"] = float(column_count)
    # an empty suite says nothing about the data: "info", never "pass"
    outcome: Outcome = (
        "info" if not summary["results"] else "pass" if summary["success"] else "fail"
    )
    details: dict[str, Any] = {
        "dataset": name,
        "dataset_digest": dataset_digest,
        "great_expectations_version": _gx_version(),
        **(extra_details or {}),
        "checks": checks,
        **notes,
    }
    if not summary["results"]:
        details["note"] = "no expectations were given: nothing was checked"
    return catalog_record(
        kind=KIND,
        system=system,
        outcome=outcome,
        collector=COLLECTOR,
        subject=subject,
        metrics=metrics,
        details=details,
        config_digest=config_digest,
    )


@dataclass(frozen=True, kw_only=True)
class QualityNumbers:
    """What a backend computed of one frame: the validation summary
    (:func:`summarize_validation`), the frame's digest and its shape."""

    summary: Mapping[str, Any]
    digest: str
    rows: int
    columns: int


def quality_record(
    numbers: QualityNumbers,
    *,
    name: str,
    system: str | None,
    subject: Subject | None = None,
    config_digest: str | None = None,
) -> EvidenceRecord:
    """The ``data_quality`` record (controls A.7.4, A.6.2.4) of what a backend computed; the
    digest becomes ``subject.dataset_digests``."""
    return record_from_summary(
        numbers.summary,
        name=name,
        system=system,
        subject=replace(subject or Subject(), dataset_digests=(numbers.digest,)),
        config_digest=config_digest,
        dataset_digest=numbers.digest,
        row_count=numbers.rows,
        column_count=numbers.columns,
    )
