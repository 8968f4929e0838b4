"""Records name their store: which records another store's id (a replay) makes a finding. Pure."""

from __future__ import annotations

from datetime import datetime

from aims_mlops.evidence import CLOCK_SKEW, EvidenceRecord, parse_timestamp

WHY_OTHER_STORE = (
    "it was written for store {theirs}, not this store ({ours}): a record copied from another "
    "store (a replay) is not evidence here"
)
WHY_STORE_HAS_NO_ID = (
    "it names store {theirs}, but this store has no id: a record copied from another store, or "
    "the store's id was removed"
)
WHY_NO_STORE = (
    "it names no store, but was collected at {when}, after this store got its id {ours} (on "
    "{created}): records written since then name it, so this one was copied from elsewhere"
)


def store_problem(
    record: EvidenceRecord, *, store_id: str | None, created_at: str | None
) -> str | None:
    """Why ``record`` does not belong to this store (None: it does).

    A record naming this store's id belongs; one naming another id never does. A record naming
    no store (written before stores had ids) is judged as before when collected before the store
    got its id (``created_at``), and is a finding when collected later."""
    theirs = record.store_id
    if theirs is not None:
        if store_id is None:
            return WHY_STORE_HAS_NO_ID.format(theirs=theirs)
        return None if theirs == store_id else WHY_OTHER_STORE.format(theirs=theirs, ours=store_id)
    if store_id is None or created_at is None:
        return None
    try:
        created: datetime = parse_timestamp(created_at)
    except ValueError:
        return None
    if record.collected - created > CLOCK_SKEW:
        return WHY_NO_STORE.format(when=record.collected_at, ours=store_id, created=created_at)
    return None
