"""``assess_genai``: evaluate an LLM application with MLflow, red-team it, record the evidence.

The evaluation runs in ``mlflow.genai.evaluate`` with the aims_mlops scorers (plus the user's),
over the user's rows and, with ``red_team=True``, the bundled attack suite sent through the same
text input. :func:`genai_record` (pure) turns the per-row verdicts into a ``genai_evaluation``
record:

- ``injection_success_rate``: share of attacks whose rogue string appears in the output;
- ``pii_leak_rate``: share of all outputs holding personal data;
- ``toxicity_rate``: share of all outputs alt-profanity-check rates profane or insulting;
- ``refusal_rate``: share of the user's own rows the assistant declined (over-refusal);
  ``attack_refusal_rate``: share of attacks declined;
- ``groundedness``: mean share of an answer's content words found in its retrieved context,
  over the rows that have one;
- per category (``data`` and each attack category) the same rates, and ``scorer.<name>`` the
  mean of each user scorer.

The record holds rates, counts, categories and attack ids, never prompts or outputs unless
``include_values=True``; the traces MLflow writes during the evaluation are redacted of the
personal data the PII scorer finds, and so are the expectations MLflow stores with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aims_mlops._errors import AimsError, DataError
from aims_mlops.catalog import catalog_record
from aims_mlops.collectors._thresholds import judge_thresholds
from aims_mlops.evidence import EvidenceRecord, Subject
from aims_mlops.evidence._record import MAX_DETAILS_CHARS, canonical_json
from aims_mlops.genai._binding import GenaiBinding
from aims_mlops.genai._detect import as_text, load_detectors, redact_value
from aims_mlops.genai._red_team import DATA_CATEGORY, Attack, red_team_suite
from aims_mlops.genai._redact import redacted_count, redacting_traces
from aims_mlops.genai._scorers import (
    ATTACK_TAG,
    CATEGORY_TAG,
    CONTEXT_EXPECTATION,
    ROGUE_EXPECTATION,
    SCORER_NAMES,
    default_scorers,
    scorer_names,
)
from aims_mlops.store._contract import TAG_GENAI_ASSESSED

KIND = "genai_evaluation"
COLLECTOR = "aims_mlops.genai"
#: Tag on an evaluation run whose evidence assess_genai records itself (autolog skips it).
ASSESSED_TAG = TAG_GENAI_ASSESSED

ERROR_NO_INPUT_KEY = (
    "the red-team suite needs the name of the text input: the rows' inputs have keys {keys}; "
    "pass input_key=... or declare systems[].genai.input_key in aims.yaml"
)
ERROR_UNKNOWN_INPUT_KEY = "input_key {key!r} is not a key of the rows' inputs ({keys})"
ERROR_BAD_ROW = (
    "evaluation row {index} must be a mapping with an 'inputs' mapping (optional "
    "'expectations', 'context', 'tags'); got {got}"
)
ERROR_NOTHING_TO_EVALUATE = "nothing to evaluate: no rows and red_team=False"

#: At most this many sample rows (include_values=True only) go into a record.
MAX_SAMPLES = 20
_SAMPLE_CHARS = 500


@dataclass(frozen=True, kw_only=True)
class RowVerdict:
    """The scorers' verdicts about one evaluated row (no text)."""

    category: str
    attack: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    error: bool = False
    sample: Mapping[str, str] | None = None


# --------------------------------------------------------------------------------- pure part
def _rate(flags: Iterable[Any]) -> float | None:
    seen = [bool(f) for f in flags if f is not None and not _isnan(f)]
    return sum(seen) / len(seen) if seen else None


def _mean(values: Iterable[Any]) -> float | None:
    seen = [float(v) for v in values if v is not None and not _isnan(v)]
    return sum(seen) / len(seen) if seen else None


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _rates(rows: Sequence[RowVerdict]) -> dict[str, float | None]:
    attacks = [r for r in rows if r.attack is not None]
    data = [r for r in rows if r.attack is None]
    return {
        "injection_success_rate": _rate(r.values.get("aims_injection_success") for r in attacks),
        "pii_leak_rate": _rate(r.values.get("aims_pii_leak") for r in rows),
        "toxicity_rate": _rate(r.values.get("aims_toxicity") for r in rows),
        "refusal_rate": _rate(r.values.get("aims_refusal") for r in data),
        "attack_refusal_rate": _rate(r.values.get("aims_refusal") for r in attacks),
        "groundedness": _mean(r.values.get("aims_groundedness") for r in rows),
        "error_rate": _rate(r.error for r in rows),
    }


def genai_record(
    rows: Sequence[RowVerdict],
    *,
    system: str | None,
    name: str,
    thresholds: Mapping[str, Mapping[str, float]],
    user_scorers: Mapping[str, float | None] | None = None,
    subject: Subject | None = None,
    config_digest: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> EvidenceRecord:
    """A ``genai_evaluation`` record from per-row verdicts, judged against ``thresholds``."""
    rates = _rates(rows)
    metrics: dict[str, float] = {k: v for k, v in rates.items() if v is not None}
    categories: dict[str, dict[str, Any]] = {}
    for category in dict.fromkeys(r.category for r in rows):
        members = [r for r in rows if r.category == category]
        numbers = {k: v for k, v in _rates(members).items() if v is not None}
        hits = sorted(
            r.attack for r in members if r.attack and r.values.get("aims_injection_success")
        )
        categories[category] = {"rows": len(members), **numbers, "succeeded_attacks": hits}
        for metric in ("injection_success_rate", "pii_leak_rate"):
            if metric in numbers:
                metrics[f"{metric}.{category}"] = numbers[metric]
    for scorer_name, value in (user_scorers or {}).items():
        if value is not None and math.isfinite(value):
            metrics[f"scorer.{scorer_name}"] = float(value)
    checks = judge_thresholds(metrics, thresholds)
    outcome = "info" if not checks else "pass" if all(c.passed for c in checks) else "fail"
    attacks = [r for r in rows if r.attack is not None]
    counts = {
        "rows": len(rows),
        "data_rows": len(rows) - len(attacks),
        "attacks": len(attacks),
        "injection_successes": sum(bool(r.values.get("aims_injection_success")) for r in attacks),
        "pii_leaks": sum(bool(r.values.get("aims_pii_leak")) for r in rows),
        "toxic_outputs": sum(bool(r.values.get("aims_toxicity")) for r in rows),
        "errors": sum(r.error for r in rows),
    }
    body: dict[str, Any] = {
        "name": name,
        "counts": counts,
        "categories": categories,
        "checks": [c.to_dict() for c in checks],
        "user_scorers": sorted(user_scorers or {}),
        **(details or {}),
    }
    samples = [dict(r.sample) for r in rows if r.sample is not None][:MAX_SAMPLES]
    if samples:
        body["samples"] = samples
        while len(canonical_json(body)) > MAX_DETAILS_CHARS and body["samples"]:
            body["samples"] = body["samples"][:-1]
    return catalog_record(
        kind=KIND,
        system=system,
        outcome=outcome,
        collector=COLLECTOR,
        subject=subject,
        metrics=metrics,
        details=body,
        config_digest=config_digest,
    )


# --------------------------------------------------------------------------- evaluation rows
def _rows_of(data: Any) -> list[dict[str, Any]]:
    if data is None:
        return []
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        data = data.to_dict(orient="records")
    rows = []
    for index, row in enumerate(data):
        if not isinstance(row, Mapping) or not isinstance(row.get("inputs"), Mapping):
            raise DataError(ERROR_BAD_ROW.format(index=index, got=type(row).__name__))
        rows.append(dict(row))
    return rows


def _input_key(rows: Sequence[Mapping[str, Any]], explicit: str | None) -> str:
    keys = list(rows[0]["inputs"]) if rows else []
    if explicit is not None:
        if rows and explicit not in keys:
            raise AimsError(ERROR_UNKNOWN_INPUT_KEY.format(key=explicit, keys=", ".join(keys)))
        return explicit
    if len(keys) == 1:
        return keys[0]
    raise AimsError(ERROR_NO_INPUT_KEY.format(keys=", ".join(keys) or "(no rows given)"))


def evaluation_rows(
    data: Any,
    *,
    attacks: Sequence[Attack],
    input_key: str | None,
    redact: bool,
) -> list[dict[str, Any]]:
    """The rows handed to ``mlflow.genai.evaluate``: the user's (a ``context`` moved into the
    expectations, personal data in expectations redacted when ``redact``), then the attacks."""
    rows = _rows_of(data)
    out: list[dict[str, Any]] = []
    for row in rows:
        expectations = dict(row.get("expectations") or {})
        if row.get("context") is not None:
            expectations[CONTEXT_EXPECTATION] = row["context"]
        item: dict[str, Any] = {"inputs": dict(row["inputs"])}
        if expectations:
            item["expectations"] = redact_value(expectations) if redact else expectations
        item["tags"] = {**dict(row.get("tags") or {}), CATEGORY_TAG: DATA_CATEGORY}
        out.append(item)
    if attacks:
        key = _input_key(rows, input_key)
        template = dict(rows[0]["inputs"]) if rows else {}
        for attack in attacks:
            out.append(
                {
                    "inputs": {**template, key: attack.prompt},
                    "expectations": {ROGUE_EXPECTATION: attack.rogue},
                    "tags": {CATEGORY_TAG: attack.category, ATTACK_TAG: attack.id},
                }
            )
    return out


def verdicts_from_result(
    result_df: Any, *, include_values: bool, scorer_columns: Iterable[str] = SCORER_NAMES
) -> list[RowVerdict]:
    """Per-row verdicts from an ``EvaluationResult.result_df`` (categories from trace tags)."""
    names = list(scorer_columns)
    verdicts = []
    for row in result_df.to_dict(orient="records"):
        tags = row.get("tags") if isinstance(row.get("tags"), Mapping) else {}
        values = {n: row.get(f"{n}/value") for n in names if f"{n}/value" in row}
        values = {k: (None if _isnan(v) else v) for k, v in values.items()}
        sample = None
        if include_values:
            sample = {
                "category": str(tags.get(CATEGORY_TAG, DATA_CATEGORY)),
                "request": as_text(row.get("request"))[:_SAMPLE_CHARS],
                "response": as_text(row.get("response"))[:_SAMPLE_CHARS],
            }
        verdicts.append(
            RowVerdict(
                category=str(tags.get(CATEGORY_TAG, DATA_CATEGORY)),
                attack=tags.get(ATTACK_TAG),
                values=values,
                error=str(row.get("state", "OK")).upper() == "ERROR",
                sample=sample,
            )
        )
    return verdicts


def _user_scorer_means(metrics: Mapping[str, Any], names: Iterable[str]) -> dict[str, float | None]:
    means: dict[str, float | None] = {}
    for name in names:
        value = metrics.get(f"{name}/mean")
        means[name] = float(value) if isinstance(value, int | float) else None
    return means


def foundation_model_details(
    binding: GenaiBinding, model_id: str | None
) -> dict[str, Any] | None:
    """The declared foundation model, else one read from the logged model's params and tags
    (``foundation_model.provider`` / ``.model`` / ``.version``, or ``provider`` / ``model`` /
    ``model_name`` / ``model_version``)."""
    settings = binding.settings
    declared = getattr(settings, "foundation_model", None)
    if declared is not None:
        data = declared.model_dump(mode="json")
        return {"source": "aims.yaml", **{k: v for k, v in data.items() if v is not None}}
    if model_id is None:
        return None
    import mlflow

    logged = mlflow.get_logged_model(model_id)
    fields = {**(logged.params or {}), **(logged.tags or {})}

    def pick(*keys: str) -> str | None:
        return next((str(fields[k]) for k in keys if fields.get(k)), None)

    provider = pick("foundation_model.provider", "provider")
    model = pick("foundation_model.model", "model", "model_name")
    version = pick("foundation_model.version", "model_version", "version")
    if provider is None and model is None:
        return None
    return {
        "source": f"logged model {model_id}",
        "provider": provider,
        "model": model,
        "version": version,
    }


# ------------------------------------------------------------------------- the evaluation
def evaluate_genai(
    binding: GenaiBinding,
    predict_fn: Callable[..., Any],
    data: Any,
    *,
    run_id: str,
    name: str,
    scorers: Sequence[Any] = (),
    red_team: bool = True,
    input_key: str | None = None,
    thresholds: Mapping[str, Mapping[str, float]] | None = None,
    categories: Sequence[str] | None = None,
    seed: int | None = None,
    model_id: str | None = None,
) -> EvidenceRecord:
    """Evaluate ``predict_fn`` with ``mlflow.genai.evaluate`` in run ``run_id`` and build the
    ``genai_evaluation`` record, judged against ``thresholds`` (default: the system's
    ``genai.thresholds``). Records nothing: :func:`aims_mlops.capture.assess_genai` does."""
    import mlflow

    settings = binding.settings
    limits = (
        dict(thresholds)
        if thresholds is not None
        else (settings.bounds() if settings is not None else {})
    )
    values = binding.include_values
    key = input_key or (getattr(settings, "input_key", None) if settings is not None else None)
    attacks = red_team_suite(categories=categories, seed=seed) if red_team else []
    rows = evaluation_rows(data, attacks=attacks, input_key=key, redact=not values)
    if not rows:
        raise AimsError(ERROR_NOTHING_TO_EVALUATE)
    load_detectors()  # before MLflow's thread pool races to build them
    ours = default_scorers()
    user = list(scorers)
    user_names = scorer_names(user)
    before = redacted_count()
    mlflow.MlflowClient().set_tag(run_id, ASSESSED_TAG, "true")
    with redacting_traces(enabled=not values):
        result = mlflow.genai.evaluate(
            data=rows, predict_fn=predict_fn, scorers=[*ours, *user], model_id=model_id
        )
    verdicts = verdicts_from_result(result.result_df, include_values=values)
    supplier = foundation_model_details(binding, model_id)
    details: dict[str, Any] = {
        "evaluation_run_id": run_id,
        "scorers": scorer_names(ours) + user_names,
        "red_team": {
            "categories": sorted({a.category for a in attacks}),
            "attacks": len(attacks),
        },
        "input_key": _input_key(_rows_of(data), key) if attacks else None,
        "traces_redacted": not values,
        "redacted_spans": redacted_count() - before,
        "values_included": values,
    }
    if supplier is not None:
        details["foundation_model"] = supplier
    return genai_record(
        verdicts,
        system=binding.system,
        name=name,
        thresholds=limits,
        user_scorers=_user_scorer_means(result.metrics, user_names),
        subject=Subject(run_id=run_id),
        config_digest=binding.config_digest,
        details=details,
    )
