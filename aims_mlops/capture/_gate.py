"""Running the release gate: judge, evaluate, promote, and record the ``deployment`` record.

:func:`run_gate` gathers the evidence (:func:`~aims_mlops.judgement.judge`), evaluates the gate
(:func:`~aims_mlops.judgement.evaluate_gate`, pure) and, on request, promotes the version (moves
the registered model alias) and records the promotion, or the blocked promotion, as a
``deployment`` record (:func:`~aims_mlops.judgement.deployment_record`, pure) on the version's
source run, through the one writer and a capture context of its own (the judged config and
store; the process's session is left alone).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aims_mlops.capture._context import CaptureContext
from aims_mlops.capture._writer import emit
from aims_mlops.config import config_digest
from aims_mlops.judgement import (
    ERROR_NO_REGISTERED_MODEL,
    ERROR_NO_VERSION,
    ERROR_PROMOTION_FAILED,
    ERROR_UNKNOWN_VERSION,
    GateError,
    GateResult,
    Judgement,
    default_approver,
    deployment_record,
    evaluate_gate,
    judge,
    verification_controls,
)
from aims_mlops.judgement._gate import Action, gate_trust

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.evidence import EvidenceRecord
    from aims_mlops.store import EvidenceStore


@dataclass(frozen=True, kw_only=True)
class GateRun:
    """What :func:`run_gate` did: the verdict, the judgement behind it, the promotion."""

    result: GateResult
    judgement: Judgement = field(repr=False)
    alias: str
    promoted: bool = False
    deployment: EvidenceRecord | None = None
    #: signed or not, the keys, unsigned records, the approved configuration, its changes
    trust: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = self.result.to_dict()
        data["alias"] = self.alias
        data["promoted"] = self.promoted
        data["deployment_record"] = None if self.deployment is None else self.deployment.id
        data["trust"] = dict(self.trust)
        return data


def set_alias(store: EvidenceStore, *, model: str, alias: str, version: str) -> None:
    """Point ``alias`` of registered model ``model`` at ``version`` (GateError on refusal)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=store.tracking_uri)
    try:
        client.set_registered_model_alias(model, alias, version)
    except MlflowException as exc:
        raise GateError(
            ERROR_PROMOTION_FAILED.format(alias=alias, model=model, version=version, error=exc)
        ) from exc


def run_gate(
    system: str,
    *,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    model_version: str | None = None,
    require: Sequence[str] = (),
    min_score: float | None = None,
    block_on_risk: bool = True,
    promote: bool = False,
    record: bool | None = None,
    alias: str | None = None,
    approver: str | None = None,
    trigger: str = "aims gate",
    store: EvidenceStore | None = None,
    as_of: str | datetime | None = None,
    draft: bool = False,
    allow_unsigned: bool = False,
    trusted_keys: Sequence[str | os.PathLike[str]] | None = None,
) -> GateRun:
    """Assess ``system`` (at ``model_version``, default: the alias holder) and evaluate the gate.

    ``promote``: when the gate passes, move ``alias`` (default: the system's ``mlflow.alias``) to
    the version; either way record a ``deployment`` record (``promoted`` or ``blocked``).
    ``record`` without ``promote``: record the gate outcome for an alias someone else moved
    (``observed``; the webhook receiver does this). Raises :class:`GateError` when there is no
    model version to promote. ``as_of`` re-performs the gate at a past moment (see
    :func:`judge`); nothing is promoted or recorded then.

    The gate also fails when the evidence is unsigned (unless ``allow_unsigned``) and when the
    verdict is a draft (no approved configuration, or ``draft``); ``trusted_keys`` pin the
    approval chain's root key (default ``$AIMS_TRUSTED_KEYS``).
    """
    judgement = judge(
        config=config,
        systems=[system],
        model_versions={system: model_version},
        store=store,
        as_of=as_of,
        draft=draft,
        trusted_keys=trusted_keys,
    )
    if as_of is not None:
        promote, record = False, False
    system_config = judgement.config.system(system)
    target_alias = alias or system_config.mlflow.alias
    registered = system_config.mlflow.registered_model
    if model_version is not None:
        if registered is None:
            raise GateError(ERROR_NO_REGISTERED_MODEL.format(system=system))
        if judgement.current_models.get(system) is None:
            raise GateError(
                ERROR_UNKNOWN_VERSION.format(system=system, model=registered, version=model_version)
            )
    declared = system_config.gate
    result = evaluate_gate(
        judgement.assessment.systems[system],
        require=require or (declared.require if declared is not None else ()),
        verification=verification_controls(system_config),
        min_score=min_score
        if min_score is not None
        else (declared.min_score if declared is not None else None),
        block_on_risk=block_on_risk,
    )
    trust, trust_failures = gate_trust(judgement, allow_unsigned=allow_unsigned)
    if trust_failures:
        failures = (*result.failures, *trust_failures)
        result = replace(result, failures=failures, passed=False)
    if record is None:
        record = promote
    if not (promote or record):
        return GateRun(result=result, judgement=judgement, alias=target_alias, trust=trust)
    if registered is None:
        raise GateError(ERROR_NO_REGISTERED_MODEL.format(system=system))
    model = judgement.current_models.get(system)
    if model is None or model.version is None:
        raise GateError(
            ERROR_NO_VERSION.format(system=system, model=registered, alias=target_alias)
        )
    action: Action = "observed"
    if promote:
        action = "promoted" if result.passed else "blocked"
        if result.passed:
            set_alias(judgement.store, model=registered, alias=target_alias, version=model.version)
    deployment = deployment_record(
        result,
        model_name=registered,
        model_version=model.version,
        run_id=model.run_id,
        alias=target_alias,
        action=action,
        approver=approver if approver is not None else (default_approver() if promote else None),
        trigger=trigger,
        config_digest=config_digest(judgement.config),
    )
    context = CaptureContext.from_config(
        judgement.config, store=judgement.store, system=system, config_path=judgement.config_path
    )
    stored = emit(context, deployment, run_id=model.run_id)
    return GateRun(
        result=result,
        judgement=judgement,
        alias=target_alias,
        promoted=promote and result.passed,
        deployment=stored,
        trust=trust,
    )
