"""Discovery for the AI system inventory: every registered model and every experiment with
logged models in the tracking server (read only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aims_mlops.evidence import EXPERIMENT, REGISTERED_MODEL, Discovered, Inventory

_PAGE = 200


def _iso(millis: int | None) -> str | None:
    if not millis:
        return None
    moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _pages(call: Any, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    token = None
    while True:
        page = call(max_results=_PAGE, page_token=token, **kwargs)
        items.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return items


def discover(
    client: Any, *, skip_experiments: tuple[str, ...] = (), experiments: bool = True
) -> Inventory:
    """List the registered models and (``experiments``) the experiments with logged models
    ``client`` sees. An MLflow failure is no exception: the inventory says it is incomplete and
    why. Judging (4.3) needs the registered models only: one paged call."""
    from mlflow.exceptions import MlflowException

    found: list[Discovered] = []
    try:
        for model in _pages(client.search_registered_models):
            versions = model.latest_versions or []
            count = max((int(v.version) for v in versions if str(v.version).isdigit()), default=0)
            found.append(
                Discovered(
                    kind=REGISTERED_MODEL,
                    name=model.name,
                    created_at=_iso(model.creation_timestamp),
                    count=count,
                )
            )
        for experiment in _pages(client.search_experiments) if experiments else ():
            if experiment.name in skip_experiments:
                continue
            logged = client.search_logged_models(
                experiment_ids=[experiment.experiment_id], max_results=_PAGE
            )
            if len(logged):
                found.append(
                    Discovered(
                        kind=EXPERIMENT,
                        name=experiment.name,
                        created_at=_iso(experiment.creation_time),
                        count=len(logged),
                    )
                )
    except (MlflowException, OSError) as exc:  # the listing is partial: say so, keep the rest
        return Inventory(found=tuple(found), complete=False, problem=str(exc).splitlines()[0])
    return Inventory(found=tuple(found))
