"""Pydantic models of ``aims.yaml``: the shape, per-object rules and cross-field rules.

Rules that concern one object (a threshold, a risk, a SoA decision) live in that model's validator
and name the offending field through the error context (``ctx["field"]``). Rules that relate objects
to each other (unknown references, duplicates, catalog ids) live in :func:`cross_field_problems`,
which works on the raw mapping so that the loader can report them together with shape errors.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from aims_mlops._errors import ConfigError
from aims_mlops.catalog import load_catalog

# --------------------------------------------------------------------------- error texts
ERROR_UNKNOWN_SYSTEM = "unknown system {system!r}; known systems: {known}"
ERROR_NO_SYSTEMS = "unknown system {system!r}; aims.yaml declares no systems"
ERROR_INT_RANGE = "must be an integer from {low} to {high}; got {got}"
ERROR_NUMBER_RANGE = "must be a number {bounds}; got {got}"
ERROR_BLANK = "must not be blank"
ERROR_SLUG = (
    "{got} is not a valid id; use lowercase letters, digits, '-' and '_', "
    "starting with a letter or digit"
)
ERROR_VERSION = "unsupported version {got}; this release of aims_mlops reads version 1"
ERROR_LEVEL_LABELS = "must give a label for each level 1, 2, 3, 4, 5; got levels {got}"
ERROR_EXPECTATION_TYPE = (
    "{got} is not a Great Expectations expectation type; "
    "use a name that starts with 'expect_', e.g. expect_column_values_to_not_be_null"
)
ERROR_THRESHOLD_EMPTY = "a threshold needs 'min', 'max' or both"
ERROR_THRESHOLD_ORDER = "min ({low:g}) is greater than max ({high:g})"
ERROR_BANDS = "must be 4 ascending numbers, e.g. [0.02, 0.05, 0.1, 0.2]; got {got}"
ERROR_BANDS_DESCENDING = (
    "must be 4 descending numbers when direction is lower_is_worse, "
    "e.g. [0.9, 0.85, 0.8, 0.75]; got {got}"
)
ERROR_SCOPE_REASON = "required when in_scope is false: say why the system is out of the AIMS scope"
ERROR_PLACEHOLDER_REASON = (
    "{got!r} gives no reason an auditor can check: say in words why (at least "
    "{minimum} characters, not a placeholder such as n/a, none, tbd or -)"
)
#: Texts that fill a required reason without giving one.
PLACEHOLDER_REASONS: frozenset[str] = frozenset(
    {
        "n/a",
        "na",
        "n.a.",
        "none",
        "-",
        "--",
        "tbd",
        "todo",
        "x",
        "...",
        "not applicable",
        "no",
        "yes",
        "ok",
        "nil",
        "null",
        "test",
        "reason",
        "justification",
    }
)
#: The shortest reason accepted for an exclusion or an out-of-scope system.
MIN_REASON_CHARS = 12
ERROR_FAIRNESS_WITHOUT_FEATURES = (
    "fairness thresholds are declared but sensitive_features is empty; "
    "name the sensitive features (e.g. [sex, race])"
)
ERROR_MITIGATE_NO_CONTROLS = (
    "treatment 'mitigate' needs at least one treating control (catalog id, e.g. A.7.4)"
)
ERROR_RESIDUAL_ABOVE_INHERENT = (
    "residual {part} ({residual}) is greater than the inherent {part} ({inherent}); "
    "treatment cannot make a risk worse"
)
ERROR_EXCLUSION_JUSTIFICATION = (
    "excluding a control (applicable: false) requires a non-blank justification"
)
ERROR_SOA_EMPTY_SYSTEMS = (
    "must name at least one system; omit 'systems' for a decision that covers every system"
)
ERROR_ACCEPTANCE_TREATMENT = (
    "an acceptance is recorded only for a risk whose treatment is accept (this one is {treatment})"
)
ERROR_ACCEPTANCE_DATES = "until ({until}) is before the acceptance date on ({on})"
ERROR_TREATING_CLAUSE = (
    "{control} is a clause: a risk is treated by Annex A controls (clauses are judged from them)"
)
ERROR_TREATING_EXCLUDED = (
    "{control} treats risk {risk} but soa[{index}] excludes it{scope}: a control excluded in the "
    "Statement of Applicability cannot treat a risk"
)
ERROR_NOT_EXCLUDABLE = "{control} cannot be excluded: {reason}"
ERROR_MONITORING_EXCLUDED = (
    "{control} (monitoring) is excluded{scope} while systems[{system_index}].monitoring declares "
    "monitoring thresholds for {system}: drop the exclusion or the monitoring declaration"
)
ERROR_ORG_CONTROL_PER_SYSTEM = (
    "{control} is an organization-level control: it applies to the whole AIMS, so it is decided "
    "for every system (drop 'systems')"
)
ERROR_REVIEW_SYSTEM = "risk review for unknown system {system!r}; {known}"
ERROR_DUPLICATE_SYSTEM = "duplicate system id {id!r} (first declared at systems[{first}])"
ERROR_DUPLICATE_RISK = "duplicate risk id {id!r} (first declared at risks[{first}])"
ERROR_RISK_SYSTEM = "risk names unknown system {system!r}; {known}"
ERROR_ASSESSMENT_SYSTEM = "impact assessment for unknown system {system!r}; {known}"
ERROR_SOA_SYSTEM = "SoA decision names unknown system {system!r}; {known}"
ERROR_AUDIT_SCOPE_ITEM = (
    "audit programme scope names {item!r}, neither a declared system nor a catalog entry or "
    "group{hint}; {known}"
)
ERROR_UNKNOWN_CONTROL = "{control!r} is not a clause or control id of the catalog{hint}"
ERROR_UNKNOWN_APPROVER_KEY = (
    "{key!r} covers no entry of the catalog (an approvers key is an entry or a group){hint}"
)
ERROR_CLAUSE_EXCLUDED = (
    "{control!r} is a management-system clause; clauses are mandatory and cannot be excluded"
)
ERROR_DUPLICATE_DECISION = (
    "control {control!r} is decided twice for {scope} (first at soa[{first}])"
)
ERROR_SUPPLIER_EXCLUDED = (
    "{control!r} cannot be excluded: system {system!r} uses an external foundation model "
    "({provider} {model}); its supplier must be managed (declare applicable: true)"
)
ERROR_INCIDENT_REPORTING_EXCLUDED = (
    "{control!r} cannot be excluded: system {system!r} is a high-risk AI system the organization "
    "provides, and EU AI Act Art. 73 binds it to report serious incidents externally (declare "
    "applicable: true)"
)
ERROR_FOUNDATION_MODEL_VERSION = (
    "name the model's version or snapshot_date: an unpinned external model cannot be traced to "
    "what was evaluated"
)
ERROR_EU_PROHIBITED_IN_SCOPE = (
    "a prohibited AI practice (EU AI Act Art. 5) cannot be placed on the market or used; "
    "take the system out of scope (in_scope: false, with a scope_reason) or reclassify it"
)
ERROR_EU_HIGH_WITHOUT_BASIS = (
    'a high-risk system needs its basis: annex_iii (the Annex III point, e.g. "5(b)") or '
    'annex_i (the Annex I product legislation, e.g. "Regulation (EU) 2017/745")'
)
ERROR_EU_ANNEX_III_NOT_HIGH = (
    "annex_iii and annex_i name the basis of a high-risk classification; risk_class is {got}"
)
ERROR_EU_ANNEX_III_FORMAT = (
    "{got} is not an Annex III point; use its number 1-8 and, where it has one, its letter, "
    'e.g. "5(b)" or "4"'
)
ERROR_EU_SYSTEMIC_WITHOUT_GPAI = (
    "systemic risk is a property of a general-purpose AI model: set gpai: true"
)
ERROR_NOT_A_PERSON = (
    "{name!r} is not one of the people listed in people: ({known}); a name that acts in the "
    "AIMS must be a listed person (or, in approvers and auditors, a role)"
)
ERROR_DUPLICATE_PERSON = "duplicate person {name!r} (first listed at people[{first}])"
ERROR_DUPLICATE_BINDING = (
    "MLflow {what} {name!r} is already bound to system {other!r}; "
    "each experiment and registered model maps to one system"
)

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

DEFAULT_LIKELIHOOD_LABELS: dict[int, str] = {
    1: "Rare",
    2: "Unlikely",
    3: "Possible",
    4: "Likely",
    5: "Almost certain",
}
DEFAULT_IMPACT_LABELS: dict[int, str] = {
    1: "Negligible",
    2: "Minor",
    3: "Moderate",
    4: "Major",
    5: "Severe",
}

LifecycleStage = Literal[
    "design", "development", "validation", "deployment", "operation", "retired"
]
RiskCategory = Literal[
    "bias",
    "privacy",
    "safety",
    "security",
    "misuse",
    "transparency",
    "robustness",
    "accountability",
    "other",
]
Treatment = Literal["mitigate", "accept", "transfer", "avoid"]
Reassess = Literal["new_version", "interval"]
#: lifecycle stages in which a new production version makes reassessment due by default
LIVE_STAGES: frozenset[str] = frozenset({"deployment", "operation"})
#: the stages in which a new model version makes the impact assessment and risk review due: from
#: validation on (a validated version is the one about to be released)
TRIGGER_STAGES: frozenset[str] = frozenset({"validation", "deployment", "operation"})
EuAiActRole = Literal["provider", "deployer", "importer", "distributor"]
EuAiActRiskClass = Literal["prohibited", "high", "limited", "minimal"]
ANNEX_III_PATTERN = re.compile(r"^[1-8](\([a-e]\))?$")
IndicatorKind = Literal["fairness", "performance", "monitoring", "data_quality"]
IndicatorDirection = Literal["higher_is_worse", "lower_is_worse"]


# --------------------------------------------------------------------------- value helpers
def describe(value: Any) -> str:
    """Describe a YAML value for an error message (``'abc'``, ``7``, ``a list``, ``null``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def _field_error(field: str, message: str) -> PydanticCustomError:
    """An error about ``field`` of the model being validated (the loader extends the location)."""
    return PydanticCustomError(
        "aims_field", "{field}: {message}", {"field": field, "message": message}
    )


def _value_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("aims_value", "{message}", {"message": message})


def _int_range(low: int, high: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise _value_error(ERROR_INT_RANGE.format(low=low, high=high, got=value))
        return value

    return check


def _not_blank(value: str) -> str:
    if not value.strip():
        raise _value_error(ERROR_BLANK)
    return value


def _slug(value: str) -> str:
    if not SLUG_PATTERN.match(value):
        raise _value_error(ERROR_SLUG.format(got=describe(value)))
    return value


def _positive(value: float) -> float:
    if not value > 0:
        raise _value_error(ERROR_NUMBER_RANGE.format(bounds="greater than 0", got=f"{value:g}"))
    return value


def _probability(value: float) -> float:
    if not 0 < value < 1:
        raise _value_error(
            ERROR_NUMBER_RANGE.format(bounds="between 0 and 1 (exclusive)", got=f"{value:g}")
        )
    return value


Level = Annotated[StrictInt, AfterValidator(_int_range(1, 5))]
"""A likelihood, impact or severity level, 1..5."""
Text = Annotated[StrictStr, AfterValidator(_not_blank)]
"""A non-blank string."""
Slug = Annotated[StrictStr, AfterValidator(_slug)]
"""A system id: ``[a-z0-9][a-z0-9_-]*``."""
Number = StrictFloat
NonNegativeNumber = Annotated[StrictFloat, Field(ge=0)]
"""A number >= 0 (an effort in person-days)."""


def _control_id(value: Any) -> Any:
    # unquoted clause ids such as 6.1 are YAML numbers; take them as written
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _level_key(value: Any) -> Any:
    # JSON turns the integer keys of the level maps into strings; accept them back
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


LevelKey = Annotated[StrictInt, BeforeValidator(_level_key)]
"""A key of the likelihood / impact label maps (an integer; ``"3"`` is read as 3)."""


def _none_as_empty(value: Any) -> Any:
    # "risks:" with every entry commented out is null in YAML: read it as empty
    return () if value is None else value


def _none_as_empty_mapping(value: Any) -> Any:
    return {} if value is None else value


def _date_input(value: Any) -> Any:
    # pydantic would read a bare number as a Unix timestamp; a date must be written as a date
    if isinstance(value, int | float):
        raise PydanticCustomError(
            "date_type", "must be a date (YYYY-MM-DD); got {got}", {"got": describe(value)}
        )
    return value


AssessmentDate = Annotated[dt.date, BeforeValidator(_date_input)]
"""A calendar date written ``YYYY-MM-DD``."""

ControlId = Annotated[Text, BeforeValidator(_control_id)]
"""A clause or control id of the catalog (``A.5.4``, ``6.1``)."""
ModelVersion = Annotated[Text, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]
"""A registered model version (``3`` or ``"3"``)."""
"""A YAML number (an integer is accepted, a boolean is not)."""


def _is_a_reason(text: str | None) -> bool:
    """Whether ``text`` gives a reason: not a placeholder, and long enough to say something."""
    cleaned = " ".join((text or "").split())
    return cleaned.lower() not in PLACEHOLDER_REASONS and len(cleaned) >= MIN_REASON_CHARS


def _placeholder_error(text: str | None) -> str:
    return ERROR_PLACEHOLDER_REASON.format(
        got=" ".join((text or "").split()), minimum=MIN_REASON_CHARS
    )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- organization-level
class Organization(_Model):
    """The organization running the AIMS."""

    name: Text
    aims_scope: Text | None = None
    policy_owner: Text | None = None


class RiskCriteria(_Model):
    """Risk criteria: labels of the 1..5 likelihood and impact levels and the risk appetite."""

    likelihood: dict[LevelKey, Text] = Field(
        default_factory=lambda: dict(DEFAULT_LIKELIHOOD_LABELS)
    )
    impact: dict[LevelKey, Text] = Field(default_factory=lambda: dict(DEFAULT_IMPACT_LABELS))
    appetite: Annotated[StrictInt, AfterValidator(_int_range(1, 25))] = 6

    @field_validator("likelihood", "impact")
    @classmethod
    def _five_levels(cls, value: dict[int, str]) -> dict[int, str]:
        if sorted(value) != [1, 2, 3, 4, 5]:
            raise _value_error(ERROR_LEVEL_LABELS.format(got=sorted(value)))
        return dict(sorted(value.items()))

    def accepts(self, score: int) -> bool:
        """Whether a likelihood x impact score is within the risk appetite."""
        return score <= self.appetite


class StoreSettings(_Model):
    """Where evidence is stored (MLflow is the system of record)."""

    tracking_uri: Text | None = None
    evidence_experiment: Text = "aims-evidence"
    spool_dir: Text = ".aims/spool"


class TrustSettings(_Model):
    """Whose evidence counts: the Ed25519 public key files (relative to aims.yaml or absolute)
    whose signatures are trusted (the pipeline's), and whether every record must carry one
    (default: true once keys are listed). ``unsigned: true`` is the explicit opt-out: every
    output says the evidence is unsigned and the gate fails unless ``--allow-unsigned``."""

    public_keys: tuple[Text, ...] = ()
    require_signatures: StrictBool | None = None
    unsigned: StrictBool = False

    _empty_list = field_validator("public_keys", mode="before")(_none_as_empty)

    @property
    def requires_signatures(self) -> bool:
        """True when keys are listed and signatures are not explicitly made optional."""
        return bool(self.public_keys) and self.require_signatures is not False


class CaptureSettings(_Model):
    """How evidence capture behaves."""

    strict: StrictBool = False
    include_values: StrictBool = False
    #: a sensitive feature or monitored column with more distinct values looks like an identifier
    max_categories: int = Field(default=50, ge=1, strict=True)
    #: the smallest document an attestation may name, in bytes (an empty or token file is refused)
    min_document_bytes: int = Field(default=100, ge=1, strict=True)
    #: a fairness measurement that proves nothing (a ratio 0/0, a group never selected): fail
    #: the record with the reason, or only warn
    fairness_undefined: Literal["fail", "warn"] = "fail"
    #: a fairness group with fewer rows is stored under a hashed label (``sha256:<12 hex>``):
    #: a value held by a handful of rows may identify them
    min_group_size: int = Field(default=10, ge=1, strict=True)


class DocumentSettings(_Model):
    """Where attested documents may be read besides the folder of aims.yaml: ``roots``, folders
    relative to aims.yaml or absolute. A record naming a document elsewhere is a finding; its
    file is never read."""

    roots: tuple[Text, ...] = ()

    _empty_list = field_validator("roots", mode="before")(_none_as_empty)


# --------------------------------------------------------------------------- people
#: the role of those who direct the organization: approve the AI policy, the configuration's
#: changes and risk acceptance above the appetite, chair the management review
ROLE_TOP_MANAGEMENT = "top_management"
#: the role of those who may perform internal audits (9.2)
ROLE_INTERNAL_AUDITOR = "internal_auditor"
KNOWN_ROLES = (ROLE_TOP_MANAGEMENT, ROLE_INTERNAL_AUDITOR)


class Person(_Model):
    """A person who acts in the AIMS: their name (as used in ``owner``, ``by``, ``approvers``,
    ``acceptance.by``), their roles and the public key files (Ed25519, raw or OpenSSH, relative to
    aims.yaml or absolute) with which their own acts are signed."""

    name: Text
    roles: tuple[Text, ...] = ()
    public_keys: tuple[Text, ...] = ()

    _empty_lists = field_validator("roles", "public_keys", mode="before")(_none_as_empty)

    def has_role(self, role: str) -> bool:
        """Whether this person holds ``role``."""
        return role in self.roles


# --------------------------------------------------------------------------- systems
class MlflowBinding(_Model):
    """The MLflow experiment and registered model that belong to a system."""

    experiment: Text | None = None
    registered_model: Text | None = None
    alias: Text = "champion"


class Expectation(_Model):
    """One Great Expectations 1.x expectation: its snake_case type and keyword arguments."""

    type: StrictStr
    kwargs: dict[StrictStr, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _expectation_type(cls, value: str) -> str:
        if not value.startswith("expect_") or not value.replace("_", "").isalnum():
            raise _value_error(ERROR_EXPECTATION_TYPE.format(got=describe(value)))
        return value


class DataQuality(_Model):
    """Data-quality requirements of a system's training and scoring data."""

    expectations: tuple[Expectation, ...] = ()


class Threshold(_Model):
    """An inclusive bound on a metric: ``{min: x}``, ``{max: y}`` or both."""

    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Threshold:
        if self.min is None and self.max is None:
            raise _value_error(ERROR_THRESHOLD_EMPTY)
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _field_error("min", ERROR_THRESHOLD_ORDER.format(low=self.min, high=self.max))
        return self

    def as_bound(self) -> dict[str, float | None]:
        """``{"min": .., "max": ..}`` as :func:`judge_thresholds` expects."""
        return {"min": self.min, "max": self.max}


class MonitoringSettings(_Model):
    """Production monitoring: how often, and the drift limits."""

    interval_days: Annotated[StrictInt, AfterValidator(_int_range(1, 3650))] = 7
    psi_max: Annotated[Number, AfterValidator(_positive)] = 0.2
    ks_pvalue_min: Annotated[Number, AfterValidator(_probability)] = 0.01
    chi2_pvalue_min: Annotated[Number, AfterValidator(_probability)] = 0.01
    #: share of expected monitoring intervals that must have run over ``coverage_days``
    #: (None: coverage is reported, not enforced)
    min_coverage: Annotated[Number, AfterValidator(_probability)] | None = None
    coverage_days: Annotated[StrictInt, AfterValidator(_int_range(1, 3650))] = 90


class AuditProgramme(_Model):
    """The internal audit programme (clause 9.2.2): how often, over what, and by whom."""

    interval_days: Annotated[StrictInt, AfterValidator(_int_range(1, 3650))] = 365
    #: systems, catalog entries or groups each audit cycle must cover (empty: every in-scope
    #: system)
    scope: tuple[ControlId, ...] = ()
    #: who may audit (empty: anyone independent of what is audited)
    auditors: tuple[Text, ...] = ()


class ManagementReviewSettings(_Model):
    """How often top management reviews the AIMS (clause 9.3)."""

    interval_days: Annotated[StrictInt, AfterValidator(_int_range(1, 3650))] = 365


class GateSettings(_Model):
    """What the gate requires of a system (default: the verification controls its thresholds
    declare)."""

    require: tuple[ControlId, ...] = ()
    min_score: Annotated[Number, AfterValidator(_probability)] | None = None


class FoundationModel(_Model):
    """The foundation model a GenAI system is built on: who supplies it and which version."""

    provider: Text
    model: Text
    version: Text | None = None
    snapshot_date: AssessmentDate | None = None
    #: False for a model the organization trains and runs itself (no external supplier).
    external: StrictBool = True

    @model_validator(mode="after")
    def _pinned(self) -> FoundationModel:
        if self.external and self.version is None and self.snapshot_date is None:
            raise _field_error("version", ERROR_FOUNDATION_MODEL_VERSION)
        return self


class TraceSettings(_Model):
    """How a GenAI system's request traces (inference event logs) are kept and judged."""

    retention_days: Annotated[StrictInt, AfterValidator(_int_range(1, 36500))] | None = None
    thresholds: dict[StrictStr, Threshold] = Field(default_factory=dict)

    _empty_maps = field_validator("thresholds", mode="before")(_none_as_empty_mapping)


class GenAISettings(_Model):
    """A GenAI (LLM) system: its foundation model, evaluation thresholds and trace keeping.

    ``thresholds`` is shaped like ``fairness``: ``{injection_success_rate: {max: 0}, ...}``.
    """

    foundation_model: FoundationModel | None = None
    input_key: Text | None = None
    thresholds: dict[StrictStr, Threshold] = Field(default_factory=dict)
    traces: TraceSettings = Field(default_factory=TraceSettings)

    _empty_maps = field_validator("thresholds", mode="before")(_none_as_empty_mapping)

    def bounds(self) -> dict[str, dict[str, float]]:
        """The evaluation thresholds as plain ``{"min"/"max": x}`` dicts."""
        return {
            m: {k: v for k, v in t.as_bound().items() if v is not None}
            for m, t in self.thresholds.items()
        }


class EuAiAct(_Model):
    """A system's classification under the EU AI Act (Regulation (EU) 2024/1689).

    ``role``: the organization's role for this system; ``risk_class``: prohibited (Art. 5), high
    (Art. 6: Annex III point ``annex_iii`` or an Annex I product ``annex_i``), limited (the
    transparency duties of Art. 50) or minimal; ``gpai``: the system is or builds on a
    general-purpose AI model the organization provides (Art. 53).
    """

    role: EuAiActRole
    risk_class: EuAiActRiskClass
    annex_iii: Text | None = None
    annex_i: Text | None = None
    gpai: StrictBool = False
    gpai_systemic_risk: StrictBool = False

    @field_validator("annex_iii", mode="before")
    @classmethod
    def _annex_iii_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("annex_iii")
    @classmethod
    def _annex_iii_point(cls, value: str | None) -> str | None:
        if value is not None and not ANNEX_III_PATTERN.match(value.strip()):
            raise _value_error(ERROR_EU_ANNEX_III_FORMAT.format(got=describe(value)))
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _rules(self) -> EuAiAct:
        if self.risk_class == "high" and self.annex_iii is None and self.annex_i is None:
            raise _field_error("annex_iii", ERROR_EU_HIGH_WITHOUT_BASIS)
        if self.risk_class != "high":
            for name in ("annex_iii", "annex_i"):
                if getattr(self, name) is not None:
                    raise _field_error(
                        name, ERROR_EU_ANNEX_III_NOT_HIGH.format(got=describe(self.risk_class))
                    )
        if self.gpai_systemic_risk and not self.gpai:
            raise _field_error("gpai_systemic_risk", ERROR_EU_SYSTEMIC_WITHOUT_GPAI)
        return self

    @property
    def high_risk(self) -> bool:
        return self.risk_class == "high"


class SystemConfig(_Model):
    """One AI system: what it is for, who owns it, where it lives in MLflow, its requirements."""

    id: Slug
    name: Text | None = None
    owner: Text | None = None
    intended_use: Text | None = None
    lifecycle_stage: LifecycleStage = "development"
    in_scope: StrictBool = True
    scope_reason: Text | None = None
    mlflow: MlflowBinding = Field(default_factory=MlflowBinding)
    sensitive_features: tuple[Text, ...] = ()
    data_quality: DataQuality | None = None
    fairness: dict[StrictStr, Threshold] = Field(default_factory=dict)
    performance: dict[StrictStr, Threshold] = Field(default_factory=dict)
    monitoring: MonitoringSettings | None = None
    genai: GenAISettings | None = None
    eu_ai_act: EuAiAct | None = None
    reassess_on: Reassess | None = None
    gate: GateSettings | None = None

    _empty_list = field_validator("sensitive_features", mode="before")(_none_as_empty)
    _empty_maps = field_validator("fairness", "performance", mode="before")(_none_as_empty_mapping)

    @model_validator(mode="after")
    def _rules(self) -> SystemConfig:
        if not self.in_scope and self.scope_reason is None:
            raise _field_error("scope_reason", ERROR_SCOPE_REASON)
        if not self.in_scope and not _is_a_reason(self.scope_reason):
            raise _field_error("scope_reason", _placeholder_error(self.scope_reason))
        if self.fairness and not self.sensitive_features:
            raise _field_error("sensitive_features", ERROR_FAIRNESS_WITHOUT_FEATURES)
        eu = self.eu_ai_act
        if self.in_scope and eu is not None and eu.risk_class == "prohibited":
            raise _field_error("eu_ai_act.risk_class", ERROR_EU_PROHIBITED_IN_SCOPE)
        return self

    @property
    def label(self) -> str:
        """The display name (``name``, else the id)."""
        return self.name or self.id

    @property
    def reassess_on_new_version(self) -> bool:
        """Whether a new production version makes the impact assessment and the risk review due
        (``reassess_on``; default: yes from validation on)."""
        if self.reassess_on is not None:
            return self.reassess_on == "new_version"
        return self.lifecycle_stage in TRIGGER_STAGES

    def fairness_bounds(self) -> dict[str, dict[str, float | None]]:
        return {metric: t.as_bound() for metric, t in self.fairness.items()}


# --------------------------------------------------------------------------- risks
class ResidualRisk(_Model):
    """Likelihood and impact expected after treatment."""

    likelihood: Level
    impact: Level

    @property
    def score(self) -> int:
        return self.likelihood * self.impact


class RiskIndicator(_Model):
    """A measured metric that sets a risk's likelihood from evidence.

    ``higher_is_worse`` (the default; a disparity, a drift score): ``value <= bands[0]`` is
    likelihood 1, ``<= bands[1]`` 2, ``<= bands[2]`` 3, ``<= bands[3]`` 4, above ``bands[3]`` 5,
    with ascending bands. ``lower_is_worse`` (accuracy, a success rate): descending bands,
    ``value >= bands[0]`` is 1 … below ``bands[3]`` 5.
    """

    kind: IndicatorKind
    metric: Text
    direction: IndicatorDirection = "higher_is_worse"  # before bands: their check reads it
    bands: tuple[Number, ...]

    @field_validator("bands")
    @classmethod
    def _ordered(cls, value: tuple[float, ...], info: ValidationInfo) -> tuple[float, ...]:
        direction = info.data.get("direction")  # absent when its own check failed
        if direction is None:
            return value  # the direction's error says what to fix; their order depends on it
        if direction == "lower_is_worse":
            if len(value) != 4 or any(a <= b for a, b in pairwise(value)):
                raise _value_error(ERROR_BANDS_DESCENDING.format(got=list(value)))
        elif len(value) != 4 or any(a >= b for a, b in pairwise(value)):
            raise _value_error(ERROR_BANDS.format(got=list(value)))
        return value

    def likelihood_for(self, value: float) -> int:
        """The likelihood level (1..5) a measured value falls in."""
        lower_is_worse = self.direction == "lower_is_worse"
        for level, bound in enumerate(self.bands, start=1):
            if (value >= bound) if lower_is_worse else (value <= bound):
                return level
        return 5


class Acceptance(_Model):
    """Who approved keeping a risk above the appetite, when, and until when."""

    by: Text
    on: AssessmentDate
    until: AssessmentDate | None = None
    document: Text | None = None

    @model_validator(mode="after")
    def _dates(self) -> Acceptance:
        if self.until is not None and self.until < self.on:
            raise _field_error("until", ERROR_ACCEPTANCE_DATES.format(until=self.until, on=self.on))
        return self


class Risk(_Model):
    """One entry of the risk register."""

    id: Text
    system: Slug | None = None
    category: RiskCategory
    description: Text
    likelihood: Level
    impact: Level
    treatment: Treatment
    controls: tuple[ControlId, ...] = ()
    owner: Text | None = None
    residual: ResidualRisk | None = None
    indicator: RiskIndicator | None = None
    acceptance: Acceptance | None = None

    @model_validator(mode="after")
    def _rules(self) -> Risk:
        if self.treatment == "mitigate" and not self.controls:
            raise _field_error("controls", ERROR_MITIGATE_NO_CONTROLS)
        if self.acceptance is not None and self.treatment != "accept":
            raise _field_error(
                "acceptance", ERROR_ACCEPTANCE_TREATMENT.format(treatment=self.treatment)
            )
        if self.residual is not None:
            for part in ("likelihood", "impact"):
                residual, inherent = getattr(self.residual, part), getattr(self, part)
                if residual > inherent:
                    raise _field_error(
                        f"residual.{part}",
                        ERROR_RESIDUAL_ABOVE_INHERENT.format(
                            part=part, residual=residual, inherent=inherent
                        ),
                    )
        return self

    @property
    def score(self) -> int:
        """Inherent score: likelihood x impact."""
        return self.likelihood * self.impact

    @property
    def residual_score(self) -> int:
        """Score after treatment (the inherent score when no residual is declared)."""
        return self.residual.score if self.residual is not None else self.score


# --------------------------------------------------------------------------- impact and SoA
class ImpactAssessment(_Model):
    """An AI system impact assessment (who is affected, how, and what is done about it)."""

    system: Slug
    affected: tuple[Text, ...] = ()
    harms: tuple[Text, ...] = ()
    benefits: tuple[Text, ...] = ()
    societal_impacts: tuple[Text, ...] = ()
    severity: Level
    mitigations: tuple[Text, ...] = ()
    assessed_by: Text
    assessed_on: AssessmentDate
    #: the registered model version assessed (a new production version makes it due again)
    model_version: ModelVersion | None = None


class RiskReview(_Model):
    """A review of a system's risks: who, when, and for which model version."""

    system: Slug
    reviewed_by: Text
    reviewed_on: AssessmentDate
    model_version: ModelVersion | None = None


class SoaDecision(_Model):
    """One Statement of Applicability decision: is a control applicable, and why."""

    control: ControlId
    applicable: StrictBool
    justification: StrictStr | None = None
    systems: tuple[Slug, ...] | None = None

    @model_validator(mode="after")
    def _rules(self) -> SoaDecision:
        if not self.applicable and (self.justification is None or not self.justification.strip()):
            raise _field_error("justification", ERROR_EXCLUSION_JUSTIFICATION)
        if not self.applicable and not _is_a_reason(self.justification):
            raise _field_error("justification", _placeholder_error(self.justification))
        if self.systems is not None and not self.systems:
            raise _field_error("systems", ERROR_SOA_EMPTY_SYSTEMS)
        return self

    def covers(self, system_id: str | None) -> bool:
        """Whether this decision speaks for ``system_id`` (``None``: organization level)."""
        return self.systems is None or system_id in self.systems


# --------------------------------------------------------------------------- pilot and lifecycle
ERROR_PILOT_UNKNOWN = "names {system!r}, which is not a system of this file (known: {known})"
ERROR_PILOT_OUT_OF_SCOPE = "names {system!r}, which is out of the AIMS scope: a pilot is in scope"


class ScopeSettings(_Model):
    """How far the AIMS reaches for now: ``pilot`` limits readiness (and every view of it) to
    these in-scope systems; empty: every in-scope system."""

    pilot: tuple[Slug, ...] = ()

    _empty_lists = field_validator("pilot", mode="before")(_none_as_empty)


class LifecycleSettings(_Model):
    """The organization's own effort estimates (person-days per catalog entry), overriding the
    catalog's ``lifecycle.yaml``."""

    effort_days: dict[ControlId, NonNegativeNumber] = Field(default_factory=dict)

    _empty = field_validator("effort_days", mode="before")(_none_as_empty_mapping)


# --------------------------------------------------------------------------- the whole file
class AimsConfig(_Model):
    """The whole ``aims.yaml``."""

    version: StrictInt
    organization: Organization
    risk_criteria: RiskCriteria = Field(default_factory=RiskCriteria)
    store: StoreSettings = Field(default_factory=StoreSettings)
    capture: CaptureSettings = Field(default_factory=CaptureSettings)
    trust: TrustSettings = Field(default_factory=TrustSettings)
    documents: DocumentSettings = Field(default_factory=DocumentSettings)
    #: the people who act in the AIMS, with their roles and public keys
    people: tuple[Person, ...] = ()
    systems: tuple[SystemConfig, ...] = ()
    risks: tuple[Risk, ...] = ()
    impact_assessments: tuple[ImpactAssessment, ...] = ()
    risk_reviews: tuple[RiskReview, ...] = ()
    soa: tuple[SoaDecision, ...] = ()
    audit_programme: AuditProgramme | None = None
    management_review: ManagementReviewSettings | None = None
    #: catalog entry or group (``A.2``, ``9.3.1``) -> the people or roles who may attest or
    #: approve it (the most specific key wins; an entry no key covers: anyone)
    approvers: dict[ControlId, tuple[Text, ...]] = Field(default_factory=dict)
    #: a pilot scope (``scope.pilot``): readiness limited to these systems, said everywhere
    scope: ScopeSettings = Field(default_factory=ScopeSettings)
    #: effort estimates overriding the catalog's lifecycle
    lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings)

    _empty_approvers = field_validator("approvers", mode="before")(_none_as_empty_mapping)

    _empty_lists = field_validator(
        "people", "systems", "risks", "impact_assessments", "risk_reviews", "soa", mode="before"
    )(_none_as_empty)

    @field_validator("version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != 1:
            raise _value_error(ERROR_VERSION.format(got=value))
        return value

    @model_validator(mode="after")
    def _cross_fields(self, info: ValidationInfo) -> AimsConfig:
        if info.context and info.context.get(CROSS_CHECKED_CONTEXT_KEY):
            return self  # the loader already ran the checks on the raw document (with lines)
        problems = cross_field_problems(self.model_dump(mode="python"))
        if problems:
            lines = [f"{format_loc(loc)}: {message}" for loc, message in problems]
            raise PydanticCustomError(
                "aims_cross_field",
                "{summary}",
                {"summary": "; ".join(lines), "problems": problems},
            )
        return self

    # ----- convenience
    def system(self, system_id: str) -> SystemConfig:
        """The system with id ``system_id``; :class:`ConfigError` listing known ids otherwise."""
        for system in self.systems:
            if system.id == system_id:
                return system
        if not self.systems:
            raise ConfigError([ERROR_NO_SYSTEMS.format(system=system_id)])
        known = ", ".join(s.id for s in self.systems)
        raise ConfigError([ERROR_UNKNOWN_SYSTEM.format(system=system_id, known=known)])

    @property
    def system_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.systems)

    @property
    def in_scope_systems(self) -> tuple[SystemConfig, ...]:
        """The systems inside the AIMS scope, in declaration order."""
        return tuple(s for s in self.systems if s.in_scope)

    @property
    def pilot(self) -> tuple[str, ...]:
        """The pilot's system ids (``scope.pilot``); empty when there is no pilot."""
        return self.scope.pilot

    @property
    def assessed_systems(self) -> tuple[SystemConfig, ...]:
        """What readiness covers: the pilot's systems when a pilot is declared, else every
        in-scope system."""
        if not self.scope.pilot:
            return self.in_scope_systems
        return tuple(s for s in self.in_scope_systems if s.id in self.scope.pilot)

    def system_for_experiment(self, name: str) -> str | None:
        """The id of the system bound to MLflow experiment ``name``, if any."""
        for system in self.systems:
            if system.mlflow.experiment == name:
                return system.id
        return None

    def system_for_model(self, registered_model: str) -> str | None:
        """The id of the system bound to a registered model name, if any."""
        for system in self.systems:
            if system.mlflow.registered_model == registered_model:
                return system.id
        return None

    def risks_for(self, system_id: str | None) -> tuple[Risk, ...]:
        """The risks of a system (``None``: the organization-level risks)."""
        return tuple(r for r in self.risks if r.system == system_id)

    def impact_assessment_for(self, system_id: str) -> ImpactAssessment | None:
        """The most recent impact assessment of a system, if any."""
        found = [a for a in self.impact_assessments if a.system == system_id]
        return max(found, key=lambda a: a.assessed_on) if found else None

    def risk_review_for(self, system_id: str) -> RiskReview | None:
        """The most recent risk review of a system, if any."""
        found = [r for r in self.risk_reviews if r.system == system_id]
        return max(found, key=lambda r: r.reviewed_on) if found else None

    def person(self, name: str) -> Person | None:
        """The person named ``name`` in ``people:``, if listed."""
        for person in self.people:
            if person.name == name:
                return person
        return None

    def people_with_role(self, role: str) -> tuple[Person, ...]:
        """The people who hold ``role``, in declaration order."""
        return tuple(p for p in self.people if p.has_role(role))

    def approvers_for(self, entry_id: str) -> tuple[str, ...] | None:
        """Who may attest or approve ``entry_id``: the ``approvers`` of the most specific key
        that is the entry or one of its groups (``A.6.2.6`` < ``A.6.2`` < ``A.6``); None when no
        key covers it (anyone may)."""
        for key in sorted(self.approvers, key=len, reverse=True):
            if entry_id == key or entry_id.startswith(f"{key}."):
                return self.approvers[key]
        return None

    def soa_decision(self, control_id: str, system_id: str | None = None) -> SoaDecision | None:
        """The SoA decision on a control for a system.

        A decision that names the system wins over one that covers every system. With
        ``system_id=None`` only decisions that cover every system count.
        """
        general: SoaDecision | None = None
        for decision in self.soa:
            if decision.control != control_id:
                continue
            if decision.systems is None:
                general = decision
            elif system_id is not None and system_id in decision.systems:
                return decision
        return general


# --------------------------------------------------------------------------- cross-field rules
CROSS_CHECKED_CONTEXT_KEY = "aims_cross_checked"

Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    """``("systems", 0, "owner")`` -> ``systems[0].owner``."""
    text = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _known(ids: list[str]) -> str:
    return f"declared systems: {', '.join(ids)}" if ids else "aims.yaml declares no systems"


def _items(data: Mapping[str, Any], key: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    value = data.get(key)
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                yield index, item


def _supplier_bound_controls(condition: str = "external_model_supplier") -> tuple[str, ...]:
    """Catalog entries the SoA may not exclude while ``condition`` holds for a system (default:
    an external model supplier)."""
    return tuple(e.id for e in load_catalog().entries if condition in e.not_excludable_when)


def _incident_reporters(data: Mapping[str, Any]) -> list[str]:
    """The in-scope systems the EU AI Act binds to report serious incidents (Art. 73): high-risk
    systems the organization provides."""
    found = []
    for _, system in _items(data, "systems"):
        eu = system.get("eu_ai_act")
        sid = system.get("id")
        if (
            isinstance(eu, Mapping)
            and isinstance(sid, str)
            and system.get("in_scope", True) is not False
            and eu.get("risk_class") == "high"
            and eu.get("role") == "provider"
        ):
            found.append(sid)
    return found


def _external_suppliers(data: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """``{system id: (provider, model)}`` of the systems whose foundation model is external."""
    found: dict[str, tuple[str, str]] = {}
    for _, system in _items(data, "systems"):
        genai = system.get("genai")
        model = genai.get("foundation_model") if isinstance(genai, Mapping) else None
        sid = system.get("id")
        external = isinstance(model, Mapping) and model.get("external") is not False
        if external and isinstance(sid, str) and isinstance(model, Mapping):
            found.setdefault(sid, (str(model.get("provider")), str(model.get("model"))))
    return found


def _control_checker() -> Callable[[str], tuple[bool, bool, str]]:
    """``check(id) -> (known, is_clause, hint)`` backed by the control catalog."""
    catalog = load_catalog()
    ids = [entry.id for entry in catalog.entries]

    def check(control: str) -> tuple[bool, bool, str]:
        if control in catalog:
            return True, catalog.get(control).kind == "clause", ""
        near = difflib.get_close_matches(control, ids, n=3, cutoff=0.6)
        return False, False, f"; did you mean {', '.join(near)}?" if near else ""

    return check


def cross_field_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Problems that relate parts of the document to each other, as ``(location, message)``.

    Works on the raw mapping (tolerating malformed parts, which the models report) so that the
    loader reports these together with shape errors.
    """
    problems: list[tuple[Loc, str]] = []
    check_control = _control_checker()

    system_ids: list[str] = []
    first_system: dict[str, int] = {}
    bindings: dict[tuple[str, str], str] = {}
    for index, system in _items(data, "systems"):
        sid = system.get("id")
        if not isinstance(sid, str):
            continue
        if sid in first_system:
            problems.append(
                (
                    ("systems", index, "id"),
                    ERROR_DUPLICATE_SYSTEM.format(id=sid, first=first_system[sid]),
                )
            )
            continue
        first_system[sid] = index
        system_ids.append(sid)
        mlflow = system.get("mlflow")
        if isinstance(mlflow, Mapping):
            for key, what in (
                ("experiment", "experiment"),
                ("registered_model", "registered model"),
            ):
                name = mlflow.get(key)
                if not isinstance(name, str):
                    continue
                other = bindings.setdefault((key, name), sid)
                if other != sid:
                    problems.append(
                        (
                            ("systems", index, "mlflow", key),
                            ERROR_DUPLICATE_BINDING.format(what=what, name=name, other=other),
                        )
                    )
    known = _known(system_ids)
    declared = set(system_ids)

    def check_controls(loc: Loc, control: Any, *, excluded: bool = False) -> None:
        control = _control_id(control)
        if not isinstance(control, str) or not control.strip():
            return
        ok, is_clause, hint = check_control(control)
        if not ok:
            problems.append((loc, ERROR_UNKNOWN_CONTROL.format(control=control, hint=hint)))
        elif excluded and is_clause:
            problems.append((loc, ERROR_CLAUSE_EXCLUDED.format(control=control)))

    first_risk: dict[str, int] = {}
    for index, risk in _items(data, "risks"):
        rid = risk.get("id")
        if isinstance(rid, str):
            if rid in first_risk:
                problems.append(
                    (
                        ("risks", index, "id"),
                        ERROR_DUPLICATE_RISK.format(id=rid, first=first_risk[rid]),
                    )
                )
            else:
                first_risk[rid] = index
        system = risk.get("system")
        if isinstance(system, str) and system not in declared:
            problems.append(
                (("risks", index, "system"), ERROR_RISK_SYSTEM.format(system=system, known=known))
            )
        controls = risk.get("controls")
        if isinstance(controls, list | tuple):
            for position, control in enumerate(controls):
                check_controls(("risks", index, "controls", position), control)

    for index, assessment in _items(data, "impact_assessments"):
        system = assessment.get("system")
        if isinstance(system, str) and system not in declared:
            problems.append(
                (
                    ("impact_assessments", index, "system"),
                    ERROR_ASSESSMENT_SYSTEM.format(system=system, known=known),
                )
            )

    suppliers = _external_suppliers(data)
    supplier_bound = _supplier_bound_controls() if suppliers else ()
    reporters = _incident_reporters(data)
    reporting_bound = _supplier_bound_controls("eu_ai_act_incident_reporting") if reporters else ()
    decided: dict[tuple[str, str | None], int] = {}
    for index, decision in _items(data, "soa"):
        control = _control_id(decision.get("control"))
        if decision.get("applicable") is False and control in reporting_bound:
            covered = decision.get("systems")
            targets = covered if isinstance(covered, list | tuple) else reporters
            for system in (t for t in targets if t in reporters):
                problems.append(
                    (
                        ("soa", index, "applicable"),
                        ERROR_INCIDENT_REPORTING_EXCLUDED.format(control=control, system=system),
                    )
                )
        if decision.get("applicable") is False and control in supplier_bound:
            covered = decision.get("systems")
            targets = covered if isinstance(covered, list | tuple) else list(suppliers)
            for system in targets:
                if system in suppliers:
                    provider, model = suppliers[system]
                    problems.append(
                        (
                            ("soa", index, "applicable"),
                            ERROR_SUPPLIER_EXCLUDED.format(
                                control=control, system=system, provider=provider, model=model
                            ),
                        )
                    )
        check_controls(
            ("soa", index, "control"), control, excluded=decision.get("applicable") is False
        )
        systems = decision.get("systems")
        scopes: list[str | None]
        if systems is None:
            scopes = [None]
        elif isinstance(systems, list | tuple):
            scopes = []
            for position, system in enumerate(systems):
                if not isinstance(system, str):
                    continue
                if system not in declared:
                    problems.append(
                        (
                            ("soa", index, "systems", position),
                            ERROR_SOA_SYSTEM.format(system=system, known=known),
                        )
                    )
                scopes.append(system)
        else:
            continue
        if not isinstance(control, str):
            continue
        for scope in scopes:
            first = decided.setdefault((control, scope), index)
            if first != index or (scope is not None and scopes.count(scope) > 1):
                where = "every system" if scope is None else f"system {scope!r}"
                problems.append(
                    (
                        ("soa", index, "control"),
                        ERROR_DUPLICATE_DECISION.format(control=control, scope=where, first=first),
                    )
                )
                break
    problems.extend(_approver_key_problems(data))
    problems.extend(_audit_scope_problems(data, system_ids))
    problems.extend(_consistency_problems(data, known=known, declared=declared))
    problems.extend(people_problems(data))
    problems.extend(_pilot_problems(data))
    return problems


def _person_names(text: str) -> set[str]:
    """The ways a name may be written: whole, or the part before ``(`` (``Jane Doe (CRO)``)."""
    whole = " ".join(text.split())
    return {whole, whole.split("(", 1)[0].strip()} - {""}


def named_person(config: AimsConfig, name: str) -> Person | None:
    """The listed person ``name`` designates (the whole text, or the part before ``(``)."""
    wanted = _person_names(name)
    for person in config.people:
        if wanted & _person_names(person.name):
            return person
    return None


def holds_role(config: AimsConfig, name: str, role: str) -> bool:
    """Whether ``name`` designates a listed person who holds ``role`` (pure: the one role check
    approvals, audits and reviews share)."""
    person = named_person(config, name)
    return person is not None and person.has_role(role)


def people_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """When ``people:`` is declared, every name that acts in the AIMS (the organization's
    ``policy_owner``, systems' and risks' ``owner``, ``acceptance.by``, ``approvers``, the audit
    programme's ``auditors``) must be a listed person (approvers and auditors may name a role),
    whether or not the people list public keys: a typed name nobody declared is never an
    owner or an approver."""
    listed: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    roles: set[str] = set(KNOWN_ROLES)
    for index, person in _items(data, "people"):
        name = person.get("name")
        if not isinstance(name, str) or not name.strip():
            continue
        if name in listed:
            problems.append(
                (
                    ("people", index, "name"),
                    ERROR_DUPLICATE_PERSON.format(name=name, first=listed[name]),
                )
            )
            continue
        listed[name] = index
        person_roles = person.get("roles")
        if isinstance(person_roles, list | tuple):
            roles.update(r for r in person_roles if isinstance(r, str))
    if not listed:
        return problems
    known_names: set[str] = set()
    for name in listed:
        known_names |= _person_names(name)
    known = ", ".join(listed)

    def check(loc: Loc, value: Any, *, role_ok: bool = False) -> None:
        if not isinstance(value, str) or not value.strip():
            return
        if _person_names(value) & known_names or (role_ok and value in roles):
            return
        problems.append((loc, ERROR_NOT_A_PERSON.format(name=value, known=known)))

    organization = data.get("organization")
    if isinstance(organization, Mapping):
        check(("organization", "policy_owner"), organization.get("policy_owner"))
    programme = data.get("audit_programme")
    auditors = programme.get("auditors") if isinstance(programme, Mapping) else None
    for position, value in enumerate(auditors if isinstance(auditors, list | tuple) else []):
        check(("audit_programme", "auditors", position), value, role_ok=True)
    for index, system in _items(data, "systems"):
        check(("systems", index, "owner"), system.get("owner"))
    for index, risk in _items(data, "risks"):
        check(("risks", index, "owner"), risk.get("owner"))
        acceptance = risk.get("acceptance")
        if isinstance(acceptance, Mapping):
            check(("risks", index, "acceptance", "by"), acceptance.get("by"))
    approvers = data.get("approvers")
    if isinstance(approvers, Mapping):
        for key, names in approvers.items():
            for position, value in enumerate(names if isinstance(names, list | tuple) else []):
                check(("approvers", key, position), value, role_ok=True)
    return problems


def _pilot_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """``scope.pilot`` names in-scope systems of this file."""
    scope = data.get("scope")
    pilot = scope.get("pilot") if isinstance(scope, Mapping) else None
    if not isinstance(pilot, list):
        return []
    systems = {
        s.get("id"): s for _, s in _items(data, "systems") if isinstance(s.get("id"), str)
    }
    problems: list[tuple[Loc, str]] = []
    for position, system_id in enumerate(pilot):
        found = systems.get(system_id)
        if found is None:
            known = ", ".join(str(k) for k in systems) or "none"
            message = ERROR_PILOT_UNKNOWN.format(system=system_id, known=known)
        elif found.get("in_scope", True) is False:
            message = ERROR_PILOT_OUT_OF_SCOPE.format(system=system_id)
        else:
            continue
        problems.append((("scope", "pilot", position), message))
    return problems


def _approver_key_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """``approvers`` keys that cover no catalog entry (neither an entry nor a prefix of one,
    as :meth:`AimsConfig.approvers_for` reads them): a typo there would silently leave the
    entry it meant open to anyone's attestation."""
    approvers = data.get("approvers")
    if not isinstance(approvers, Mapping):
        return []
    ids = [entry.id for entry in load_catalog().entries]
    problems: list[tuple[Loc, str]] = []
    for key in approvers:
        covered = _control_id(key)
        if not isinstance(covered, str) or any(
            i == covered or i.startswith(f"{covered}.") for i in ids
        ):
            continue
        near = difflib.get_close_matches(covered, ids, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        problems.append(
            (("approvers", key), ERROR_UNKNOWN_APPROVER_KEY.format(key=covered, hint=hint))
        )
    return problems


def _audit_scope_problems(data: Mapping[str, Any], system_ids: list[str]) -> list[tuple[Loc, str]]:
    """``audit_programme.scope`` items that are neither a declared system nor cover a catalog
    entry (an entry, a group or a prefix, as the programme's ``covers`` reads them): a typo
    there would leave the audit programme covering nothing it meant."""
    programme = data.get("audit_programme")
    scope = programme.get("scope") if isinstance(programme, Mapping) else None
    if not isinstance(scope, list | tuple):
        return []
    entries = load_catalog().entries
    ids = [entry.id for entry in entries]
    groups = {entry.group for entry in entries}
    problems: list[tuple[Loc, str]] = []
    for position, raw in enumerate(scope):
        item = _control_id(raw)
        if not isinstance(item, str) or item in system_ids or item in groups:
            continue
        if any(i == item or i.startswith(f"{item}.") for i in ids):
            continue
        near = difflib.get_close_matches(item, [*system_ids, *ids], n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        problems.append(
            (
                ("audit_programme", "scope", position),
                ERROR_AUDIT_SCOPE_ITEM.format(item=item, hint=hint, known=_known(system_ids)),
            )
        )
    return problems


def _exclusions(data: Mapping[str, Any]) -> list[tuple[int, str, tuple[str, ...] | None]]:
    """(index, control, systems or None for every system) of every SoA exclusion."""
    found = []
    for index, decision in _items(data, "soa"):
        control = _control_id(decision.get("control"))
        if decision.get("applicable") is not False or not isinstance(control, str):
            continue
        systems = decision.get("systems")
        scope = (
            tuple(s for s in systems if isinstance(s, str))
            if isinstance(systems, list | tuple)
            else None
        )
        found.append((index, control, scope))
    return found


def _scope_text(systems: tuple[str, ...] | None) -> str:
    return "" if systems is None else f" for {', '.join(systems)}"


def _consistency_problems(
    data: Mapping[str, Any], *, known: str, declared: set[str]
) -> list[tuple[Loc, str]]:
    """The Statement of Applicability, the risk treatment and the monitoring declarations must
    tell one story: an excluded control cannot treat a risk or hold declared monitoring, a
    control the clauses need cannot be excluded, an organization-level control is decided for the
    whole AIMS."""
    catalog = load_catalog()
    problems: list[tuple[Loc, str]] = []
    exclusions = _exclusions(data)
    monitoring_controls = {
        c for c in catalog.controls_for_kind("monitoring") if catalog.get(c).kind == "control"
    }
    monitored = [
        (index, system.get("id"))
        for index, system in _items(data, "systems")
        if isinstance(system.get("monitoring"), Mapping)
    ]
    for index, control, systems in exclusions:
        if control not in catalog:
            continue
        entry = catalog.get(control)
        if entry.not_excludable:
            problems.append(
                (
                    ("soa", index, "control"),
                    ERROR_NOT_EXCLUDABLE.format(control=control, reason=entry.not_excludable),
                )
            )
        if entry.scope == "organization" and systems is not None:
            problems.append(
                (("soa", index, "systems"), ERROR_ORG_CONTROL_PER_SYSTEM.format(control=control))
            )
        if control in monitoring_controls:
            for system_index, system_id in monitored:
                if systems is None or system_id in systems:
                    problems.append(
                        (
                            ("soa", index, "control"),
                            ERROR_MONITORING_EXCLUDED.format(
                                control=control,
                                scope=_scope_text(systems),
                                system_index=system_index,
                                system=system_id,
                            ),
                        )
                    )
    for index, risk in _items(data, "risks"):
        controls = risk.get("controls")
        if not isinstance(controls, list | tuple):
            continue
        system = risk.get("system")
        for position, raw in enumerate(controls):
            control = _control_id(raw)
            if not isinstance(control, str) or control not in catalog:
                continue
            loc: Loc = ("risks", index, "controls", position)
            if catalog.get(control).kind == "clause":
                problems.append((loc, ERROR_TREATING_CLAUSE.format(control=control)))
                continue
            for soa_index, excluded, systems in exclusions:
                covers = systems is None or system is None or system in systems
                if excluded == control and covers:
                    problems.append(
                        (
                            loc,
                            ERROR_TREATING_EXCLUDED.format(
                                control=control,
                                risk=risk.get("id"),
                                index=soa_index,
                                scope=_scope_text(systems),
                            ),
                        )
                    )
    for index, review in _items(data, "risk_reviews"):
        system = review.get("system")
        if isinstance(system, str) and system not in declared:
            problems.append(
                (
                    ("risk_reviews", index, "system"),
                    ERROR_REVIEW_SYSTEM.format(system=system, known=known),
                )
            )
    return problems
