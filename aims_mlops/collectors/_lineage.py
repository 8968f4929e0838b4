"""Lineage evidence of an MLflow run: datasets, code version, parameters, environment, compute,
and the models it produced.

:func:`lineage_tasks` reads the run once and returns one task per evidence kind, so the capture
layer can run each on its own (one failing collector does not lose the others);
:func:`lineage_records` runs them all and returns the records. Records are ``info`` evidence:
they document what happened and never judge it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops.catalog import catalog_record
from aims_mlops.collectors._environment import (
    compute_facts,
    environment_facts,
    git_facts,
    strip_credentials,
)
from aims_mlops.evidence import EvidenceRecord, Subject, canonical_json
from aims_mlops.store._contract import TAG_DATASET_SHA256_PREFIX

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

COLLECTOR = "aims_mlops.lineage"


#: Run tag prefix under which our full-content SHA-256 of a logged dataset is kept, keyed by
#: MLflow's own (partial) digest: ``aims.dataset_sha256.<mlflow digest> = <sha256>``.
DATASET_SHA256_TAG_PREFIX = TAG_DATASET_SHA256_PREFIX
#: Where a ``lineage.params`` record's parameters come from (``params_source``).
PARAMS_FROM_RUN = "run"
PARAMS_FROM_LOGGED_MODEL = "logged model {model_id} (the params MLflow keeps with it)"
PARAMS_FROM_SKLEARN = "logged model {model_id} (scikit-learn get_params)"
#: Longest parameter value kept in evidence (longer values are cut; the full set is hashed).
MAX_PARAM_VALUE_CHARS = 250
#: Details are kept well under the record's size limit by dropping the longest lists first.
_DETAILS_BUDGET = 28_000
_MAX_SOURCE_CHARS = 1_000
_MAX_COLUMNS = 300
_MAX_LOGGED_MODELS = 100
_TAG_SOURCE_NAME = "mlflow.source.name"
_TAG_SOURCE_TYPE = "mlflow.source.type"


#: Source files whose content identifies the training code (an entry-point shim does not).
SOURCE_SUFFIXES = (".py", ".ipynb", ".r", ".R", ".scala", ".sql")
_MAX_SOURCE_BYTES = 50_000_000


def source_file_sha256(path: Path) -> str | None:
    """SHA-256 of a training source file (``.py``, notebook, ...); None for anything else."""
    if path.suffix not in SOURCE_SUFFIXES or not path.is_file():
        return None
    if path.stat().st_size > _MAX_SOURCE_BYTES:
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class LineageTask:
    """One lineage evidence kind for one run, ready to be produced."""

    kind: str
    produce: Callable[[], EvidenceRecord]


def _iso(millis: int | None) -> str | None:
    if millis is None:
        return None
    stamp = datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _size(payload: Any) -> int:
    return len(canonical_json(payload))


def _sha256_json(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def _loads(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _clean_source(value: Any) -> Any:
    """Dataset source description with credentials stripped from URLs and long texts cut."""
    if isinstance(value, Mapping):
        return {str(k): _clean_source(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_source(v) for v in value]
    if isinstance(value, str):
        cleaned = strip_credentials(value) if "://" in value else value
        return cleaned[:_MAX_SOURCE_CHARS]
    return value


def _schema_columns(schema: Any) -> list[dict[str, Any]] | None:
    if isinstance(schema, Mapping) and isinstance(schema.get("mlflow_colspec"), list):
        return [
            {"name": col.get("name"), "type": col.get("type")}
            for col in schema["mlflow_colspec"]
            if isinstance(col, Mapping)
        ]
    if isinstance(schema, Mapping) and isinstance(schema.get("mlflow_tensorspec"), Mapping):
        return [{"name": None, "type": "tensor", "spec": dict(schema["mlflow_tensorspec"])}]
    return None


class _RunLineage:
    """Builds the lineage records of one fetched run."""

    def __init__(
        self,
        run: Run,
        *,
        client: MlflowClient,
        system: str | None,
        config_digest: str | None,
        frames: Mapping[str, str] | None,
    ) -> None:
        self.run = run
        self.client = client
        self.system = system
        self.config_digest = config_digest
        self.run_id: str = run.info.run_id
        self.experiment_id: str = run.info.experiment_id
        self.tags: dict[str, str] = dict(run.data.tags)
        hashes = {
            key.removeprefix(DATASET_SHA256_TAG_PREFIX): value
            for key, value in self.tags.items()
            if key.startswith(DATASET_SHA256_TAG_PREFIX)
        }
        hashes.update(frames or {})
        self.full_hashes: dict[str, str] = hashes
        self.dataset_inputs = list(run.inputs.dataset_inputs) if run.inputs else []
        self.models: list[dict[str, Any]] = []
        self.logged: list[Any] = []
        self.versions: list[Any] = []
        self.model_error: Exception | None = None
        try:
            self.models, self.versions = self._model_facts()
        except Exception as exc:  # kept: the lineage.model task raises it inside capture
            self.model_error = exc

    # -- shared --------------------------------------------------------------------------------
    def dataset_digests(self) -> tuple[str, ...]:
        digests: list[str] = []
        for dataset_input in self.dataset_inputs:
            digest = dataset_input.dataset.digest
            for value in (digest, self.full_hashes.get(digest)):
                if value and value not in digests:
                    digests.append(value)
        return tuple(digests)

    def subject(self) -> Subject:
        versions = self.versions
        latest = (
            max(versions, key=lambda mv: (mv.creation_timestamp or 0, int(mv.version)))
            if versions
            else None
        )
        return Subject(
            run_id=self.run_id,
            experiment_id=self.experiment_id,
            model_name=latest.name if latest is not None else None,
            model_version=str(latest.version) if latest is not None else None,
            dataset_digests=self.dataset_digests(),
        )

    def record(
        self, kind: str, details: Mapping[str, Any], metrics: Mapping[str, float] | None = None
    ) -> EvidenceRecord:
        return catalog_record(
            kind=kind,
            system=self.system,
            outcome="info",
            collector=COLLECTOR,
            subject=self.subject(),
            metrics=metrics or {},
            details=details,
            config_digest=self.config_digest,
        )

    # -- kinds ---------------------------------------------------------------------------------
    def datasets(self) -> EvidenceRecord:
        entries: list[dict[str, Any]] = []
        for dataset_input in self.dataset_inputs:
            dataset = dataset_input.dataset
            input_tags = {tag.key: tag.value for tag in dataset_input.tags or []}
            schema = _loads(dataset.schema)
            columns = _schema_columns(schema)
            profile = _loads(dataset.profile)
            profile = profile if isinstance(profile, Mapping) else {}
            source = _clean_source(_loads(dataset.source))
            entries.append(
                {
                    "name": dataset.name,
                    "digest": dataset.digest,
                    "sha256": self.full_hashes.get(dataset.digest),
                    "source_type": dataset.source_type,
                    "source": source,
                    # a Delta table's version (mlflow.data.from_spark(..., version=) or latest)
                    "delta_version": (
                        source.get("delta_table_version") if isinstance(source, Mapping) else None
                    ),
                    "columns": columns[:_MAX_COLUMNS] if columns is not None else None,
                    "columns_total": len(columns) if columns is not None else None,
                    "schema_sha256": (
                        hashlib.sha256(dataset.schema.encode("utf-8")).hexdigest()
                        if dataset.schema
                        else None
                    ),
                    "num_rows": profile.get("num_rows"),
                    "num_elements": profile.get("num_elements"),
                    "context": input_tags.get("mlflow.data.context"),
                }
            )
        details: dict[str, Any] = {"datasets": entries}
        if _size(details) > _DETAILS_BUDGET:  # very wide data: keep counts and schema hashes
            for entry in entries:
                entry["columns"] = None
        while len(entries) > 1 and _size(details) > _DETAILS_BUDGET:
            entries.pop()
            details["datasets_omitted"] = len(self.dataset_inputs) - len(entries)
        hashed = sum(1 for entry in entries if entry["sha256"])
        return self.record(
            "lineage.datasets",
            details,
            {"datasets": len(self.dataset_inputs), "datasets_full_content_hashed": hashed},
        )

    def code(self) -> EvidenceRecord:
        source_name = self.tags.get(_TAG_SOURCE_NAME)
        git_dir: Path = Path.cwd()
        source_sha256: str | None = None
        if source_name and self.tags.get(_TAG_SOURCE_TYPE) in {"LOCAL", "PROJECT", None}:
            candidate = Path(source_name)
            candidate = candidate if candidate.is_absolute() else Path.cwd() / candidate
            if candidate.exists():
                git_dir = candidate if candidate.is_dir() else candidate.parent
            source_sha256 = source_file_sha256(candidate)
        repo_url = self.tags.get("mlflow.source.git.repoURL")
        details = {
            "source_name": source_name,
            "source_type": self.tags.get(_TAG_SOURCE_TYPE),
            "entry_point": self.tags.get("mlflow.project.entryPoint"),
            # the training source itself, so the code version is known outside git too
            "source_sha256": source_sha256,
            "git": git_facts(git_dir),
            "git_checked_in": str(git_dir),
            "mlflow_git_commit": self.tags.get("mlflow.source.git.commit"),
            "mlflow_git_branch": self.tags.get("mlflow.source.git.branch"),
            "mlflow_git_repo_url": strip_credentials(repo_url) if repo_url else None,
        }
        return self.record("lineage.code", details)

    def _params_from_models(self) -> tuple[dict[str, str], str | None, str | None]:
        """When the run logged no parameters: those of a model it logged, with where they came
        from: what MLflow keeps with the logged model (``log_model(params=...)``), else a
        scikit-learn model's ``get_params()``. Also the error that kept them out, if any."""
        for model in self.logged:
            kept = getattr(model, "params", None) or {}
            if kept:
                source = PARAMS_FROM_LOGGED_MODEL.format(model_id=model.model_id)
                return {str(k): str(v) for k, v in kept.items()}, source, None
        error: str | None = None
        for model, facts in zip(self.logged, self.models, strict=False):
            if "sklearn" not in (facts.get("flavors") or ()):
                continue
            try:
                found = sklearn_params(model.model_uri)
            except Exception as exc:  # kept in the record: why the parameters are not there
                error = f"{type(exc).__name__}: {exc}"[:MAX_PARAM_VALUE_CHARS]
                continue
            if found:
                return found, PARAMS_FROM_SKLEARN.format(model_id=model.model_id), None
        return {}, None, error

    def params(self) -> EvidenceRecord:
        info = self.run.info
        all_params = dict(self.run.data.params)
        source: str | None = PARAMS_FROM_RUN if all_params else None
        model_error: str | None = None
        if not all_params:
            all_params, source, model_error = self._params_from_models()
        kept: dict[str, str] = {}
        budget = _DETAILS_BUDGET // 2
        used = 0
        for name in sorted(all_params):
            value = all_params[name][:MAX_PARAM_VALUE_CHARS]
            used += len(name) + len(value) + 6
            if used > budget:
                break
            kept[name] = value
        metrics: dict[str, float] = {}
        non_finite: list[str] = []
        for name, value in sorted(self.run.data.metrics.items()):
            number = float(value)
            if number == number and number not in (float("inf"), float("-inf")):
                metrics[name] = number
            else:
                non_finite.append(name)
        details = {
            "params": kept,
            # where the parameters come from: the run, or a model it logged (the run had none)
            "params_source": source,
            "params_total": len(all_params),
            "params_omitted": len(all_params) - len(kept),
            "params_sha256": _sha256_json(all_params),
            "metric_names": sorted(self.run.data.metrics)[:500],
            "metrics_non_finite": non_finite[:100],
            "status": info.status,
            "start_time": _iso(info.start_time),
            "end_time": _iso(info.end_time),
            "run_name": info.run_name,
            "parent_run_id": self.tags.get("mlflow.parentRunId"),
            "user": self.tags.get("mlflow.user") or info.user_id or None,
        }
        if model_error is not None:
            details["params_from_model_error"] = model_error
        return self.record("lineage.params", details, metrics)

    def environment(self) -> EvidenceRecord:
        return self.record("lineage.environment", environment_facts())

    def compute(self) -> EvidenceRecord:
        facts = compute_facts()
        metrics: dict[str, float] = {}
        if facts.get("cpu_count"):
            metrics["cpu_count"] = float(facts["cpu_count"])
        if facts.get("memory_total_bytes"):
            metrics["memory_total_bytes"] = float(facts["memory_total_bytes"])
        if facts.get("gpus") is not None:
            metrics["gpu_count"] = float(len(facts["gpus"]))
        return self.record("lineage.compute", facts, metrics)

    def _model_facts(self) -> tuple[list[dict[str, Any]], list[Any]]:
        logged = self.client.search_logged_models(
            experiment_ids=[self.experiment_id],
            filter_string=f"source_run_id='{self.run_id}'",
            max_results=_MAX_LOGGED_MODELS,
        )
        self.logged = list(logged)
        models = [
            {
                "model_id": model.model_id,
                "name": model.name,
                "model_type": model.model_type,
                "status": str(getattr(model.status, "value", model.status)),
                "model_uri": model.model_uri,
                "flavors": _flavors(model.artifact_location, self.client.tracking_uri),
            }
            for model in logged
        ]
        versions = list(self.client.search_model_versions(f"run_id='{self.run_id}'"))
        return models, versions

    def has_models(self) -> bool:
        return bool(self.models or self.versions)

    def model(self) -> EvidenceRecord:
        if self.model_error is not None:
            raise self.model_error
        models, versions = self.models, self.versions
        registered = [
            {
                "name": mv.name,
                "version": str(mv.version),
                "source": mv.source,
                "model_id": mv.model_id or _model_id_from_source(mv.source),
                "status": mv.status,
                "created": _iso(mv.creation_timestamp),
            }
            for mv in sorted(versions, key=lambda mv: (mv.name, int(mv.version)))
        ]
        return self.record(
            "lineage.model",
            {"logged_models": models, "registered_versions": registered},
            {"logged_models": len(models), "registered_versions": len(registered)},
        )


def sklearn_params(model_uri: str) -> dict[str, str]:
    """A logged scikit-learn model's ``get_params(deep=True)``, the plain values as MLflow logs
    parameters (``str(value)``); nested estimators are left out (their own values are in)."""
    import mlflow.sklearn

    model = mlflow.sklearn.load_model(model_uri)
    params = model.get_params(deep=True) if hasattr(model, "get_params") else {}
    return {
        str(name): str(value)
        for name, value in params.items()
        if value is None or isinstance(value, str | int | float | bool)
    }


def _model_id_from_source(source: str | None) -> str | None:
    """Open-source MLflow leaves ``ModelVersion.model_id`` empty; the source is ``models:/<id>``."""
    if source and source.startswith("models:/"):
        return source.removeprefix("models:/").split("/", 1)[0] or None
    return None


def _flavors(artifact_location: str | None, tracking_uri: str | None) -> list[str] | None:
    """Flavor names from a logged model's ``MLmodel`` file (``None`` when it cannot be read)."""
    if not artifact_location:
        return None
    import tempfile

    import yaml
    from mlflow.exceptions import MlflowException
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, "MLmodel")
        try:
            repo = get_artifact_repository(artifact_location, tracking_uri=tracking_uri)
            # the per-file primitive: download_artifacts() draws a progress bar on stderr
            repo._download_file("MLmodel", local)
            with open(local, encoding="utf-8") as handle:
                document = yaml.safe_load(handle)
        except (MlflowException, OSError, yaml.YAMLError):
            return None
    flavors = document.get("flavors") if isinstance(document, Mapping) else None
    return sorted(flavors) if isinstance(flavors, Mapping) else None


def lineage_tasks(
    run: Run,
    *,
    client: MlflowClient,
    system: str | None,
    config_digest: str | None = None,
    frames: Mapping[str, str] | None = None,
) -> list[LineageTask]:
    """One task per lineage kind for a fetched run.

    ``frames`` maps MLflow dataset digests to full-content SHA-256s known to the caller (they add
    to the ``aims.dataset_sha256.*`` run tags). No ``lineage.datasets`` task when the run logged
    no dataset, and no ``lineage.model`` task when it logged or registered no model: those
    controls stay without evidence rather than get an empty record. When the model registry
    cannot be read, the ``lineage.model`` task raises that error (the others go on).
    """
    lineage = _RunLineage(
        run, client=client, system=system, config_digest=config_digest, frames=frames
    )
    producers: list[tuple[str, Callable[[], EvidenceRecord]]] = []
    if lineage.dataset_inputs:
        producers.append(("lineage.datasets", lineage.datasets))
    producers += [
        ("lineage.code", lineage.code),
        ("lineage.params", lineage.params),
        ("lineage.environment", lineage.environment),
        ("lineage.compute", lineage.compute),
    ]
    if lineage.model_error is not None or lineage.has_models():
        producers.append(("lineage.model", lineage.model))
    return [LineageTask(kind=k, produce=p) for k, p in producers]


def lineage_records(
    run_id: str,
    *,
    client: MlflowClient,
    system: str | None,
    config_digest: str | None = None,
    frames: Mapping[str, str] | None = None,
) -> list[EvidenceRecord]:
    """The lineage records of a run (see :func:`lineage_tasks`); raises if any collector fails."""
    run = client.get_run(run_id)
    tasks = lineage_tasks(
        run, client=client, system=system, config_digest=config_digest, frames=frames
    )
    return [task.produce() for task in tasks]
