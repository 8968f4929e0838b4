"""The release gate: may this model version of an AI system go into production?

:func:`evaluate_gate` is a pure function of one system's assessment (the engine's verdict). It
passes when every required entry is ``satisfied`` or ``not_applicable`` (with no ``require``:
when no entry is ``failing`` and the system's verification controls, see
:func:`verification_controls`, are satisfied for the version: missing or stale verification
evidence blocks as failing evidence does), the conformity score reaches ``min_score``, and
(``block_on_risk``) no risk stays above the appetite without an approved acceptance, and no
stored record about the system failed verification (an integrity finding always fails the gate,
whatever is required). Otherwise it fails and names every reason, one line each. ``gate:`` in
aims.yaml sets a system's ``require`` and ``min_score``.

:func:`deployment_record` builds the ``deployment`` record of a promotion attempt (pure);
:func:`aims_mlops.capture.run_gate` judges, evaluates, promotes and hands that record to the one
writer (the judgement package never writes).

The gate never checks the controls the catalog names for ``deployment`` evidence: those are the
controls its own deployment record serves, and a blocked promotion (a failing deployment record)
must not block the next attempt for ever.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from aims_mlops._errors import AimsError
from aims_mlops.catalog import catalog_record, load_catalog
from aims_mlops.engine import NOT_APPLICABLE, SATISFIED, CurrentModel, SystemAssessment
from aims_mlops.evidence import Subject
from aims_mlops.judgement._configuration import unapproved_line

if TYPE_CHECKING:
    from aims_mlops.config import SystemConfig
    from aims_mlops.evidence import EvidenceRecord
    from aims_mlops.judgement._judge import Judgement

#: The kind of evidence a promotion attempt leaves.
DEPLOYMENT_KIND = "deployment"
#: Statuses that let a required entry through.
PASSING_STATUSES: tuple[str, ...] = (SATISFIED, NOT_APPLICABLE)
COLLECTOR = "aims_mlops.gate"
#: Failure lines kept in a deployment record's details (the count is always kept).
MAX_FAILURES_IN_RECORD = 40
MAX_FAILURE_CHARS = 400

ERROR_NOT_ASSESSED = (
    "required entry {id} is not in the assessment of system {system!r}; "
    "`aims catalog` lists the clause and control ids"
)
ERROR_SELF_CONTROL = (
    "{id} cannot be required by the gate: it is the control the gate's own deployment record serves"
)
ERROR_BAD_MIN_SCORE = "min_score must be between 0 and 1; got {value!r}"
ERROR_NO_REGISTERED_MODEL = (
    "system {system!r} has no mlflow.registered_model in aims.yaml: there is no model version "
    "to promote"
)
ERROR_NO_VERSION = (
    "system {system!r}: no model version to promote (no version of {model!r} holds alias "
    "{alias!r}); pass --model-version"
)
ERROR_UNKNOWN_VERSION = "system {system!r}: registered model {model!r} has no version {version}"
ERROR_PROMOTION_FAILED = "setting alias {alias!r} of {model!r} to version {version} failed: {error}"

Action = Literal["promoted", "blocked", "observed"]


class GateError(AimsError):
    """The gate was asked something it cannot answer (an unknown control, no model version)."""


@dataclass(frozen=True, kw_only=True)
class GateResult:
    """The gate's verdict on one system: passed or not, and every reason why not."""

    system: str
    passed: bool
    failures: tuple[str, ...]
    checked: tuple[str, ...]
    score: float
    min_score: float | None = None
    block_on_risk: bool = True
    required: tuple[str, ...] = ()
    model: CurrentModel | None = None

    def to_dict(self) -> dict[str, Any]:
        model = self.model
        return {
            "system": self.system,
            "passed": self.passed,
            "failures": list(self.failures),
            "checked": list(self.checked),
            "score": self.score,
            "min_score": self.min_score,
            "block_on_risk": self.block_on_risk,
            "required": list(self.required),
            "model": None
            if model is None
            else {"name": model.name, "version": model.version, "run_id": model.run_id},
        }

    def headline(self) -> str:
        """One line: PASS/FAIL, the system, its model and score."""
        model = f" ({self.model.describe()})" if self.model is not None else ""
        if self.passed:
            return (
                f"PASS {self.system}{model}: {len(self.checked)} entries checked, "
                f"score {self.score:g}"
            )
        count = len(self.failures)
        return f"FAIL {self.system}{model}: {count} failure{'s' * (count != 1)}"


def deployment_controls() -> tuple[str, ...]:
    """The controls a deployment record speaks to, from the catalog (the gate never checks them)."""
    return load_catalog().controls_for_kind(DEPLOYMENT_KIND)


def verification_controls(system: SystemConfig) -> tuple[str, ...]:
    """The controls whose evidence verifies a version against what ``system`` declares: for
    each kind of evidence its declarations call for (performance thresholds: ``performance``,
    data-quality expectations: ``data_quality``, fairness thresholds: ``fairness``), the
    catalog's controls for that kind, in catalog order."""
    kinds = []
    if system.performance:
        kinds.append("performance")
    if system.data_quality is not None and system.data_quality.expectations:
        kinds.append("data_quality")
    if system.fairness:
        kinds.append("fairness")
    catalog = load_catalog()
    wanted = {c for kind in kinds for c in catalog.controls_for_kind(kind)}
    return tuple(e.id for e in catalog.entries if e.id in wanted)


def risk_entries(by_id: Mapping[str, Any]) -> frozenset[str]:
    """The entries that fail only because risks are above the appetite: the risk-treatment
    entries (the catalog's ``risk_treatment`` check) and the entries derived from them that no
    other part makes failing. ``--allow-risk`` allows these with the risks."""

    catalog = load_catalog()
    found = {e.id for e in catalog.entries if "risk_treatment" in e.rule.config_checks}
    for entry in catalog.entries:
        children = entry.rule.derived_from
        failing = [c for c in children if c in by_id and by_id[c].status == "failing"]
        if children and failing and set(failing) <= found:
            found.add(entry.id)
    return frozenset(found)


def _control_failure(status: Any) -> str:
    reason = status.reasons[0] if status.reasons else status.title
    return f"{status.id} {status.status}: {reason}"


def evaluate_gate(
    system_assessment: SystemAssessment,
    *,
    require: Sequence[str] = (),
    verification: Sequence[str] = (),
    min_score: float | None = None,
    block_on_risk: bool = True,
) -> GateResult:
    """Judge one system's assessment against the gate's conditions (pure, no I/O).

    ``verification``: with no ``require``, the entries whose evidence must be satisfied for the
    version (:func:`verification_controls` of the system)."""
    if min_score is not None and not 0.0 <= float(min_score) <= 1.0:
        raise GateError(ERROR_BAD_MIN_SCORE.format(value=min_score))
    required = tuple(dict.fromkeys(r.strip() for r in require if r.strip()))
    failures: list[str] = []
    by_id = {status.id: status for status in system_assessment.controls}
    own = deployment_controls()
    if required:
        for control_id in required:
            if control_id in own:
                raise GateError(ERROR_SELF_CONTROL.format(id=control_id))
            status = by_id.get(control_id)
            if status is None:
                raise GateError(
                    ERROR_NOT_ASSESSED.format(id=control_id, system=system_assessment.system)
                )
            if status.status not in PASSING_STATUSES:
                failures.append(_control_failure(status))
        checked = required
    else:
        checked = tuple(i for i in by_id if i not in own)
        allowed = () if block_on_risk else risk_entries(by_id)
        failures.extend(
            _control_failure(by_id[i])
            for i in checked
            if by_id[i].status == "failing" and i not in allowed
        )
        model = system_assessment.model
        about = f" for {model.describe()}" if model is not None else ""
        for control_id in verification:
            status = by_id.get(control_id)
            if status is not None and status.status not in (*PASSING_STATUSES, "failing"):
                failures.append(
                    f"{_control_failure(status)} (verification evidence{about} must be current "
                    "before release)"
                )
    failures.extend(
        f"integrity: {finding.reason}" for finding in system_assessment.integrity_findings
    )
    score = system_assessment.score
    if min_score is not None and score < min_score:
        shortfall = round(float(min_score) - score, 4)
        failures.append(
            f"score {score:g} is below the minimum {float(min_score):g} (short by {shortfall:g})"
        )
    if block_on_risk:
        for risk in system_assessment.risks_above_appetite:
            if risk.unresolved:
                failures.append(
                    f"risk {risk.id} ({risk.category}): residual score {risk.residual} is above "
                    f"the appetite {risk.appetite}"
                )
    return GateResult(
        system=system_assessment.system,
        passed=not failures,
        failures=tuple(failures),
        checked=checked,
        score=score,
        min_score=None if min_score is None else float(min_score),
        block_on_risk=block_on_risk,
        required=required,
        model=system_assessment.model,
    )


FAILURE_UNSIGNED = (
    "trust: {note}; the gate does not pass unsigned evidence unless --allow-unsigned is given"
)
FAILURE_DRAFT = "configuration: {reason}"


def gate_trust(
    judgement: Judgement, *, allow_unsigned: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """What the gate says about trust (the JSON ``trust`` block) and the failures it adds: the
    evidence is unsigned (unless ``allow_unsigned``), or the verdict is a draft (no approved
    configuration, or ``--draft``). Pure."""
    policy = judgement.trust
    state = judgement.configuration
    signed = policy.configured and not policy.unsigned
    unsigned = len(judgement.unsigned_records)
    approved = state is not None and state.approved
    data: dict[str, Any] = {
        "signed": signed and not unsigned,
        "require_signatures": policy.require_signatures,
        "keys": sorted(policy.keys),
        "people_keys": {k: p.name for k, p in sorted(policy.people.items())},
        "unsigned_records": unsigned,
        "approved_configuration": (
            state.in_force.to_dict() if approved and state is not None and state.in_force else None
        ),
        "unapproved_changes": list(state.unapproved_changes) if state is not None else [],
        "draft": bool(state is not None and state.draft),
        "root_key": state.root_key if state is not None else None,
        "allow_unsigned": allow_unsigned,
        "note": policy.note(),
    }
    failures: list[str] = []
    if not signed and not allow_unsigned:
        failures.append(FAILURE_UNSIGNED.format(note=policy.note()))
    if state is not None and state.draft:
        failures.append(FAILURE_DRAFT.format(reason=state.draft_reason))
    return data, failures


def trust_line(data: Mapping[str, Any]) -> str:
    """The gate's one line on trust: signed or not, the configuration, unapproved changes."""
    if data["signed"]:
        signed = (
            f"signed (keys {', '.join(data['keys']) or 'none'}; "
            f"{data['unsigned_records']} unsigned records)"
        )
    elif data["unsigned_records"] and data["keys"]:
        signed = (
            f"UNSIGNED RECORDS (keys {', '.join(data['keys'])}; "
            f"{data['unsigned_records']} unsigned records)"
        )
    else:
        signed = "UNSIGNED" + (" (allowed by --allow-unsigned)" if data["allow_unsigned"] else "")
    approved = data["approved_configuration"]
    configuration = (
        f"configuration approved #{approved['sequence']} by {approved['by']} "
        f"(root key {data['root_key']})"
        if approved
        else "configuration NOT APPROVED (draft)"
    )
    changes = data["unapproved_changes"]
    unapproved = "no unapproved changes"
    if changes:
        listed = unapproved_line(changes).split(": ", 1)[1]
        unapproved = f"unapproved changes ({len(changes)}): {listed}"
    return f"trust: {signed}; {configuration}; {unapproved}"


def default_approver() -> str:
    """The person running the gate: ``$USER`` (or the login name)."""
    name = os.environ.get("USER") or os.environ.get("LOGNAME")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def deployment_record(
    result: GateResult,
    *,
    model_name: str | None,
    model_version: str | None,
    run_id: str | None,
    alias: str,
    action: Action,
    approver: str | None,
    trigger: str,
    config_digest: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> EvidenceRecord:
    """The ``deployment`` record of a promotion attempt: outcome ``pass`` when the gate passed."""
    gate = result.to_dict()
    failures = [f[:MAX_FAILURE_CHARS] for f in result.failures]
    gate["failures"] = failures[:MAX_FAILURES_IN_RECORD]
    gate["failures_total"] = len(failures)
    gate.pop("checked")
    gate["checked_count"] = len(result.checked)
    details: dict[str, Any] = {
        "alias": alias,
        "action": action,
        "approver": approver,
        "trigger": trigger,
        "gate": gate,
    }
    details.update(extra or {})
    return catalog_record(
        kind=DEPLOYMENT_KIND,
        system=result.system,
        outcome="pass" if result.passed else "fail",
        collector=COLLECTOR,
        subject=Subject(run_id=run_id, model_name=model_name, model_version=model_version),
        metrics={"gate_score": result.score, "gate_failures": float(len(result.failures))},
        details=details,
        config_digest=config_digest,
    )
