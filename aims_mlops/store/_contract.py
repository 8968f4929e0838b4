"""The MLflow storage contract: every tag name, artifact path and stored format, and the one parse.

Pure: this module imports no MLflow (the run-context plugin imports it in the middle of
``import mlflow``). Writers, readers, verification, the plugin, autolog and the lineage collector
all take these names from here.

Layout in MLflow:

- a run-level record lives on its run: tag :data:`TAG_SYSTEM`, tag :func:`evidence_tag` holding
  :func:`tag_value` (the record's canonical JSON, or a pointer ``{"id", "content_hash",
  "artifact"}`` above :data:`MAX_TAG_JSON_CHARS`) and the artifact :func:`artifact_path`;
- an organization- or system-level record gets its own run in the evidence experiment, named
  :func:`own_run_name`, tagged :func:`own_run_tags`, with the same evidence tag and artifact;
- a run's full-content dataset hash is the tag :func:`dataset_sha256_tag` of MLflow's digest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from aims_mlops._errors import EvidenceError, StoreError
from aims_mlops._json import MAX_RECORD_CHARS, JsonLimitError, loads_bounded
from aims_mlops.evidence import EvidenceRecord, canonical_json

# -- tag names ------------------------------------------------------------------------------------
#: The AI system a run belongs to (set by the run-context plugin and by every evidence write).
TAG_SYSTEM = "aims.system"
#: MLflow's own tag for the kind of run, and its value on ``mlflow.genai.evaluate`` runs.
RUN_TYPE_TAG = "mlflow.runType"
GENAI_EVALUATE = "genai_evaluate"
#: ``organization`` on runs holding organization-level records.
TAG_SCOPE = "aims.scope"
#: The record kind, on the evidence experiment's own runs (marks a run as ours, not training).
TAG_KIND = "aims.kind"
#: Prefix of the evidence tags: ``aims.evidence.<record id>``.
TAG_EVIDENCE_PREFIX = "aims.evidence."
#: Prefix of the full-content dataset hash tags: ``aims.dataset_sha256.<mlflow digest>``.
TAG_DATASET_SHA256_PREFIX = "aims.dataset_sha256."
#: The digest of the aims.yaml in force when a run started.
TAG_CONFIG_DIGEST = "aims.config_digest"
#: The value of :data:`TAG_SCOPE` for organization-level records.
SCOPE_ORGANIZATION = "organization"
#: Prefixes of the metrics mirrored onto runs for MLflow's own UI.
METRIC_PREFIX_DATA_QUALITY = "aims.dq"
METRIC_PREFIX_FAIRNESS = "aims.fairness"
METRIC_PREFIX_GENAI = "aims.genai"
#: Tags of GenAI evaluations: the red-team category and attack id on a row's trace, and the
#: mark on an evaluation run that ``assess_genai`` already recorded as evidence.
TAG_GENAI_CATEGORY = "aims.genai.category"
TAG_GENAI_ATTACK = "aims.genai.attack"
TAG_GENAI_ASSESSED = "aims.genai.assessed"

# -- artifact paths -------------------------------------------------------------------------------
#: The top artifact folder everything of ours lives under.
ARTIFACT_ROOT = "aims"
#: Where records' JSON lives among a run's artifacts: ``aims/evidence/<kind>/<id>.json``.
EVIDENCE_ARTIFACT_DIR = f"{ARTIFACT_ROOT}/evidence"
#: Where a record's extra artifacts (plots, tables) live: ``aims/artifacts/<name>``.
EXTRA_ARTIFACT_DIR = f"{ARTIFACT_ROOT}/artifacts"

#: Largest record JSON stored whole in its tag (MLflow 3 allows 8,000 characters per tag value).
MAX_TAG_JSON_CHARS = 7_000
#: Longest evidence tag value parsed (MLflow stores at most 8,000 characters; a store written
#: behind MLflow's back may hold more): a longer one is a finding, unparsed.
MAX_TAG_CHARS = 65_536
#: Largest record artifact read, in bytes: a larger one is a finding, never read whole.
MAX_ARTIFACT_BYTES = MAX_RECORD_CHARS
#: The keys of a pointer tag (the record is in its artifact).
POINTER_KEYS = frozenset({"id", "content_hash", "artifact"})

ERROR_BAD_ARTIFACT_NAME = "artifact name {name!r} must be a relative path without '..'"
ERROR_UNSAFE_KIND = (
    "record {id}: kind {kind!r} cannot name a folder (lowercase words joined by '.' or '_')"
)
ERROR_UNSAFE_ID = "record id {id!r} cannot name a file (letters, digits, '_', '-', '.')"
ERROR_PATH_OUTSIDE = "record {id}: path {path!r} resolves outside {root}"

#: What a record id and kind must look like to become part of a path (no separator, no '..').
SAFE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
SAFE_KIND_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")

PROBLEM_NOT_JSON = "record {id} on run {run_id}: the evidence tag is not valid JSON ({error})"
PROBLEM_MALFORMED = "record {id} on run {run_id}: the evidence tag holds no valid record ({error})"
PROBLEM_ID_MISMATCH = "record {id} on run {run_id}: the evidence tag holds record {other}"
PROBLEM_ALTERED = (
    "record {id} on run {run_id}: content hash does not match the content: the {where} was altered"
)
PROBLEM_REFUSED = "record {id} on run {run_id}: the {part} is refused as evidence: {error}"
PROBLEM_UNSAFE_ID = (
    "record {id} on run {run_id}: its id cannot name a file (letters, digits, '_', '-', '.')"
)
PROBLEM_ARTIFACT_MISSING = "record {id} on run {run_id}: artifact {path} is missing"
PROBLEM_ARTIFACT_DIFFERS = "record {id} on run {run_id}: artifact {path} differs from the tag"
PROBLEM_ARTIFACT_UNREADABLE = (
    "record {id} on run {run_id}: artifact {path} holds no valid record ({error})"
)

#: Reads one artifact of the run (a path such as ``aims/evidence/<kind>/<id>.json``); None when
#: it does not exist; :class:`ArtifactTooLarge` when it holds more than
#: :data:`MAX_ARTIFACT_BYTES` (it is then never read whole).
ArtifactFetcher = Callable[[str], bytes | None]

ERROR_ARTIFACT_TOO_LARGE = "artifact {path} is {size} bytes, more than the {limit} a record may be"


class ArtifactTooLarge(StoreError):
    """A record artifact larger than :data:`MAX_ARTIFACT_BYTES` (refused unread)."""

    def __init__(self, *, path: str, size: int) -> None:
        super().__init__(
            ERROR_ARTIFACT_TOO_LARGE.format(path=path, size=size, limit=MAX_ARTIFACT_BYTES)
        )


# -- names and paths ------------------------------------------------------------------------------
def evidence_tag(record_id: str) -> str:
    """The tag holding a record: ``aims.evidence.<record id>``."""
    return f"{TAG_EVIDENCE_PREFIX}{record_id}"


def record_id_of_tag(tag_key: str) -> str | None:
    """The record id an evidence tag names; None for any other tag."""
    return tag_key[len(TAG_EVIDENCE_PREFIX) :] if tag_key.startswith(TAG_EVIDENCE_PREFIX) else None


def evidence_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """A run's evidence tags as record id to tag value, sorted by record id."""
    found = {record_id_of_tag(key): value for key, value in tags.items()}
    return {rid: found[rid] for rid in sorted(r for r in found if r is not None)}


def dataset_sha256_tag(mlflow_digest: str) -> str:
    """The tag holding the full-content SHA-256 of the dataset MLflow knows by this digest."""
    return f"{TAG_DATASET_SHA256_PREFIX}{mlflow_digest}"


def safe_record_id(record_id: str) -> str:
    """``record_id`` when it can name a file (:class:`StoreError` otherwise)."""
    if not isinstance(record_id, str) or not SAFE_ID_RE.match(record_id):
        raise StoreError(ERROR_UNSAFE_ID.format(id=record_id))
    return record_id


def artifact_path(record: EvidenceRecord) -> str:
    """Where a record's JSON lives among its run's artifacts; :class:`StoreError` when its id or
    kind could not name a path without leaving that folder (``../``, a separator)."""
    safe_record_id(record.id)
    if not isinstance(record.kind, str) or not SAFE_KIND_RE.match(record.kind):
        raise StoreError(ERROR_UNSAFE_KIND.format(id=record.id, kind=record.kind))
    return f"{EVIDENCE_ARTIFACT_DIR}/{record.kind}/{record.id}.json"


def contained(root: Path, relative: str, *, record_id: str) -> Path:
    """``root / relative``, resolved, when it lies inside ``root``; :class:`StoreError` when it
    does not (``..``, an absolute path, a symbolic link leading out)."""
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or target == base:
        raise StoreError(ERROR_PATH_OUTSIDE.format(id=record_id, path=relative, root=base))
    return target


def safe_artifact_name(name: str) -> str:
    """``name`` normalized as a relative artifact path; :class:`StoreError` for ``..`` or
    absolute paths."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise StoreError(ERROR_BAD_ARTIFACT_NAME.format(name=name))
    return str(path)


def extra_artifact_path(name: str) -> str:
    """Where an extra artifact named ``name`` (already checked) lives on its run."""
    return f"{EXTRA_ARTIFACT_DIR}/{name}"


def own_run_name(record: EvidenceRecord) -> str:
    """The run name of a record stored in a run of its own: ``<kind>:<system or org>``."""
    return f"{record.kind}:{record.system or 'org'}"


def own_run_tags(record: EvidenceRecord) -> dict[str, str]:
    """The tags a record's own run is created with (kind, and system or organization scope)."""
    tags = {TAG_KIND: record.kind}
    if record.system is None:
        tags[TAG_SCOPE] = SCOPE_ORGANIZATION
    else:
        tags[TAG_SYSTEM] = record.system
    return tags


def run_level_tags(records: Iterable[EvidenceRecord]) -> dict[str, str]:
    """The tags that store ``records`` on an existing run: system (or scope) and evidence tags."""
    batch = list(records)
    tags: dict[str, str] = {}
    systems = [r.system for r in batch if r.system is not None]
    if systems:
        tags[TAG_SYSTEM] = systems[0]
    if len(systems) < len(batch):
        tags[TAG_SCOPE] = SCOPE_ORGANIZATION
    for record in batch:
        tags[evidence_tag(record.id)] = tag_value(record)
    return tags


# -- the evidence tag's value ---------------------------------------------------------------------
def tag_value(record: EvidenceRecord) -> str:
    """The evidence tag: the whole canonical JSON, or a pointer to the artifact when too long."""
    text = record.to_json()
    if len(text) <= MAX_TAG_JSON_CHARS:
        return text
    return canonical_json(
        {"id": record.id, "content_hash": record.content_hash, "artifact": artifact_path(record)}
    )


def is_pointer(data: Any) -> bool:
    """True when a parsed tag value is a pointer to the record's artifact."""
    return isinstance(data, dict) and set(data) == POINTER_KEYS


def pointer_target(data: Mapping[str, Any]) -> str | None:
    """The artifact a pointer names, when it is a safe path under the evidence folder."""
    target = data.get("artifact")
    if not isinstance(target, str) or not target.startswith(f"{EVIDENCE_ARTIFACT_DIR}/"):
        return None
    try:
        return safe_artifact_name(target)
    except StoreError:
        return None


# -- searching ------------------------------------------------------------------------------------
def quote(value: str) -> str:
    """``value`` quoted for an MLflow search filter string."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def system_filter(system: str | None) -> str:
    """Runs of ``system`` (any system when None)."""
    if system is None:
        return f"tags.`{TAG_SYSTEM}` LIKE '%'"
    return f"tags.`{TAG_SYSTEM}` = '{quote(system)}'"


def organization_filter() -> str:
    """Runs holding organization-level records."""
    return f"tags.`{TAG_SCOPE}` = '{SCOPE_ORGANIZATION}'"


def has_tag_filter(tag_key: str) -> str:
    """Runs carrying the tag ``tag_key`` (any value)."""
    return f"tags.`{tag_key}` LIKE '%'"


def dataset_digests(
    mlflow_digests: Iterable[str | None], tags: Mapping[str, str]
) -> tuple[str, ...]:
    """A run's dataset digests: MLflow's, then our full-content SHA-256 tagged for them, then
    any other SHA-256 tags of the run (sorted by tag)."""
    digests: list[str] = []
    for digest in mlflow_digests:
        if digest and digest not in digests:
            digests.append(digest)
    for digest in list(digests):
        full = tags.get(dataset_sha256_tag(digest))
        if full and full not in digests:
            digests.append(full)
    for tag_key, full in sorted(tags.items()):
        if tag_key.startswith(TAG_DATASET_SHA256_PREFIX) and full and full not in digests:
            digests.append(full)
    return tuple(digests)


# -- the one parse of a stored record -------------------------------------------------------------
@dataclass(frozen=True)
class StoredRecord:
    """What one evidence tag holds.

    ``record`` is set only when the tag (or, for a pointer, its artifact) holds an intact record
    with the tag's id whose content hashes to its ``content_hash``; ``decoded`` is whatever
    record could be decoded, checked or not (verification compares it with the artifact);
    ``problems`` name every fault found, each with the record id and run id.
    """

    record_id: str
    run_id: str
    record: EvidenceRecord | None
    decoded: EvidenceRecord | None
    pointer: bool
    problems: tuple[str, ...]


def _decode(
    text: bytes | str, problem: str, where: Mapping[str, str], path: str | None
) -> tuple[Any, str | None, Any]:
    """(parsed JSON, None, None) or (None, the problem text, the pruned data of JSON refused for
    nesting too deep, or None). Bounded: never longer than the tag or artifact caps, never
    deeper than :data:`aims_mlops._json.MAX_JSON_DEPTH`."""
    part = "evidence tag" if path is None else f"artifact {path}"
    limit = MAX_TAG_CHARS if path is None else MAX_ARTIFACT_BYTES
    try:
        return loads_bounded(text, what=f"the {part}", max_chars=limit), None, None
    except JsonLimitError as exc:
        return None, PROBLEM_REFUSED.format(part=part, error=exc, **where), exc.pruned
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None, problem.format(error=exc, path=path, **where), None


def _salvage(pruned: Any) -> EvidenceRecord | None:
    """What a refused record claims (kind, system, controls), so its finding names the entries
    it speaks to; never evidence."""
    if not isinstance(pruned, Mapping):
        return None
    try:
        return EvidenceRecord.from_dict(pruned)
    except (EvidenceError, AttributeError, OverflowError):
        return None


def _record_problems(
    record: EvidenceRecord, data: Any, where: Mapping[str, str], *, part: str
) -> list[str]:
    """Faults of a decoded record: another id, altered content. (Signatures, timestamps, kinds
    and the rest are the trust check's: :func:`aims_mlops.evidence.check_record`.)"""
    problems: list[str] = []
    if record.id != where["id"]:
        problems.append(PROBLEM_ID_MISMATCH.format(other=record.id, **where))
    intact = record.is_intact(stored=data if isinstance(data, Mapping) else None)
    if not intact:
        problems.append(PROBLEM_ALTERED.format(where=part, **where))
    return problems


def parse_stored(
    *,
    run_id: str,
    record_id: str,
    value: str,
    fetch: ArtifactFetcher,
) -> StoredRecord:
    """Parse and check one evidence tag of ``run_id``; ``fetch`` is called only for a pointer
    (to read the artifact it names). Every problem found is listed; ``record`` is set only when
    there is none."""
    where = {"id": record_id, "run_id": run_id}
    if not SAFE_ID_RE.match(record_id):
        return StoredRecord(
            record_id, run_id, None, None, False, (PROBLEM_UNSAFE_ID.format(**where),)
        )
    data, problem, pruned = _decode(value, PROBLEM_NOT_JSON, where, None)
    if problem is not None:
        return StoredRecord(record_id, run_id, None, _salvage(pruned), False, (problem,))
    pointer = is_pointer(data)
    part, shown, pointed_hash = "tag", "", None
    if pointer:
        target = pointer_target(data)
        shown = target or str(data["artifact"])
        try:
            text = fetch(target) if target is not None else None
        except ArtifactTooLarge as exc:
            problem = PROBLEM_REFUSED.format(part=f"artifact {shown}", error=exc, **where)
            return StoredRecord(record_id, run_id, None, None, True, (problem,))
        if text is None:
            problem = PROBLEM_ARTIFACT_MISSING.format(path=shown, **where)
            return StoredRecord(record_id, run_id, None, None, True, (problem,))
        pointed_hash = data["content_hash"]
        data, problem, pruned = _decode(text, PROBLEM_ARTIFACT_UNREADABLE, where, shown)
        if problem is not None:
            return StoredRecord(record_id, run_id, None, _salvage(pruned), True, (problem,))
        part = "artifact"
    try:
        decoded = EvidenceRecord.from_dict(data)
    except (EvidenceError, AttributeError, OverflowError) as exc:
        malformed = PROBLEM_ARTIFACT_UNREADABLE if pointer else PROBLEM_MALFORMED
        problem = malformed.format(error=exc, path=shown, **where)
        return StoredRecord(record_id, run_id, None, None, pointer, (problem,))
    problems = _record_problems(decoded, data, where, part=part)
    if pointer and pointed_hash != decoded.content_hash:
        problems.append(PROBLEM_ARTIFACT_DIFFERS.format(path=shown, **where))
    record = None if problems else decoded
    return StoredRecord(record_id, run_id, record, decoded, pointer, tuple(problems))
