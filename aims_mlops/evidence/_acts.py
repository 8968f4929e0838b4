"""A person's acts: the records a named person vouches for, and who that person is.

An attestation, an internal audit, a management review, an approval of the configuration, a
nonconformity's corrective action or check of effectiveness (a record that ``amends`` one), a
risk acceptance and the report that closes an incident are acts of a person: each is signed
with that person's own key (aims.yaml ``people[].public_keys``), never with the pipeline key,
so the name in it is proven by the signature, not typed. :func:`actor_of` names the person a
record speaks for.
"""

from __future__ import annotations

from collections.abc import Mapping

from aims_mlops.evidence._record import EvidenceRecord

#: The detail every person's act carries: the name of the person who signed it.
ACTED_BY = "acted_by"
#: kind -> the detail that names the person (when ``acted_by`` is absent: older records).
ACTOR_FIELDS: Mapping[str, str] = {
    "attestation": "by",
    "internal_audit": "auditor",
    "management_review": "chair",
    "configuration_approval": "by",
    "risk_acceptance": "by",
    "nonconformity": "verified_by",
    "incident": ACTED_BY,
}
#: kinds whose records are a person's act only when they hold this detail (the others always).
_ACT_WHEN: Mapping[str, str] = {"nonconformity": "amends", "incident": "closes"}


def is_person_act(record: EvidenceRecord) -> bool:
    """Whether ``record`` is an act of a named person (see the module docstring)."""
    if record.kind not in ACTOR_FIELDS:
        return False
    needed = _ACT_WHEN.get(record.kind)
    details = record.details if isinstance(record.details, Mapping) else {}
    return needed is None or details.get(needed) is not None


def actor_of(record: EvidenceRecord) -> str | None:
    """The person whose act ``record`` is (None: not a person's act, or no name in it)."""
    if not is_person_act(record):
        return None
    details = record.details if isinstance(record.details, Mapping) else {}
    name = details.get(ACTED_BY) or details.get(ACTOR_FIELDS[record.kind])
    return name if isinstance(name, str) and name.strip() else None
