"""The AIMS documents' file formats: Markdown with a YAML front matter, or Word (.docx, via
python-docx, imported on first use) with the same header as its first table; and reading either
back: the header and the places a person has still to complete (``[TO COMPLETE: ...]``).

Reading is stdlib + PyYAML for Markdown; a file that is not an AIMS document (no header naming a
``document_id``) reads as None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: The mark of a place a person must complete (with what to write after the colon).
MARK = "[TO COMPLETE: {ask}]"
MARK_RE = re.compile(r"\[TO COMPLETE\b[^\]]*\]")
#: Header fields, in the order written.
HEADER_FIELDS = (
    "document_id",
    "title",
    "version",
    "owner",
    "approver",
    "next_review",
    "entries",
    "system",
    "suppliers",
)
_FRONT = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n", re.DOTALL)


@dataclass(frozen=True, kw_only=True)
class Section:
    """One section: its heading and its text (lines; marks included)."""

    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class AimsDocument:
    """A document of the set as read back: its header and its open marks."""

    header: Mapping[str, Any]
    open_marks: tuple[str, ...]

    def facts(self) -> dict[str, Any]:
        """What an attestation records about the document (``details["aims_document"]``)."""
        entries = self.header.get("entries") or []
        if isinstance(entries, str):
            entries = [e.strip() for e in entries.split(",") if e.strip()]
        facts = {
            "id": str(self.header.get("document_id")),
            "title": _text(self.header.get("title")),
            "version": _text(self.header.get("version")),
            "owner": _text(self.header.get("owner")),
            "approver": _text(self.header.get("approver")),
            "next_review": _text(self.header.get("next_review")),
            "entries": [str(e) for e in entries],
            "open_marks": len(self.open_marks),
            "marks": [m[:120] for m in self.open_marks[:10]],
        }
        suppliers = self.header.get("suppliers")
        if isinstance(suppliers, str):
            suppliers = [s.strip() for s in suppliers.split(",") if s.strip()]
        if suppliers:
            facts["suppliers"] = [str(s) for s in suppliers]
        if self.header.get("system"):
            facts["system"] = str(self.header["system"])
        return facts


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _header_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


# ----------------------------------------------------------------------------------- Markdown
def render_markdown(header: Mapping[str, Any], sections: Sequence[Section]) -> str:
    """The document as Markdown: the YAML front matter, the title, then each section."""
    head = {k: header[k] for k in HEADER_FIELDS if header.get(k) not in (None, [], "")}
    lines = ["---", yaml.safe_dump(head, sort_keys=False, allow_unicode=True).rstrip(), "---", ""]
    lines.append(f"# {header['title']}")
    lines.append("")
    for section in sections:
        lines.append(f"## {section.heading}")
        lines.append("")
        lines.extend(section.lines)
        lines.append("")
    return "\n".join(lines)


def read_markdown(text: str) -> AimsDocument | None:
    """The header and open marks of a Markdown AIMS document (None: not one)."""
    match = _FRONT.match(text)
    if match is None:
        return None
    try:
        header = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return None
    if not isinstance(header, dict) or not header.get("document_id"):
        return None
    marks = tuple(MARK_RE.findall(text))
    return AimsDocument(header=header, open_marks=marks)


# ------------------------------------------------------------------------------------- Word
def write_docx(path: Path, header: Mapping[str, Any], sections: Sequence[Section]) -> None:
    """The document as Word: the header as its first table (field, value), then the title and
    the sections (python-docx)."""
    import docx

    document = docx.Document()
    document.add_heading(str(header["title"]), level=0)
    fields = [k for k in HEADER_FIELDS if header.get(k) not in (None, [], "")]
    table = document.add_table(rows=len(fields), cols=2)
    for row, key in zip(table.rows, fields, strict=True):
        row.cells[0].text = key
        row.cells[1].text = _header_value(header[key])
    for section in sections:
        document.add_heading(section.heading, level=1)
        for line in section.lines:
            if line.strip():
                document.add_paragraph(line)
    document.save(str(path))


def read_docx(path: Path) -> AimsDocument | None:
    """The header (the first table) and open marks of a Word AIMS document (None: not one)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError):
        return None
    if not document.tables:
        return None
    header: dict[str, Any] = {}
    for row in document.tables[0].rows:
        if len(row.cells) >= 2:
            header[row.cells[0].text.strip()] = row.cells[1].text.strip()
    if not header.get("document_id"):
        return None
    texts = [p.text for p in document.paragraphs]
    texts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    marks = tuple(m for t in texts for m in MARK_RE.findall(t))
    return AimsDocument(header=header, open_marks=marks)


def read_document(path: str | Path) -> AimsDocument | None:
    """Read an AIMS document back, Markdown or Word (None: not an AIMS document, or not a
    readable local file)."""
    file = Path(path)
    if not file.is_file():
        return None
    if file.suffix.lower() == ".docx":
        return read_docx(file)
    try:
        return read_markdown(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
