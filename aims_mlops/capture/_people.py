"""Competence and awareness records (clauses 7.2, 7.3): ``aims record training`` and
``aims record acknowledgement``, each the act of a person of ``people:`` in aims.yaml, signed with
that person's own key (``--key`` or ``$AIMS_PERSON_KEY``; never the pipeline key:
:func:`aims_mlops.capture._acts.act_signing_key`), written through the one writer."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from aims_mlops.capture._acts import act_signing_key
from aims_mlops.capture._context import CaptureContext
from aims_mlops.capture._process import (
    ProcessRecordError,
    _config,
    _day,
    _name,
    _now,
    document_bytes,
)
from aims_mlops.capture._writer import emit
from aims_mlops.catalog import catalog_record
from aims_mlops.documents import load_documents, read_document
from aims_mlops.engine._programme import same_person
from aims_mlops.evidence import EvidenceRecord

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.evidence import SigningKey

TRAINING_KIND = "training"
ACKNOWLEDGEMENT_KIND = "acknowledgement"
COLLECTOR = "aims_mlops.record"

ERROR_NOT_A_PERSON = (
    "{person!r} is not in aims.yaml people: list the person (name, roles) before recording "
    "their {what}"
)
ERROR_UNKNOWN_DOCUMENT = (
    "--document {document!r} is neither a document id of the AIMS set ({known}) nor a file"
)
ERROR_BAD_DATE = "--date {value!r} is not a date (YYYY-MM-DD)"


def _person(config: AimsConfig, name: str, what: str) -> str:
    who = _name(name, "--person")
    for person in config.people:
        if same_person(person.name, who):
            return person.name
    raise ProcessRecordError(ERROR_NOT_A_PERSON.format(person=who, what=what))


def _emit_signed(
    config: AimsConfig,
    config_path: Path | None,
    record: EvidenceRecord,
    key: SigningKey | str | os.PathLike[str] | None,
    artifacts: dict[str, bytes] | None = None,
) -> EvidenceRecord:
    """Store ``record``, the act of its ``person``, signed with that person's own key."""
    _, signing = act_signing_key(
        config, config_path=config_path, by=str(record.details["person"]), key=key
    )
    context = CaptureContext.from_config(config, system=None, config_path=config_path)
    return emit(replace(context, act_key=signing), record, artifacts=artifacts)


def record_training(
    *,
    person: str,
    topic: str,
    date: str | dt.date,
    evidence: str | os.PathLike[str] | None = None,
    key: SigningKey | str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    now: dt.datetime | None = None,
) -> EvidenceRecord:
    """Record that ``person`` (of ``people:``) was trained on ``topic`` on ``date``; the
    ``evidence`` file (certificate, attendance list) is hashed and attached. The record is the
    person's act, signed with their own ``key`` (default ``$AIMS_PERSON_KEY``)."""
    cfg, cfg_path = _config(config)
    moment = now or _now()
    who = _person(cfg, person, "training")
    subject = _name(topic, "--topic")
    try:
        day = _day(date, moment.date())
    except ValueError as exc:
        raise ProcessRecordError(ERROR_BAD_DATE.format(value=date)) from exc
    details: dict[str, object] = {"person": who, "topic": subject, "date": day.isoformat()}
    artifacts = None
    if evidence is not None:
        path, data = document_bytes(evidence, option="--evidence")
        details["evidence"] = str(Path(path).resolve())
        details["evidence_sha256"] = hashlib.sha256(data).hexdigest()
        artifacts = {f"training/{path.name}": data}
    record = catalog_record(
        kind=TRAINING_KIND,
        system=None,
        outcome="pass",
        collector=COLLECTOR,
        details=details,
    )
    return _emit_signed(cfg, cfg_path, record, key, artifacts)


def record_acknowledgement(
    *,
    person: str,
    document: str,
    key: SigningKey | str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | AimsConfig | None = None,
) -> EvidenceRecord:
    """Record that ``person`` (of ``people:``) acknowledged ``document``: a document id of the
    AIMS set (``AIMS-05``, the AI policy) or a file (its id and version are read from its header
    when it is a document of the set, and its SHA-256 recorded). The person's act, signed with
    their own ``key`` (default ``$AIMS_PERSON_KEY``)."""
    cfg, cfg_path = _config(config)
    who = _person(cfg, person, "acknowledgement")
    text = _name(document, "--document")
    known = {d.id for d in load_documents()}
    details: dict[str, object] = {"person": who}
    file = Path(text)
    if text in known:
        details["document"] = text
    elif file.is_file():
        path, data = document_bytes(file, option="--document")
        read = read_document(path)
        details["document"] = str(read.header.get("document_id")) if read else str(path.resolve())
        if read is not None and read.header.get("version") is not None:
            details["version"] = str(read.header["version"])
        details["document_sha256"] = hashlib.sha256(data).hexdigest()
    else:
        raise ProcessRecordError(
            ERROR_UNKNOWN_DOCUMENT.format(document=text, known=", ".join(sorted(known)[:3]) + ", …")
        )
    record = catalog_record(
        kind=ACKNOWLEDGEMENT_KIND,
        system=None,
        outcome="pass",
        collector=COLLECTOR,
        details=details,
    )
    return _emit_signed(cfg, cfg_path, record, key)
