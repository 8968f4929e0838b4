"""The public capture functions: bind the session, capture evidence of each kind, attest.

Each function builds the explicit :class:`CaptureContext` of its capture (from the bound session,
or from the ``config`` it was given) and hands it to :func:`capture` / :func:`emit`; none of them
replaces or changes the session, except :func:`init`, which binds it.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsError, AimsWarning, ConfigError
from aims_mlops.capture import _autolog
from aims_mlops.capture._acts import act_context
from aims_mlops.capture._context import (
    ENV_SYSTEM,
    Session,
    active_run_id,
    bind_session,
    get_session,
    mirror_metrics,
    required_system,
)
from aims_mlops.capture._emit import capture, emit
from aims_mlops.catalog import load_catalog
from aims_mlops.collectors._fairness import FairnessOptions, measure_fairness, select_sensitive
from aims_mlops.collectors._identifiers import max_categories_of, min_group_size_of
from aims_mlops.collectors._performance import (
    metrics_from_evaluation,
    metrics_from_run,
    performance_record,
)
from aims_mlops.collectors.backends import (
    data_quality_record,
    frame_fairness_record,
    monitoring_record,
    run_expectations,
)
from aims_mlops.config import default_config_path, load_config
from aims_mlops.documents import read_document
from aims_mlops.engine._programme import approver_problem
from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.evidence._documents import (
    CHECK_SHA256,
    DEFAULT_MIN_DOCUMENT_BYTES,
    DocumentScope,
    document_details,
)
from aims_mlops.store._contract import METRIC_PREFIX_DATA_QUALITY, METRIC_PREFIX_FAIRNESS

if TYPE_CHECKING:
    import pandas as pd

    from aims_mlops.catalog import CatalogEntry
    from aims_mlops.config import AimsConfig
    from aims_mlops.evidence import SigningKey

ERROR_UNKNOWN_CONTROL = "unknown control or clause {control!r}; see `aims catalog` for the ids"
ERROR_ATTEST_SCOPE = (
    "attest to {control} either for one system (system=...) or for the organization (org=True), "
    "not both"
)
ERROR_NOT_AUTHORISED = "{problem} (approvers and people: in aims.yaml)"
ERROR_FAIRNESS_WEIGHTS_FORM = (
    "sample_weight goes with the arrays form: assess_fairness(y_true, y_pred, "
    "sensitive_features, sample_weight=weights)"
)
ERROR_BLANK = "{field} must not be blank"
ERROR_NO_METRICS = "validate_performance() needs metrics=... or an active MLflow run"
ERROR_FAIRNESS_FORM = (
    "assess_fairness takes either arrays, assess_fairness(y_true, y_pred, sensitive_features), "
    'or a DataFrame and column names, assess_fairness(df, y_true="label", '
    'y_pred="prediction", sensitive_features=["sex"])'
)
WARNING_NO_CONFIG = (
    "aims_mlops: no aims.yaml at {path} (init looked at config=..., then $AIMS_CONFIG, then "
    "./aims.yaml in {cwd}); without it nothing has thresholds or expectations and checks record "
    "outcome 'info': run `aims init` there to write one, or pass config=PATH"
)
BOUND_LINE = "aims_mlops: system {system} · config {config} · tracking store {store}"
NO_SYSTEM_BOUND = "none bound (pass system=... or set $AIMS_SYSTEM)"
NO_CONFIG_BOUND = "none (no aims.yaml found)"


# -- session ---------------------------------------------------------------------------------------
def init(
    system: str | None = None,
    config: str | os.PathLike[str] | None = None,
    *,
    strict: bool | None = None,
    autolog: bool = True,
    include_values: bool | None = None,
    tracking_uri: str | None = None,
    quiet: bool = False,
) -> Session:
    """Bind this process to an AI system and turn capture on.

    ``config`` is the path of ``aims.yaml`` (default ``$AIMS_CONFIG`` or ``./aims.yaml``; a missing
    default file warns, naming where it looked, and raises :class:`ConfigError` in strict mode; a
    malformed one raises). ``strict=True`` makes a failing collector raise instead of recording
    an ``error`` record. Says on stderr, in one line, which system, ``aims.yaml`` and tracking
    store it bound (``quiet=True``: nothing). The configuration's content is recorded in the
    store before the first capture uses it (it counts for verdicts once approved: ``aims config
    approve``).
    """
    path = Path(config) if config is not None else default_config_path()
    loaded: AimsConfig | None = None
    if config is not None or path.is_file():
        loaded = load_config(path)
    else:
        message = WARNING_NO_CONFIG.format(path=path.absolute(), cwd=Path.cwd())
        if strict:
            raise ConfigError([message])
        warnings.warn(message, AimsWarning, stacklevel=2)
    if system is not None and loaded is not None:
        loaded.system(system)  # an unknown id raises ConfigError listing the known ones
    capture_settings = loaded.capture if loaded is not None else None
    session = Session(
        config_path=path if loaded is not None else None,
        config=loaded,
        system=system or os.environ.get(ENV_SYSTEM) or None,
        strict=bool(capture_settings and capture_settings.strict) if strict is None else strict,
        include_values=(
            bool(capture_settings and capture_settings.include_values)
            if include_values is None
            else include_values
        ),
        tracking_uri=tracking_uri,
    )
    bind_session(session)
    if autolog:
        _enable_autolog(strict=None)
    if not quiet:
        print(binding_line(session), file=sys.stderr)
    return session


def binding_line(session: Session) -> str:
    """``aims_mlops: system X · config /abs/aims.yaml · tracking store URI``: what is bound."""
    return BOUND_LINE.format(
        system=session.system or NO_SYSTEM_BOUND,
        config=session.config_path.absolute() if session.config_path else NO_CONFIG_BOUND,
        store=_readable_uri(session.store.tracking_uri),
    )


def _readable_uri(uri: str) -> str:
    """A relative ``sqlite:///file`` store with the folder it resolves in (others unchanged)."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        return f"{prefix}{Path(uri[len(prefix) :]).absolute()}"
    return uri


def autolog(*, disable: bool = False, strict: bool | None = None) -> None:
    """Record lineage evidence for every MLflow run that ends (FINISHED or FAILED)."""
    if disable:
        _autolog.disable()
    else:
        _enable_autolog(strict=strict)


def _enable_autolog(*, strict: bool | None) -> None:
    _autolog.enable(strict=bool(strict))


# -- capture ---------------------------------------------------------------------------------------
def check_data(
    df: pd.DataFrame,
    expectations: Sequence[Any] | None = None,
    *,
    name: str = "dataset",
    system: str | None = None,
    include_values: bool | None = None,
    run_id: str | None = None,
) -> EvidenceRecord:
    """Validate ``df`` with Great Expectations and record ``data_quality`` evidence.

    ``expectations`` are Great Expectations expectation objects or ``{"type", "kwargs"}`` dicts;
    by default the system's ``data_quality.expectations`` from ``aims.yaml``. Unexpected-value
    samples (possibly personal data) are left out unless ``include_values=True``.
    """
    run = active_run_id(run_id)
    context = get_session().context(
        system=required_system(system), include_values=include_values, for_run=run is not None
    )
    if expectations is None:
        system_config = context.system_config()
        quality = system_config.data_quality if system_config is not None else None
        declared = quality.expectations if quality is not None else ()
        expectations = list(declared)

    def produce() -> EvidenceRecord:
        return data_quality_record(
            df,
            expectations,
            name=name,
            system=context.system,
            include_values=context.include_values,
            subject=Subject(run_id=run),
            config_digest=context.config_digest,
        )

    record = capture(context, "data_quality", produce=produce, run_id=run)
    mirror_metrics(
        context,
        run,
        {k: v for k, v in record.metrics.items() if k == "success_percent"},
        f"{METRIC_PREFIX_DATA_QUALITY}.{name}",
    )
    return record


def assess_fairness(
    data: Any = None,
    y_pred: Any = None,
    sensitive_features: Any = None,
    *,
    y_true: Any = None,
    system: str | None = None,
    thresholds: Mapping[str, Mapping[str, float]] | None = None,
    run_id: str | None = None,
    pos_label: Any = 1,
    include_values: bool | None = None,
    allow_identifiers: bool = False,
    sample_weight: Any = None,
) -> EvidenceRecord:
    """Measure group fairness and record ``fairness`` evidence, judged against the thresholds.

    Two forms:

    - arrays: ``assess_fairness(y_true, y_pred, sensitive_features)``; ``sensitive_features`` is
      a Series, an array, or a DataFrame: a frame's columns named in the system's
      ``sensitive_features`` are used (several give intersectional groups);
    - a DataFrame (pandas or Spark) and column names: ``assess_fairness(df, y_true="label",
      y_pred="prediction", sensitive_features=["sex", "race"])`` (default: the system's
      ``sensitive_features``). On Spark the group table is one distributed aggregation.

    Metrics use fairlearn's names and definitions and equal its results (``sample_weight``, in
    the arrays form: fairlearn's weighted numbers). A measurement that proves nothing (a ratio
    0/0, a group the model never selects, a sensitive feature with one group only) fails the
    record with its reason, unless
    ``capture.fairness_undefined: warn``. With the system's ``fairness_groups: each``, each
    sensitive feature is measured on its own and the worst judged (the intersectional values
    are kept in the record's details, not judged). Multiclass labels are refused: assess one class
    against the rest. Group names are
    stored, so a sensitive feature that looks like an identifier (more than
    ``capture.max_categories`` distinct values, default 50, or near-unique) is refused unless
    ``allow_identifiers=True`` or ``include_values=True``.
    """
    frame_form = isinstance(y_true, str)
    if frame_form and not isinstance(y_pred, str):
        raise AimsError(ERROR_FAIRNESS_FORM)
    if not frame_form and y_true is not None and data is not None:
        raise AimsError(ERROR_FAIRNESS_FORM)
    if frame_form and sample_weight is not None:
        raise AimsError(ERROR_FAIRNESS_WEIGHTS_FORM)
    run = active_run_id(run_id)
    context = get_session().context(
        system=required_system(system), include_values=include_values, for_run=run is not None
    )
    options = FairnessOptions(
        thresholds=context.thresholds("fairness") if thresholds is None else thresholds,
        pos_label=pos_label,
        allow_identifiers=allow_identifiers or context.include_values,
        max_categories=max_categories_of(context.config),
        on_undefined=(
            context.config.capture.fairness_undefined if context.config is not None else "fail"
        ),
        min_group_size=min_group_size_of(context.config),
        fairness_groups=getattr(context.system_config(), "fairness_groups", "intersection"),
    )
    tables: dict[str, Any] = {}

    def produce() -> EvidenceRecord:
        features = sensitive_features
        system_config = context.system_config()
        configured = system_config.sensitive_features if system_config is not None else None
        about = {
            "system": context.system,
            "subject": Subject(run_id=run),
            "config_digest": context.config_digest,
        }
        if frame_form:
            result = frame_fairness_record(
                data, y_true=y_true, y_pred=y_pred,
                sensitive_features=features if features is not None else (configured or []),
                options=options, **about,
            )  # fmt: skip
        else:
            if hasattr(features, "columns") and configured:
                features = select_sensitive(features, configured)
            result = measure_fairness(
                data if y_true is None else y_true, y_pred, features,
                options=options, sample_weight=sample_weight, **about,
            )  # fmt: skip
        tables["group_table"] = result.table
        return result.record

    def artifacts(record: EvidenceRecord) -> Mapping[str, bytes]:
        return {f"fairness/{record.id}/group_table.csv": tables["group_table"].to_csv().encode()}

    record = capture(
        context,
        "fairness",
        produce=produce,
        run_id=run,
        artifacts=artifacts if run is not None else None,
    )
    mirrored = record.metrics if record.kind == "fairness" else {}
    mirror_metrics(context, run, mirrored, METRIC_PREFIX_FAIRNESS)
    return record


def validate_performance(
    metrics: Mapping[str, float] | Any | None = None,
    *,
    system: str | None = None,
    thresholds: Mapping[str, Mapping[str, float]] | None = None,
    run_id: str | None = None,
) -> EvidenceRecord:
    """Judge evaluation metrics against the system's thresholds: ``performance`` evidence.

    ``metrics`` is a mapping, an ``mlflow.models.EvaluationResult``, or None to read the run's
    own logged metrics.
    """
    run = active_run_id(run_id)
    context = get_session().context(system=required_system(system), for_run=run is not None)
    limits = context.thresholds("performance") if thresholds is None else thresholds

    def produce() -> EvidenceRecord:
        if metrics is None:
            if run is None:
                raise AimsError(ERROR_NO_METRICS)
            measured = metrics_from_run(run, client=context.store.client)
            source = "run"
        else:
            measured = metrics_from_evaluation(metrics)
            source = "evaluation" if not isinstance(metrics, Mapping) else "metrics"
        return performance_record(
            measured,
            thresholds=limits,
            system=context.system,
            subject=Subject(run_id=run),
            config_digest=context.config_digest,
            source=source,
        )

    return capture(context, "performance", produce=produce, run_id=run)


def monitor(
    current_df: pd.DataFrame,
    reference_df: pd.DataFrame,
    *,
    system: str | None = None,
    model_version: str | None = None,
    columns: Sequence[str] | None = None,
    check_quality: bool = True,
    include_values: bool | None = None,
    allow_identifiers: bool = False,
) -> EvidenceRecord:
    """Check a production batch against the reference data: the system's data-quality
    expectations plus drift per feature: ``monitoring`` evidence.

    Category names are stored only with ``include_values=True``; otherwise they are hashed
    labels. A categorical column that looks like an identifier (more than
    ``capture.max_categories`` distinct values, or near-unique) is refused when named in
    ``columns`` and skipped otherwise, unless ``allow_identifiers=True`` or ``include_values``.
    """
    context = get_session().context(system=required_system(system), include_values=include_values)
    system_config = context.system_config()
    settings = system_config.monitoring if system_config is not None else None
    limits = (
        {
            "psi_max": settings.psi_max,
            "ks_pvalue_min": settings.ks_pvalue_min,
            "chi2_pvalue_min": settings.chi2_pvalue_min,
        }
        if settings is not None
        else None
    )
    model_name = system_config.mlflow.registered_model if system_config is not None else None

    def produce() -> EvidenceRecord:
        version = model_version
        if version is None and system_config is not None:
            current = context.store.current_model(
                registered_model=system_config.mlflow.registered_model,
                alias=system_config.mlflow.alias,
            )
            version = current.version if current is not None else None
        quality = None
        if check_quality and system_config is not None and system_config.data_quality.expectations:
            quality = run_expectations(
                current_df, list(system_config.data_quality.expectations), include_values=False
            )
        return monitoring_record(
            current_df,
            reference_df,
            system=context.system,
            thresholds=limits,
            columns=columns,
            data_quality=quality,
            subject=Subject(model_name=model_name, model_version=version),
            config_digest=context.config_digest,
            model_version=version,
            include_values=context.include_values,
            allow_identifiers=allow_identifiers or context.include_values,
            max_categories=max_categories_of(context.config),
        )

    return capture(context, "monitoring", produce=produce)


def default_statement(by: str, entry: CatalogEntry, document: str) -> str:
    """What an attestation shows when its author gave no statement: the document the catalog
    asks for, for this entry."""
    wanted = entry.rule.attestation or "the documented information"
    return f"{by} attests that {document} is the {wanted} that {entry.id} ({entry.title}) asks for"


def attest(
    control: str,
    *,
    by: str,
    document: str,
    system: str | None = None,
    org: bool = False,
    valid_days: int | None = None,
    statement: str | None = None,
    config: str | os.PathLike[str] | None = None,
    key: SigningKey | str | os.PathLike[str] | None = None,
) -> EvidenceRecord:
    """Record that a named person vouches for a document serving ``control``.

    The attestation is that person's act: signed with their own ``key`` (a key object or the
    path of their private key; default ``$AIMS_PERSON_KEY``), never the pipeline key; with
    ``people:`` declared, ``by`` must be the person whose key it is (:class:`PersonKeyError`).

    A local document must be a readable regular file (:class:`DocumentError` otherwise): it is
    hashed into the record (SHA-256), so ``aims verify`` detects a later edit or removal. A URL
    is recorded as not verifiable by hash (``details["document_check"]``).
    Attestations are organization-level (``org=True``) or about one ``system``. With ``config``
    the record goes to that configuration's store under its capture settings; the bound session
    is left as it was.
    """
    catalog = load_catalog()
    if control not in catalog:
        raise AimsError(ERROR_UNKNOWN_CONTROL.format(control=control))
    if (system is None) == (not org):
        raise AimsError(ERROR_ATTEST_SCOPE.format(control=control))
    for field_name, value in (("by", by), ("document", document)):
        if not value or not value.strip():
            raise AimsError(ERROR_BLANK.format(field=field_name))
    # the document is checked before the act's context is made: a refused attestation writes
    # nothing (not even the session's configuration record, written at its first capture)
    config_path = Path(config) if config is not None else get_session().config_path
    loaded = load_config(config_path) if config is not None else get_session().config
    if system is not None and loaded is not None:
        loaded.system(system)  # an unknown id raises ConfigError listing the known ones
    minimum = (
        loaded.capture.min_document_bytes if loaded is not None else DEFAULT_MIN_DOCUMENT_BYTES
    )
    scope = (
        DocumentScope.of(config_path.parent, loaded.documents.roots)
        if loaded is not None and config_path is not None
        else None
    )
    # missing, unreadable, a private key, outside aims.yaml's folder and roots, empty,
    # token-sized or an unfinished template, or a URL on a placeholder or local host:
    # DocumentError
    documented = document_details(document, scope=scope, min_bytes=minimum)
    if documented.get("document_check") == CHECK_SHA256:
        # a document of the AIMS set: its header and the places still to complete are recorded,
        # so the engine can refuse a template attested unfinished or by someone not its approver
        read = read_document(documented["document"])
        if read is not None:
            documented["aims_document"] = read.facts()
    name, context = act_context(config, by=by.strip(), key=key, system=system)
    by = name or by
    if context.config is not None:
        # checked at the act (and again at judgement): approvers and the entry's authority role
        problem = approver_problem(
            context.config, control, by.strip(), role=catalog.get(control).authority
        )
        if problem is not None:
            raise AimsError(ERROR_NOT_AUTHORISED.format(problem=problem))
    now = datetime.now(UTC)
    valid_until = (
        (now + timedelta(days=valid_days)).isoformat().replace("+00:00", "Z")
        if valid_days is not None
        else None
    )
    record = new_record(
        kind="attestation",
        system=system,
        outcome="pass",
        collector="aims_mlops.attest",
        controls=[control],
        details={
            "by": by.strip(),
            "acted_by": by.strip(),
            **documented,
            "statement": (statement or "").strip()
            or default_statement(by.strip(), catalog.get(control), documented["document"]),
            "valid_days": valid_days,
        },
        valid_until=valid_until,
        config_digest=context.config_digest,
    )
    return emit(context, record)


__all__ = [
    "assess_fairness",
    "attest",
    "autolog",
    "check_data",
    "init",
    "monitor",
    "validate_performance",
]
