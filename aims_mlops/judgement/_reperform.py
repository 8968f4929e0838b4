"""Re-performance: which model version each system used as of a past moment.

MLflow keeps no history of registry aliases, so the version "in production as of" a moment is
approximated by the version of the registered model whose registration time is the latest at or
before that moment. Every judgement made ``as_of`` says so in ``Judgement.approximations``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from aims_mlops.engine import iso_moment
from aims_mlops.evidence import ModelBinding, parse_timestamp
from aims_mlops.evidence._current import UNBOUND

if TYPE_CHECKING:
    from aims_mlops.store import EvidenceStore

NOTE_ALIAS = (
    "{system}: MLflow keeps no history of the alias {alias!r}; as of {moment} the system is "
    "judged at {model} version {version}, the latest version registered by then"
)
NOTE_NO_VERSION = (
    "{system}: no version of {model} was registered by {moment}; judged by its latest run "
    "among the records collected by then"
)
NOTE_EXPERIMENT = (
    "{system}: bound to an experiment, not a registered model; judged by its latest run among "
    "the records collected by {moment}"
)
NOTE_PINNED = "{system}: judged at the pinned {model} version {version}"
NOTE_RECORDS = (
    "only records collected at or before {moment} are judged (every run of each system is read)"
)


def version_as_of(store: EvidenceStore, registered_model: str, as_of: datetime) -> str | None:
    """The version of ``registered_model`` registered last at or before ``as_of`` (None: none)."""
    eligible = [
        version
        for version, registered in store.model_versions(registered_model)
        if registered is not None and parse_timestamp(registered) <= as_of
    ]
    return eligible[-1] if eligible else None


def pins_as_of(
    store: EvidenceStore,
    bindings: Mapping[str, ModelBinding],
    as_of: datetime,
) -> tuple[dict[str, ModelBinding], list[str]]:
    """Each binding pinned to its version as of ``as_of`` (a system that had no model then is
    unbound: judged without a current model), and the notes on what is approximated."""
    moment = iso_moment(as_of)
    pinned: dict[str, ModelBinding] = {}
    notes = [NOTE_RECORDS.format(moment=moment)]
    for system, binding in bindings.items():
        model = binding.registered_model
        pinned[system] = UNBOUND
        if binding.version is not None:
            notes.append(NOTE_PINNED.format(system=system, model=model, version=binding.version))
            pinned[system] = binding
            continue
        if model is None:
            notes.append(NOTE_EXPERIMENT.format(system=system, moment=moment))
            continue
        version = version_as_of(store, model, as_of)
        if version is None:
            notes.append(NOTE_NO_VERSION.format(system=system, model=model, moment=moment))
            continue
        pinned[system] = binding.pinned(version)
        notes.append(
            NOTE_ALIAS.format(
                system=system, alias=binding.alias, moment=moment, model=model, version=version
            )
        )
    return pinned, notes
