"""The AIMS document set: the documented information the catalog's attestation parts name,
written pre-filled (``aims docs init``, Markdown or Word), read back (header and the places a
person must still complete), and the suppliers found in lineage.

An attestation of a document of the set records its header and open marks
(``details["aims_document"]``); the engine does not count it while marks remain, or when
someone other than the header's approver attested it.
"""

from aims_mlops.documents._format import (
    MARK,
    MARK_RE,
    AimsDocument,
    Section,
    read_document,
    render_markdown,
)
from aims_mlops.documents._init import (
    ERROR_DOCS_EXIST,
    FORMATS,
    DraftDocument,
    draft_documents,
    select_documents,
    write_documents,
)
from aims_mlops.documents._set import DocumentSpec, document_for, load_documents
from aims_mlops.documents._suppliers import Supplier, find_suppliers

__all__ = [
    "ERROR_DOCS_EXIST",
    "FORMATS",
    "MARK",
    "MARK_RE",
    "AimsDocument",
    "DocumentSpec",
    "DraftDocument",
    "Section",
    "Supplier",
    "document_for",
    "draft_documents",
    "find_suppliers",
    "load_documents",
    "read_document",
    "render_markdown",
    "select_documents",
    "write_documents",
]
