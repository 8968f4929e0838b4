"""Finding runs and artifacts in MLflow: paged searches, newest runs, runs by id, downloads.

Each function takes the :class:`~aims_mlops.store._connection.Connection` and must run inside
its ``reading()`` block (or a write call). MLflow is imported on first use only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from aims_mlops._errors import StoreError
from aims_mlops.store import _contract as contract
from aims_mlops.store._connection import Connection, classify_failure, is_missing

if TYPE_CHECKING:
    from mlflow.entities import Run

#: Runs per page when reading, and experiments per search.
PAGE_SIZE = 1000
EXPERIMENT_CHUNK = 100
#: Run ids per ``attributes.run_id IN (...)`` search.
RUN_ID_CHUNK = 100

ERROR_RUN_NOT_FOUND = "run {run_id} not found in MLflow at {uri}"
ERROR_RUN_DELETED = (
    "run {run_id} is deleted in MLflow at {uri}: its records are not evidence (a search never "
    "finds them; `aims verify` names a checkpointed one as removed)"
)


def experiment_listing(conn: Connection) -> dict[str, str]:
    """Every active experiment, name to id (one request per 1,000 experiments)."""
    from mlflow.entities import ViewType

    listing: dict[str, str] = {}
    token: str | None = None
    while True:
        page = conn.client.search_experiments(
            view_type=ViewType.ACTIVE_ONLY, max_results=PAGE_SIZE, page_token=token
        )
        listing.update((e.name, str(e.experiment_id)) for e in page)
        token = page.token
        if not token:
            return listing


def experiment_id(conn: Connection, name: str, *, active_only: bool = False) -> str | None:
    """The id of the experiment named ``name``; None when absent (or deleted, ``active_only``)."""
    experiment = conn.client.get_experiment_by_name(name)
    if experiment is None or (active_only and experiment.lifecycle_stage != "active"):
        return None
    return str(experiment.experiment_id)


def search(
    conn: Connection, experiment_ids: list[str], filter_string: str, *, max_runs: int | None = None
) -> Iterator[Run]:
    """Every run matching ``filter_string``, newest first per chunk of 100 experiments."""
    page_size = PAGE_SIZE if max_runs is None else max(1, min(PAGE_SIZE, max_runs))
    for start in range(0, len(experiment_ids), EXPERIMENT_CHUNK):
        chunk = experiment_ids[start : start + EXPERIMENT_CHUNK]
        token: str | None = None
        while True:
            page = conn.client.search_runs(
                chunk,
                filter_string=filter_string,
                max_results=page_size,
                order_by=["attributes.start_time DESC"],
                page_token=token,
            )
            yield from page
            token = page.token
            if not token:
                break


def newest_runs(
    conn: Connection, experiment_ids: list[str], filter_string: str, count: int
) -> list[Run]:
    """The newest ``count`` runs matching ``filter_string``: one page per 100 experiments."""
    runs: list[Run] = []
    for start in range(0, len(experiment_ids), EXPERIMENT_CHUNK):
        runs.extend(
            conn.client.search_runs(
                experiment_ids[start : start + EXPERIMENT_CHUNK],
                filter_string=filter_string,
                max_results=max(1, min(PAGE_SIZE, count)),
                order_by=["attributes.start_time DESC"],
            )
        )
    if len(experiment_ids) > EXPERIMENT_CHUNK:
        runs.sort(key=lambda run: run.info.start_time or 0, reverse=True)
    return runs[:count]


def runs_by_id(conn: Connection, run_ids: list[str], experiment_ids: list[str]) -> list[Run]:
    """The runs with these ids: one ``attributes.run_id IN`` search per 100 ids and 100
    experiments (runs of deleted experiments are not found)."""
    runs: list[Run] = []
    for start in range(0, len(run_ids), RUN_ID_CHUNK):
        quoted = ", ".join(f"'{contract.quote(r)}'" for r in run_ids[start : start + RUN_ID_CHUNK])
        runs.extend(search(conn, experiment_ids, f"attributes.run_id IN ({quoted})"))
    return runs


def get_run(conn: Connection, run_id: str) -> Run | None:
    """One run; None when MLflow has no such run."""
    from mlflow.exceptions import MlflowException

    try:
        return conn.client.get_run(run_id)
    except MlflowException as exc:
        if not is_missing(exc):
            raise
        return None


def evidence_runs(
    conn: Connection,
    *,
    evidence_experiment: str,
    system: str | None,
    run_ids: Iterable[str] | None,
    include_org: bool,
    max_runs: int | None,
    experiment_ids: Iterable[str] | None,
    organization_only: bool = False,
) -> list[Run]:
    """The runs that may hold the wanted evidence (found by tag, never by listing all):
    ``run_ids`` when given (:class:`StoreError` for an unknown one), else the runs of ``system``
    (all systems when None) and, with ``include_org``, the organization's, in ``experiment_ids``
    (all when None) plus the evidence experiment; ``organization_only``: the organization's
    runs alone (every run holding an organization-level record is tagged so)."""
    if run_ids is not None:
        runs = [_known_run(conn, run_id) for run_id in run_ids]
        return runs[:max_runs] if max_runs is not None else runs
    if experiment_ids is None:
        ids = list(experiment_listing(conn).values())
    else:
        ids = [str(i) for i in experiment_ids]
        evidence = experiment_id(conn, evidence_experiment)
        if evidence is not None and evidence not in ids:
            ids.append(evidence)
    if not ids:
        return []
    filters = [] if organization_only else [contract.system_filter(system)]
    if include_org or organization_only:
        filters.append(contract.organization_filter())
    found: dict[str, Run] = {}
    for filter_string in filters:
        for run in search(conn, ids, filter_string, max_runs=max_runs):
            found.setdefault(run.info.run_id, run)
            if max_runs is not None and len(found) >= max_runs:
                return list(found.values())
    return list(found.values())


def _known_run(conn: Connection, run_id: str) -> Run:
    """The run asked for by its id: an error when MLflow has none, or has it soft-deleted
    (``get_run`` returns those too; no read by search would)."""
    run = get_run(conn, run_id)
    if run is None:
        raise StoreError(ERROR_RUN_NOT_FOUND.format(run_id=run_id, uri=conn.tracking_uri))
    if run.info.lifecycle_stage == "deleted":
        raise StoreError(ERROR_RUN_DELETED.format(run_id=run_id, uri=conn.tracking_uri))
    return run


def download(conn: Connection, run_id: str, path: str, destination: str) -> Path | None:
    """Download one artifact file or directory; None when it does not exist (an unreachable
    store still raises)."""
    from mlflow.exceptions import MlflowException

    try:
        local = Path(conn.client.download_artifacts(run_id, path, destination))
    except (MlflowException, OSError) as exc:
        if classify_failure(exc) == "unreachable":
            raise
        return None
    return local if local.exists() else None


def _listed_size(conn: Connection, run_id: str, path: str) -> int | None:
    """The size MLflow lists for one artifact file; None when it lists none."""
    from mlflow.exceptions import MlflowException

    parent = path.rsplit("/", 1)[0] if "/" in path else None
    try:
        listed = conn.client.list_artifacts(run_id, parent)
    except (MlflowException, OSError) as exc:
        if classify_failure(exc) == "unreachable":
            raise
        return None
    return next((f.file_size for f in listed if f.path == path and not f.is_dir), None)


def list_files(conn: Connection, run_id: str, folder: str) -> frozenset[str]:
    """The artifact files directly in ``folder`` of a run (their full paths); empty when the
    folder does not exist (an unreachable store still raises)."""
    from mlflow.exceptions import MlflowException

    try:
        listed = conn.client.list_artifacts(run_id, folder)
    except (MlflowException, OSError) as exc:
        if classify_failure(exc) == "unreachable":
            raise
        return frozenset()
    return frozenset(f.path for f in listed if not f.is_dir)


def read_capped(file: Path, *, shown: str, max_bytes: int = contract.MAX_ARTIFACT_BYTES) -> bytes:
    """The bytes of a local file of at most ``max_bytes`` (:class:`contract.ArtifactTooLarge`
    otherwise; a larger file is never read whole)."""
    with file.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise contract.ArtifactTooLarge(path=shown, size=file.stat().st_size)
    return data


def fetch_artifact(
    conn: Connection, run_id: str, path: str, *, max_bytes: int = contract.MAX_ARTIFACT_BYTES
) -> bytes | None:
    """The bytes of one artifact file of a run; None when it is missing or not a file;
    :class:`contract.ArtifactTooLarge` (not downloaded when MLflow lists its size) when it holds
    more than ``max_bytes`` (a record's artifact: :data:`contract.MAX_ARTIFACT_BYTES`)."""
    size = _listed_size(conn, run_id, path)
    if size is not None and size > max_bytes:
        raise contract.ArtifactTooLarge(path=path, size=size)
    with tempfile.TemporaryDirectory(prefix="aims-read-") as tmp:
        local = download(conn, run_id, path, tmp)
        if local is None or not local.is_file():
            return None
        return read_capped(local, shown=path, max_bytes=max_bytes)
