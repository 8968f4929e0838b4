"""Checking declared expectations' arguments without importing Great Expectations (seconds).

``expectation_arguments.json`` (package data) holds, for the Great Expectations version it was
built from, each expectation type's arguments: their JSON schema (from GE's pydantic models),
whether they take None, are required or have validators of their own, and the type's root
validators. :func:`surely_valid` answers True only when that table proves a declaration valid:
every argument a plain value of its declared type within its declared bounds, no argument with
a validator of its own, every root validator one mirrored here. Anything else (another GE
version, an unknown type or argument, a value GE might coerce or refuse) is "not sure": the
caller asks Great Expectations itself, whose messages are the ones shown. So the table can only
save time, never change a verdict; ``tests/integration/test_data_quality.py`` rebuilds it from
the installed GE and checks that every declaration it calls valid GE accepts.

Regenerate after upgrading Great Expectations (from the repository's root)::

    python -m aims_mlops.collectors._expectation_args > \
        aims_mlops/collectors/expectation_arguments.json
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import math
import sys
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

TABLE_RESOURCE = "expectation_arguments.json"

#: Schema keywords that describe only (no check).
_NOTES = frozenset({"title", "description", "default", "examples"})
#: Root validators that only rewrite arguments this module never calls sure (row conditions).
_TRANSFORMS = frozenset({"_transform_legacy_row_condition"})
#: Arguments :func:`surely_valid` leaves to GE whenever they are given.
_UNSURE_ARGUMENTS = frozenset({"row_condition", "condition_parser", "result_format", "meta"})


def _plain_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _min_or_max_set(values: Mapping[str, Any]) -> bool:
    return values.get("min_value") is not None or values.get("max_value") is not None


def _min_not_above_max(values: Mapping[str, Any]) -> bool:
    low, high = values.get("min_value"), values.get("max_value")
    if low is not None and high is not None:
        return _plain_number(low) and _plain_number(high) and low <= high
    return True


#: GE's root validators mirrored here (GE 1.x source): True when the arguments surely pass.
_ROOT_VALIDATORS: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "check_min_val_or_max_val": _min_or_max_set,
    "_validate_min_or_max_set": _min_or_max_set,
    "_root_validate": _min_not_above_max,
}


def _multiple_of(value: float, step: float) -> bool:
    """pydantic v1's ``multiple_of`` check on floats."""
    remainder = float(value) / float(step) % 1
    epsilon = sys.float_info.epsilon
    return abs(remainder) <= epsilon or abs(remainder - 1.0) <= epsilon


def _fits(value: Any, schema: Mapping[str, Any]) -> bool:
    """True when ``value`` surely satisfies ``schema`` (a subset of JSON schema; anything else
    in it makes the answer False: not sure)."""
    keys = set(schema) - _NOTES
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches is not None:
        keys -= {"anyOf", "oneOf"}
        if not any(_fits(value, branch) for branch in branches):
            return False
        if not keys:
            return True
        rest = {k: v for k, v in schema.items() if k in keys}
        return "type" not in rest and _fits_constraints(value, rest)
    kind = schema.get("type")
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "number":
        ok = _plain_number(value)
    elif kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "array":
        items = schema.get("items")
        ok = (
            isinstance(value, list)
            and isinstance(items, Mapping)
            and all(_fits(item, items) for item in value)
        )
        keys.discard("items")
    else:
        return False
    keys.discard("type")
    return ok and _fits_constraints(value, {k: schema[k] for k in keys})


def _fits_constraints(value: Any, constraints: Mapping[str, Any]) -> bool:
    for key, bound in constraints.items():
        if key == "minLength" and isinstance(value, str):
            ok = len(value) >= bound
        elif key == "maxLength" and isinstance(value, str):
            ok = len(value) <= bound
        elif key == "minItems" and isinstance(value, list):
            ok = len(value) >= bound
        elif key == "maxItems" and isinstance(value, list):
            ok = len(value) <= bound
        elif key == "minimum" and _plain_number(value):
            ok = value >= bound
        elif key == "maximum" and _plain_number(value):
            ok = value <= bound
        elif key == "exclusiveMinimum" and _plain_number(value):
            ok = value > bound
        elif key == "exclusiveMaximum" and _plain_number(value):
            ok = value < bound
        elif key == "multipleOf" and _plain_number(value):
            ok = _multiple_of(value, bound)
        elif key == "enum":
            ok = any(value == option and type(value) is type(option) for option in bound)
        else:
            return False
        if not ok:
            return False
    return True


@functools.cache
def _table() -> Mapping[str, Any] | None:
    """The shipped table, or None when it was built from another GE version than installed."""
    text = resources.files("aims_mlops.collectors").joinpath(TABLE_RESOURCE).read_text("utf-8")
    table = json.loads(text)
    try:
        installed = importlib.metadata.version("great-expectations")
    except importlib.metadata.PackageNotFoundError:
        return None
    return table if table.get("great_expectations") == installed else None


def surely_valid(type_name: Any, kwargs: Any) -> bool:
    """True when the table proves that GE would accept the expectation ``type_name(**kwargs)``;
    False means "not sure": ask GE."""
    table = _table()
    if table is None or not isinstance(type_name, str) or not isinstance(kwargs, Mapping):
        return False
    entry = table["types"].get(type_name)
    if entry is None:
        return False
    fields: Mapping[str, Any] = entry["fields"]
    if any(name in kwargs for name in _UNSURE_ARGUMENTS):
        return False
    for name, field in fields.items():
        if field["required"] and name not in kwargs:
            return False
    for name, value in kwargs.items():
        field = fields.get(name)
        if field is None or field["validators"]:
            return False
        if value is None:
            if not field["nullable"]:
                return False
        elif not _fits(value, field["schema"]):
            return False
    for validator in entry["root_validators"]:
        if validator in _TRANSFORMS:
            continue
        check = _ROOT_VALIDATORS.get(validator)
        if check is None or not check(kwargs):
            return False
    return True


# ------------------------------------------------------------------------------ building the table
def build_table() -> dict[str, Any]:
    """The table, from the installed Great Expectations (imports it)."""
    from aims_mlops.collectors._data_quality import _great_expectations

    gx = _great_expectations()
    from great_expectations.expectations.registry import (
        get_expectation_impl,
        list_registered_expectation_implementations,
    )

    types: dict[str, Any] = {}
    for name in sorted(list_registered_expectation_implementations()):
        cls = get_expectation_impl(name)
        properties = cls.schema()["properties"]
        validated = {field for field in getattr(cls, "__validators__", {})}
        types[name] = {
            "fields": {
                field: {
                    "schema": properties.get(field, {}),
                    "nullable": bool(model_field.allow_none),
                    "required": bool(model_field.required),
                    "validators": field in validated,
                }
                for field, model_field in cls.__fields__.items()
            },
            "root_validators": [
                validator.__name__
                for validator in (
                    *getattr(cls, "__pre_root_validators__", ()),
                    *(f for _, f in getattr(cls, "__post_root_validators__", ())),
                )
            ],
        }
    return {"great_expectations": str(gx.__version__), "types": types}


if __name__ == "__main__":
    print(json.dumps(build_table(), indent=1, sort_keys=True, default=str))
