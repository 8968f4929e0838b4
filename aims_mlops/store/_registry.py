"""The current models: which model version (and run) each AI system uses now.

A system's binding (``registered_model``, ``alias``, ``version``, ``experiment``) resolves to
the registered model version holding the alias (or the pinned version), else to the latest
finished run of the bound experiment. The result, :class:`CurrentModels`, also carries the runs
fetched on the way and the experiment listing, so the scaled read that follows need not fetch
them again: they are passed to it explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from aims_mlops.evidence import CurrentModel
from aims_mlops.store import _contract as contract
from aims_mlops.store import _search as search
from aims_mlops.store._connection import Connection, is_missing

if TYPE_CHECKING:
    from mlflow.entities import Run
A = TypeVar("A")
T = TypeVar("T")

#: Concurrent requests when resolving or reading many systems at once.
READ_THREADS = 4
#: The alias a binding uses when it names none.
DEFAULT_ALIAS = "champion"
#: MLflow errors that mean "no such model version or alias" (not a failure).
_NO_SUCH_VERSION = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


class CurrentModels(dict[str, "CurrentModel | None"]):
    """System id to its current model (None: it has none), plus what resolving fetched.

    ``runs`` maps run id to the MLflow run behind a current model (fetched once, handed to the
    scaled read); ``experiments`` is the experiment listing (name to id) when one was made.
    Pass it to the read right away: the runs are as they were when resolved.
    """

    def __init__(
        self,
        models: Mapping[str, CurrentModel | None] | None = None,
        *,
        runs: Mapping[str, Run] | None = None,
        experiments: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(models or {})
        self.runs: dict[str, Run] = dict(runs or {})
        self.experiments: dict[str, str] | None = (
            dict(experiments) if experiments is not None else None
        )


def parallel(fn: Callable[[A], T], items: list[A]) -> list[T]:
    """``fn`` over ``items`` (results in order), a few at a time when there are several."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="aims-read") as pool:
        return list(pool.map(fn, items))


def run_dataset_digests(run: Run) -> tuple[str, ...]:
    """MLflow's dataset digests of a run, then our full-content SHA-256 tagged for them."""
    inputs = run.inputs.dataset_inputs if run.inputs else ()
    return contract.dataset_digests((i.dataset.digest for i in inputs), run.data.tags)


def _iso_millis(millis: int) -> str:
    """An MLflow timestamp (milliseconds since the epoch) as ISO 8601 UTC."""
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _current_model_class() -> type[CurrentModel]:
    return CurrentModel


class Registry:
    """Resolves systems' bindings to their current models on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def current_model(
        self,
        *,
        registered_model: str | None,
        alias: str = DEFAULT_ALIAS,
        version: str | None = None,
        experiment: str | None = None,
    ) -> tuple[CurrentModel | None, Run | None]:
        """The current model of one binding and the run behind it (either may be None)."""
        if registered_model is None and experiment is None:
            return None, None
        with self._conn.reading():
            if registered_model is None:
                assert experiment is not None
                return self._latest_finished_run(experiment)
            model = self._registered_version(registered_model, alias=alias, version=version)
            if model is None or model.run_id is None:
                return model, None
            run = search.get_run(self._conn, model.run_id)
            if run is None:
                return model, None
            return replace(model, dataset_digests=run_dataset_digests(run)), run

    def versions(self, registered_model: str) -> list[tuple[str, str | None]]:
        """Every version of ``registered_model`` with its registration time (ISO 8601 or None),
        oldest first; empty when the model is not registered."""
        name = registered_model.replace("'", "\\'")
        with self._conn.reading():
            found = list(self._conn.client.search_model_versions(f"name='{name}'"))
        rows = [
            (str(v.version), _iso_millis(v.creation_timestamp) if v.creation_timestamp else None)
            for v in found
        ]
        return sorted(rows, key=lambda row: (row[1] or "", int(row[0]) if row[0].isdigit() else 0))

    def current_models(self, bindings: Mapping[str, Mapping[str, Any]]) -> CurrentModels:
        """:meth:`current_model` for many systems: ``bindings`` maps a system to its keywords.
        Registry lookups run a few at a time and the model runs come in one ``run_id IN``
        search per 100 runs, so time grows with the systems, not with their histories."""
        if len(bindings) <= 1:
            return self._one_by_one(bindings)
        systems = list(bindings)
        with self._conn.reading():  # the workers must not enter reading() (its lock is held)
            listing = search.experiment_listing(self._conn)
            resolved = parallel(self._resolve_lazily, [bindings[s] for s in systems])
            found = dict(zip(systems, (model for model, _ in resolved), strict=True))
            runs = {run.info.run_id: run for _, run in resolved if run is not None}
            runs.update(self._model_runs(found.values(), runs, listing))
        result = CurrentModels(runs=runs, experiments=listing)
        for system, model in found.items():
            run = runs.get(model.run_id) if model and model.run_id else None
            if model is not None and run is not None and not model.dataset_digests:
                model = replace(model, dataset_digests=run_dataset_digests(run))
            result[system] = model
        return result

    def _one_by_one(self, bindings: Mapping[str, Mapping[str, Any]]) -> CurrentModels:
        result = CurrentModels()
        for system, kwargs in bindings.items():
            model, run = self.current_model(**kwargs)
            result[system] = model
            if run is not None:
                result.runs[run.info.run_id] = run
        return result

    def _resolve_lazily(self, binding: Mapping[str, Any]) -> tuple[CurrentModel | None, Run | None]:
        """A binding's model without its run's digests (the latest-run case has its run)."""
        kwargs = dict(binding)
        if kwargs.get("registered_model") is None:
            experiment = kwargs.get("experiment")
            return self._latest_finished_run(experiment) if experiment else (None, None)
        kwargs.pop("experiment", None)  # the registry decides, not the experiment
        return self._registered_version(**kwargs), None

    def _model_runs(
        self, models: Any, have: Mapping[str, Run], listing: Mapping[str, str]
    ) -> dict[str, Run]:
        """The runs of ``models`` not in ``have``: one search, then ``get_run`` for the runs of
        deleted experiments (the search does not find them)."""
        wanted = [m.run_id for m in models if m is not None and m.run_id and m.run_id not in have]
        missing = list(dict.fromkeys(wanted))
        runs = {
            run.info.run_id: run
            for run in search.runs_by_id(self._conn, missing, list(listing.values()))
        }
        for run_id in missing:
            if run_id not in runs:
                run = search.get_run(self._conn, run_id)
                if run is not None:
                    runs[run_id] = run
        return runs

    def _latest_finished_run(self, experiment: str) -> tuple[CurrentModel | None, Run | None]:
        """The latest finished run of ``experiment`` as the current model (None: no run)."""
        experiment_id = search.experiment_id(self._conn, experiment)
        if experiment_id is None:
            return None, None
        runs = self._conn.client.search_runs(
            [experiment_id],
            filter_string="attributes.status = 'FINISHED'",
            max_results=1,
            order_by=["attributes.start_time DESC"],
        )
        if not runs:
            return None, None
        run = runs[0]
        model = _current_model_class()(
            name=experiment,
            version=None,
            run_id=run.info.run_id,
            dataset_digests=run_dataset_digests(run),
            alias=None,
        )
        return model, run

    def _registered_version(
        self, registered_model: str, *, alias: str = DEFAULT_ALIAS, version: str | None = None
    ) -> CurrentModel | None:
        """The model version holding ``alias`` (or ``version``), without its run's digests."""
        from mlflow.exceptions import MlflowException

        client = self._conn.client
        try:
            if version is not None:
                model_version = client.get_model_version(registered_model, str(version))
            else:
                model_version = client.get_model_version_by_alias(registered_model, alias)
        except MlflowException as exc:
            if exc.error_code in _NO_SUCH_VERSION:
                return None
            raise
        run_id = model_version.run_id or self._source_run_id(model_version)
        created = getattr(model_version, "creation_timestamp", None)
        return _current_model_class()(
            name=registered_model,
            version=str(model_version.version),
            run_id=run_id or None,
            dataset_digests=(),
            alias=alias if version is None else None,
            registered_at=_iso_millis(created) if created else None,
        )

    def _source_run_id(self, model_version: Any) -> str | None:
        """The run behind a model version logged as a LoggedModel (``models:/<model id>``)."""
        from mlflow.exceptions import MlflowException

        model_id = getattr(model_version, "model_id", None)
        source = model_version.source or ""
        if not model_id and source.startswith("models:/"):
            model_id = source[len("models:/") :].strip("/").split("/")[0]
        if not model_id:
            return None
        try:
            logged = self._conn.client.get_logged_model(model_id)
        except MlflowException as exc:
            if not is_missing(exc):
                raise
            return None
        return logged.source_run_id
