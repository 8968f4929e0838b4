"""Evidence kinds: what each kind of record is, and which collector produces it.

Built-in kinds are listed in :data:`DEFAULT_KINDS`, the way datasette lists its default plugins;
a third-party package adds its own through the ``aims_mlops.evidence_kinds`` entry-point group
(each entry point names an :class:`EvidenceKind` or a sequence of them). Both go through the same
:meth:`KindRegistry.register`, which refuses a name it already holds. Nothing registers by being
imported.

Each kind holds its producer: the callable itself, or an entry-point reference
(``"package.module:function"``) loaded on first use with :class:`importlib.metadata.EntryPoint`,
the mechanism that loads the entry points themselves (the built-in kinds name theirs so, since
this module sits below the capture layer). A producer either records its evidence itself (the
public capture functions, ``records_itself=True``) or is a pure collector that returns the record,
which :func:`aims_mlops.capture.collect` runs and hands to the one writer: a new collector is one
module, one registry entry and one catalog rule.

Which controls a kind serves is not written here: that is the catalog's evidence rules
(:meth:`aims_mlops.catalog.Catalog.controls_for_kind`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from importlib.metadata import entry_points as installed_entry_points
from typing import Any, Literal

from aims_mlops._errors import EvidenceError

ENTRY_POINT_GROUP = "aims_mlops.evidence_kinds"
#: The detail every person's act carries: the name of the person who signed it (a kind's
#: ``actor`` names the detail older records hold instead).
ACTED_BY = "acted_by"

#: ``evidence``: named by catalog rules; ``duty``: named by rules too, each record an obligation
#: with a deadline (none recorded: nothing is due); ``attestation``: a person's statement, matched
#: to the entry it names; ``bookkeeping``: records about capture itself (a collector's failure).
KindRole = Literal["evidence", "duty", "attestation", "bookkeeping"]

ERROR_DUPLICATE_KIND = (
    "evidence kind {name!r} is already registered (by {existing}); "
    "{source} cannot register it again"
)
ERROR_BAD_KIND_NAME = (
    "evidence kind name {name!r} must be dotted lower-case words, like 'data_quality' or "
    "'lineage.code'"
)
ERROR_BAD_ENTRY_POINT = (
    "entry point {name!r} in group {group!r} must give an EvidenceKind or a sequence of them; "
    "got {value!r}"
)
ERROR_UNKNOWN_KIND = "unknown evidence kind {name!r}; registered kinds: {known}"
ERROR_BAD_PRODUCER = (
    "the producer of evidence kind {name!r} must be a callable or an entry-point reference "
    "'package.module:function'; got {value!r}"
)

_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_AUTOLOG = "`aims_mlops.autolog()` then train inside `mlflow.start_run()`"


@dataclass(frozen=True, kw_only=True)
class EvidenceKind:
    """One kind of evidence record.

    ``producer`` is what produces it: a callable, or an entry-point reference
    ``"package.module:function"`` (:meth:`load_producer`). ``records_itself``: the producer
    records its evidence (a public capture function); otherwise it is a pure collector returning
    the record, run by :func:`aims_mlops.capture.collect`. ``action`` is the exact call or command
    a user runs to produce it (the catalog builds "how to close a gap" from it).
    ``requires`` is what a record must hold in its ``details`` to count as evidence at all: each
    item a path (``git.commit``; ``datasets[*].sha256``: in every element) or alternatives
    separated by ``|``; a path holds when its values are present and not empty. ``how_to_hold``
    says what a user logs so that a record holds it (the engine adds it to the reason).
    ``actor`` is the ``details`` field naming the person whose act the record is (``by``,
    ``chair``, ``auditor``, ``person``): such a record is signed with that person's own key,
    never the pipeline's (:mod:`aims_mlops.evidence._acts`); with ``act_when`` it is a person's
    act only when it holds that detail (a nonconformity that ``amends`` one). ``vouches``: the
    actor vouches for the entries the record serves (an attestation, an audit, a review), so
    the engine checks their authority for those entries (``approvers:``, ``authority``) and
    their independence of an audit of them; a trainee or an approver of the configuration
    signs their act without vouching for an entry.
    """

    name: str
    producer: Callable[..., Any] | str
    description: str
    action: str
    role: KindRole = "evidence"
    requires: tuple[str, ...] = ()
    how_to_hold: str = ""
    source: str = "aims_mlops"
    records_itself: bool = False
    actor: str | None = None
    act_when: str | None = None
    vouches: bool = False
    #: a duty kind whose open records within their deadlines satisfy the rule (a raised
    #: nonconformity being worked on); False: only a discharged duty does (an incident reported)
    open_within_deadline_counts: bool = False
    #: produced only for a GenAI system (``systems[].genai``): its action is never suggested to
    #: a tabular one
    genai_only: bool = False

    def __post_init__(self) -> None:
        if not _KIND_NAME.match(self.name):
            raise EvidenceError(ERROR_BAD_KIND_NAME.format(name=self.name))
        if not callable(self.producer) and not (
            isinstance(self.producer, str) and re.fullmatch(r"[\w.]+(:[\w.]+)?", self.producer)
        ):
            raise EvidenceError(ERROR_BAD_PRODUCER.format(name=self.name, value=self.producer))

    def load_producer(self) -> Callable[..., Any]:
        """The producer itself (an entry-point reference is loaded as entry points are)."""
        if callable(self.producer):
            return self.producer
        value = self.producer
        if ":" not in value:  # a dotted path: its last part is the attribute
            module, _, attribute = value.rpartition(".")
            value = f"{module}:{attribute}"
        return EntryPoint(name=self.name, value=value, group=ENTRY_POINT_GROUP).load()


#: The kinds aims_mlops itself produces, in the order they are documented.
DEFAULT_KINDS: tuple[EvidenceKind, ...] = (
    EvidenceKind(
        name="lineage.datasets",
        producer="aims_mlops.capture:autolog",
        records_itself=True,
        description="the run's input datasets with full-content SHA-256 digests, schema and source",
        action=_AUTOLOG,
        requires=("datasets[*].sha256",),
    ),
    EvidenceKind(
        name="lineage.code",
        producer="aims_mlops.capture:autolog",
        records_itself=True,
        description="the code version: git commit, dirty flag and a hash of uncommitted changes",
        action=_AUTOLOG,
        requires=("git.commit|source_sha256",),
    ),
    EvidenceKind(
        name="lineage.params",
        producer="aims_mlops.capture:autolog",
        records_itself=True,
        description="the run's training parameters",
        action=_AUTOLOG,
        requires=("params",),
        how_to_hold=(
            "log the training parameters in the run, mlflow.log_params({...}) or a flavour's "
            "autolog (mlflow.sklearn.autolog()), or log the model with mlflow.sklearn.log_model "
            "(its get_params() are taken when the run logged none) or log_model(params={...})"
        ),
    ),
    EvidenceKind(
        name="lineage.environment",
        producer="aims_mlops.capture:autolog",
        records_itself=True,
        description="Python, platform and the versions of the libraries the run used",
        action=_AUTOLOG,
        requires=("packages", "python_version"),
    ),
    EvidenceKind(
        name="lineage.compute",
        producer="aims_mlops.capture:autolog",
        records_itself=True,
        description="the machine the run trained on: CPU, memory, accelerators",
        action=_AUTOLOG,
        requires=("cpu_count|machine",),
    ),
    EvidenceKind(
        name="lineage.model",
        producer="aims_mlops.capture:autolog",
        records_itself=True,
        description="the logged model and its registered version, bound to the run",
        action=_AUTOLOG,
        requires=("registered_versions[*].version|logged_models[*].model_id",),
    ),
    EvidenceKind(
        name="notebook.provenance",
        producer="aims_mlops:load_ipython_extension",
        records_itself=True,
        description="which notebook cells ran, in which order, in one kernel, with their hashes",
        action="`%load_ext aims_mlops` in the notebook",
        requires=("cells_sha256",),
    ),
    EvidenceKind(
        name="data_quality",
        producer="aims_mlops.capture:check_data",
        records_itself=True,
        description="Great Expectations results for a dataset (values stripped unless opted in)",
        action='`aims_mlops.check_data(df, name="training")`',
        requires=("checks",),
    ),
    EvidenceKind(
        name="fairness",
        producer="aims_mlops.capture:assess_fairness",
        records_itself=True,
        description="group fairness metrics per sensitive feature against declared thresholds",
        action=(
            '`aims_mlops.assess_fairness(y_true, y_pred, sensitive_features=X[["sex", "race"]])`'
        ),
        requires=("checks",),
    ),
    EvidenceKind(
        name="performance",
        producer="aims_mlops.capture:validate_performance",
        records_itself=True,
        description="evaluation metrics against the declared performance thresholds",
        action=(
            '`aims_mlops.validate_performance({"accuracy": ..., "roc_auc": ...})` in the '
            "training run"
        ),
        requires=("checks",),
    ),
    EvidenceKind(
        name="monitoring",
        producer="aims_mlops.capture:monitor",
        records_itself=True,
        description="a production batch's data quality and drift against the reference data",
        action="`aims_mlops.monitor(current_df, reference_df)`",
        requires=("checks",),
    ),
    EvidenceKind(
        name="genai_evaluation",
        producer="aims_mlops.capture:assess_genai",
        records_itself=True,
        description=(
            "an LLM application evaluated with mlflow.genai.evaluate and a red-team suite: "
            "injection success, personal-data leaks, toxicity, refusals, groundedness, against "
            "the declared genai thresholds (rates and counts only)"
        ),
        action='`aims_mlops.assess_genai(predict_fn, data, name="eval")`',
        genai_only=True,
    ),
    EvidenceKind(
        name="monitoring.traces",
        producer="aims_mlops.capture:monitor_traces",
        records_itself=True,
        description=(
            "a GenAI system's request traces read back from MLflow: requests, days covered, "
            "error share, personal data in outputs, latency percentiles, declared retention"
        ),
        action='`aims_mlops.monitor_traces("SYSTEM", since="30d")`',
        genai_only=True,
    ),
    EvidenceKind(
        name="deployment",
        producer="aims_mlops.capture:run_gate",
        records_itself=True,
        description="a model version promoted after passing the gate, with the gate's verdict",
        action="`aims gate SYSTEM --promote`",
    ),
    EvidenceKind(
        name="system_card",
        producer="aims_mlops.reports:system_card_record",
        description="the system card of a report: intended use, owner, metrics, limitations",
        action="`aims report SYSTEM`",
        requires=("model", "owner", "intended_use", "document_sha256"),
    ),
    EvidenceKind(
        name="incident",
        producer="aims_mlops.capture:record_incident",
        records_itself=True,
        description=(
            "a serious incident: its kind, severity, when it became known, the reporting "
            "deadline that follows (EU AI Act Art. 73) and when it was reported"
        ),
        action=(
            "`aims record incident SYSTEM --kind ... --severity ... --summary ... --aware-on "
            "DATE`, then `aims record incident-report ID --on DATE` once reported"
        ),
        role="duty",
        actor=ACTED_BY,  # the report that closes it is the reporting person's act
        act_when="closes",
    ),
    EvidenceKind(
        name="internal_audit",
        producer="aims_mlops.capture:record_internal_audit",
        records_itself=True,
        description=(
            "an internal audit: the auditor (independent of what is audited), its scope "
            "(systems and catalog entries), the hashed audit report and its findings"
        ),
        action=(
            '`aims record internal-audit --auditor "<name>" --scope SYSTEMS,ENTRIES --report '
            "REPORT.pdf [--findings FINDINGS.yaml]`"
        ),
        requires=("auditor", "scope", "report_sha256"),
        actor="auditor",
        vouches=True,
    ),
    EvidenceKind(
        name="training",
        producer="aims_mlops.capture:record_training",
        records_itself=True,
        description=(
            "training a person of the AIMS received: who, on what topic, when, and the hashed "
            "evidence (certificate, attendance list) when given"
        ),
        action=(
            '`aims record training --person "<name>" --topic "<topic>" --date YYYY-MM-DD '
            "--key FILE` (the person's own key)"
        ),
        requires=("person", "topic", "date"),
        actor="person",
    ),
    EvidenceKind(
        name="acknowledgement",
        producer="aims_mlops.capture:record_acknowledgement",
        records_itself=True,
        description=(
            "a person's acknowledgement of a document of the AIMS (the AI policy): who, which "
            "document, which version"
        ),
        action=(
            '`aims record acknowledgement --person "<name>" --document AIMS-05 --key FILE` '
            "(the person's own key)"
        ),
        requires=("person", "document"),
        actor="person",
    ),
    EvidenceKind(
        name="management_review",
        producer="aims_mlops.capture:record_management_review",
        records_itself=True,
        description=(
            "a management review: its chair and attendees, the hashed minutes, the review "
            "pack of that date (the inputs, attached and hashed) and the decisions taken"
        ),
        action=(
            '`aims record management-review --chair "<name>" --minutes MINUTES.md '
            "--decisions DECISIONS.yaml`"
        ),
        requires=("chair", "minutes_sha256"),
        actor="chair",
        vouches=True,
    ),
    EvidenceKind(
        name="nonconformity",
        producer="aims_mlops.capture:sync_register",
        records_itself=True,
        description=(
            "a nonconformity and its corrective action: what fell short, root cause, "
            "correction, action, owner, due date, the check of effectiveness and its closing"
        ),
        action=(
            "`aims nonconformities` (opens and closes), `aims nc update ID --root-cause ... "
            "--correction ... --action ... --owner ... --due DATE`, `aims nc verify ID --by ... "
            "--note ...`"
        ),
        role="duty",
        open_within_deadline_counts=True,
        actor="verified_by",  # or acted_by: an update's owner, a check's verifier
        act_when="amends",
    ),
    EvidenceKind(
        name="attestation",
        producer="aims_mlops.capture:attest",
        records_itself=True,
        description="a named person vouches for a document that no run can show",
        action='`aims attest CONTROL --by "<name>" --document <url-or-path>`',
        role="attestation",
        actor="by",
        vouches=True,
    ),
    EvidenceKind(
        name="configuration",
        producer="aims_mlops.ledger.configuration_record",
        description=(
            "one content of aims.yaml (its text and the public keys it names), recorded before "
            "it is used; it counts for verdicts once approved"
        ),
        action="capture records it; `aims config approve --by NAME --key FILE` approves it",
        role="bookkeeping",
    ),
    EvidenceKind(
        name="configuration_approval",
        producer="aims_mlops.ledger.approval_record",
        description=(
            "a configuration approved by a person of top management, signed with their own "
            "key the previously approved configuration trusts (the change log of 6.3)"
        ),
        action="`aims config approve --by NAME --key FILE`",
        actor="by",
        role="bookkeeping",  # 6.3 derives the change log from them (changes_approved)
    ),
    EvidenceKind(
        name="risk_acceptance",
        producer="aims_mlops.capture.accept_risk",
        description=(
            "a person's signed acceptance of a risk kept above the appetite: the risk, who, "
            "when, until when, the residual score accepted (what aims.yaml acceptance declares)"
        ),
        action="`aims risk accept RISK --key FILE`",
        actor="by",
        role="bookkeeping",
    ),
    EvidenceKind(
        name="error",
        producer="aims_mlops.capture:error_record",
        description="a collector failed; the record names the kind it tried to produce",
        action="fix the collector's error and capture again",
        role="bookkeeping",
    ),
)


class KindRegistry:
    """The evidence kinds known in this process; a name is registered once, never replaced."""

    __slots__ = ("_kinds",)

    def __init__(self) -> None:
        self._kinds: dict[str, EvidenceKind] = {}

    def register(self, kind: EvidenceKind) -> None:
        """Add ``kind``; :class:`EvidenceError` when its name is already registered."""
        existing = self._kinds.get(kind.name)
        if existing is not None:
            raise EvidenceError(
                ERROR_DUPLICATE_KIND.format(
                    name=kind.name, existing=existing.source, source=kind.source
                )
            )
        self._kinds[kind.name] = kind

    def get(self, name: str) -> EvidenceKind:
        kind = self._kinds.get(name)
        if kind is None:
            raise EvidenceError(ERROR_UNKNOWN_KIND.format(name=name, known=", ".join(self.names)))
        return kind

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[EvidenceKind]:
        return iter(self._kinds.values())

    def __len__(self) -> int:
        return len(self._kinds)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    def with_role(self, role: KindRole) -> tuple[EvidenceKind, ...]:
        return tuple(k for k in self._kinds.values() if k.role == role)


def _entry_point_kinds(value: Any, *, name: str) -> Iterable[EvidenceKind]:
    items = (value,) if isinstance(value, EvidenceKind) else value
    if not isinstance(items, list | tuple) or not all(isinstance(k, EvidenceKind) for k in items):
        raise EvidenceError(
            ERROR_BAD_ENTRY_POINT.format(name=name, group=ENTRY_POINT_GROUP, value=value)
        )
    return items


def build_registry(
    *, defaults: Iterable[EvidenceKind] = DEFAULT_KINDS, entry_points: bool = True
) -> KindRegistry:
    """A registry of ``defaults`` then the kinds of installed ``aims_mlops.evidence_kinds``
    entry points, all through :meth:`KindRegistry.register`."""
    registry = KindRegistry()
    for kind in defaults:
        registry.register(kind)
    if entry_points:
        for point in installed_entry_points(group=ENTRY_POINT_GROUP):
            for kind in _entry_point_kinds(point.load(), name=point.name):
                registry.register(kind)
    return registry


@functools.cache
def load_kinds() -> KindRegistry:
    """The evidence kinds of this installation (built in, then entry points), read once."""
    return build_registry()


#: the check a record adds when a disparity cannot be measured: ratios 0/0, or a group the model
#: never selects (every difference can read 0 while the model decides nothing)
UNDEFINED_CHECK = "defined"
