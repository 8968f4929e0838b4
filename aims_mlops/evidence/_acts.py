"""A person's acts: the records a named person vouches for, and who that person is.

An attestation, an internal audit, a management review, an approval of the configuration, a
nonconformity's corrective action or check of effectiveness (a record that ``amends`` one), a
risk acceptance, the report that closes an incident, a person's training and their
acknowledgement of the AI policy are acts of a person: each is signed
with that person's own key (aims.yaml ``people[].public_keys``), never with the pipeline key,
so the name in it is proven by the signature, not typed. :func:`actor_of` names the person a
record speaks for. Which kinds are acts, and which detail names the person, is the kinds
registry's (``EvidenceKind.actor`` / ``act_when``): one mapping.
"""

from __future__ import annotations

from collections.abc import Mapping

from aims_mlops.evidence._kinds import ACTED_BY, load_kinds
from aims_mlops.evidence._record import EvidenceRecord

__all__ = ["ACTED_BY", "actor_field", "actor_of", "is_person_act"]


def actor_field(kind: str) -> str | None:
    """The detail naming the person whose act a record of ``kind`` is: the kinds registry's
    ``actor`` (the one mapping), None for a kind that is no person's act."""
    kinds = load_kinds()
    return kinds.get(kind).actor if kind in kinds else None


def is_person_act(record: EvidenceRecord) -> bool:
    """Whether ``record`` is an act of a named person (see the module docstring)."""
    kinds = load_kinds()
    if record.kind not in kinds or kinds.get(record.kind).actor is None:
        return False
    needed = kinds.get(record.kind).act_when
    details = record.details if isinstance(record.details, Mapping) else {}
    return needed is None or details.get(needed) is not None


def actor_of(record: EvidenceRecord) -> str | None:
    """The person whose act ``record`` is (None: not a person's act, or no name in it)."""
    if not is_person_act(record):
        return None
    details = record.details if isinstance(record.details, Mapping) else {}
    name = details.get(ACTED_BY) or details.get(actor_field(record.kind) or ACTED_BY)
    return name if isinstance(name, str) and name.strip() else None
