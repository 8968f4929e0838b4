"""``aims docs init``: write the AIMS document set, pre-filled from what the tool knows, with
marked places a person must complete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsError
from aims_mlops._files import write_atomically
from aims_mlops.documents._fill import ROLE_TOP_MANAGEMENT, Facts, mark
from aims_mlops.documents._format import MARK_RE, Section, render_markdown, write_docx
from aims_mlops.documents._set import DocumentSpec, load_documents
from aims_mlops.documents._suppliers import find_suppliers

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig, SystemConfig
    from aims_mlops.evidence import EvidenceRecord

FORMATS = ("md", "docx")
FIRST_VERSION = "0.1"
ERROR_DOCS_EXIST = (
    "{dir} already holds {files} of the document set; pass --force to overwrite (nothing written)"
)
ERROR_DOCS_FORMAT = "format must be one of {formats}; got {fmt!r}"
ERROR_DOCS_DIR = "{dir} is not a folder"


@dataclass(frozen=True, kw_only=True)
class DraftDocument:
    """One document ready to write: its file name, header and sections."""
    file: str
    header: Mapping[str, Any]
    sections: tuple[Section, ...]
    spec: DocumentSpec

    @property
    def open_marks(self) -> int:
        return sum(len(MARK_RE.findall(line)) for s in self.sections for line in s.lines) + sum(
            len(MARK_RE.findall(str(v))) for v in self.header.values()
        )


def approver_for(config: AimsConfig, entries: Sequence[str]) -> str:
    """Who approves a document: the first person ``approvers`` names for its first entry (a
    role resolved to the first person holding it), else the first top-management person; else a
    place to complete."""
    for entry in entries:
        for name in config.approvers_for(entry) or ():
            holders = config.people_with_role(name)
            return holders[0].name if holders else name
    top = config.people_with_role(ROLE_TOP_MANAGEMENT)
    if top:
        return top[0].name
    return mark("who approves this document")


def draft_documents(
    config: AimsConfig,
    records: Sequence[EvidenceRecord] = (),
    *,
    obligations: Mapping[str, list[dict[str, Any]]] | None = None,
    today: date,
) -> list[DraftDocument]:
    """The document set for ``config`` and ``records`` (pure)."""
    drafts: list[DraftDocument] = []
    systems: list[SystemConfig | None]
    for spec in load_documents():
        systems = list(config.assessed_systems) if spec.per_system else [None]
        for system in systems:
            facts = Facts(
                config=config,
                records=tuple(records),
                obligations=obligations or {},
                system=system,
                entries=spec.entries,
            )
            fillers = facts.fillers()
            sections = tuple(
                Section(
                    heading=s.heading,
                    lines=tuple(fillers[s.fill]() if s.fill else [mark(s.ask or s.heading)]),
                )
                for s in spec.sections
            )
            owner = (
                system.owner if system is not None else config.organization.policy_owner
            ) or mark("the owner of this document")
            header: dict[str, Any] = {
                "document_id": spec.id if system is None else f"{spec.id}-{system.id}",
                "title": spec.title if system is None else f"{spec.title}: {system.name}",
                "version": FIRST_VERSION,
                "owner": owner,
                "approver": approver_for(config, spec.entries),
                "next_review": (today + timedelta(days=spec.review_days)).isoformat(),
                "entries": list(spec.entries),
                "system": system.id if system is not None else None,
            }
            if "suppliers" in {s.fill for s in spec.sections}:
                header["suppliers"] = [s.name for s in find_suppliers(config, records)]
            file = spec.file if system is None else f"{spec.file}-{system.id}"
            drafts.append(DraftDocument(file=file, header=header, sections=sections, spec=spec))
    return drafts


ERROR_UNKNOWN_DOCUMENTS = "--only {unknown}: no such document in the set (known: {known})"


def select_documents(drafts: Sequence[DraftDocument], only: Sequence[str]) -> list[DraftDocument]:
    """The drafts whose document id (``AIMS-22``, ``AIMS-18-<system>``) or spec id is in
    ``only`` (empty: all); :class:`AimsError` naming an id the set does not hold."""
    if not only:
        return list(drafts)
    wanted = set(only)
    ids = {str(d.header["document_id"]) for d in drafts} | {d.spec.id for d in drafts}
    unknown = sorted(wanted - ids)
    if unknown:
        known = ", ".join(sorted({d.spec.id for d in drafts}))
        raise AimsError(ERROR_UNKNOWN_DOCUMENTS.format(unknown=", ".join(unknown), known=known))
    return [d for d in drafts if str(d.header["document_id"]) in wanted or d.spec.id in wanted]


def write_documents(
    drafts: Sequence[DraftDocument], directory: Path, *, fmt: str = "md", force: bool = False
) -> list[Path]:
    """Write the drafts into ``directory`` (created when missing). Refuses, writing nothing, when
    a file of the set is already there unless ``force``."""
    if fmt not in FORMATS:
        raise AimsError(ERROR_DOCS_FORMAT.format(formats=", ".join(FORMATS), fmt=fmt))
    if directory.exists() and not directory.is_dir():
        raise AimsError(ERROR_DOCS_DIR.format(dir=directory))
    paths = [directory / f"{d.file}.{fmt}" for d in drafts]
    existing = [p.name for p in paths if p.exists()]
    if existing and not force:
        shown = ", ".join(existing[:3]) + (
            f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        )
        raise AimsError(ERROR_DOCS_EXIST.format(dir=directory, files=shown))
    directory.mkdir(parents=True, exist_ok=True)
    for draft, path in zip(drafts, paths, strict=True):
        if fmt == "md":
            write_atomically(path, render_markdown(draft.header, draft.sections))
        else:
            partial = path.with_name(f".{path.name}.partial")
            write_docx(partial, draft.header, draft.sections)
            partial.replace(path)
    return paths
