"""Attested documents of the AIMS document set (pure): an attestation counts only when its
document holds no place still to complete, names the entry attested, and was attested by the
approver its header names (``details["aims_document"]``, recorded by ``attest``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aims_mlops.engine._programme import same_person

MARK_PREFIX = "[TO COMPLETE"

PROBLEM_MARKS = "document {id} still holds {count} place{s} to complete ({first})"
PROBLEM_NO_APPROVER = "document {id} names no approver in its header"
PROBLEM_NOT_APPROVER = "document {id} names {approver} as its approver, but {by} attested it"
PROBLEM_OTHER_ENTRY = "document {id} serves {entries}, not {control}"


def document_problems(facts: Mapping[str, Any], *, control: str, by: str) -> list[str]:
    """Why an attestation of a document of the set does not count (empty: it may)."""
    doc = str(facts.get("id") or "?")
    problems: list[str] = []
    count = int(facts.get("open_marks") or 0)
    if count:
        marks = facts.get("marks") or []
        problems.append(
            PROBLEM_MARKS.format(
                id=doc, count=count, s="s" if count != 1 else "", first=marks[0] if marks else "?"
            )
        )
    approver = str(facts.get("approver") or "").strip()
    if not approver or MARK_PREFIX in approver:
        problems.append(PROBLEM_NO_APPROVER.format(id=doc))
    elif not same_person(approver, by):
        problems.append(PROBLEM_NOT_APPROVER.format(id=doc, approver=approver, by=by))
    entries = [str(e) for e in facts.get("entries") or []]
    if entries and control not in entries:
        problems.append(
            PROBLEM_OTHER_ENTRY.format(id=doc, entries=", ".join(entries), control=control)
        )
    return problems
