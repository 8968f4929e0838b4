"""The Statement of Applicability as an Excel workbook (openpyxl, imported on use).

Cells are never formulas: every text is neutralized (:func:`aims_mlops._escape.spreadsheet_cell`)
and stored with data type string, so ``=HYPERLINK(...)`` in a justification stays text.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from aims_mlops._escape import spreadsheet_cell

#: Sheet columns: (header, row key, width in characters).
SOA_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("Control", "control", 10),
    ("Title", "title", 40),
    ("Objective", "group", 10),
    ("Applicable", "applicable", 12),
    ("Justification", "justification", 60),
    ("Implementation", "implementation", 22),
    ("Systems", "systems", 34),
    ("Linked risks", "linked_risks", 14),
    ("Evidence", "evidence", 40),
)
SHEET_TITLE = "Statement of Applicability"
HEADER_FILL = "1F4E79"
IMPLEMENTATION_FILLS: dict[str, str] = {
    "implemented": "D9EAD3",
    "partially implemented": "FFF2CC",
    "not implemented": "F4CCCC",
    "not applicable": "E7E6E6",
}


def _cell(key: str, value: Any) -> Any:
    if key == "applicable":
        return "Yes" if value else "No"
    if isinstance(value, Mapping):
        return spreadsheet_cell("\n".join(f"{k}: {v}" for k, v in value.items()))
    if isinstance(value, list | tuple):
        return spreadsheet_cell("\n".join(str(v) for v in value))
    return "" if value is None else spreadsheet_cell(value)


def soa_workbook(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """An .xlsx of the SoA rows (``aims_mlops.engine.soa_rows``): styled frozen header, column
    widths, wrapped text, an autofilter, implementation cells tinted by state."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    thin = Side(style="thin", color="BFBFBF")
    border = Border(bottom=thin)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor=HEADER_FILL)
    for col, (header, _, width) in enumerate(SOA_COLUMNS, 1):
        cell = sheet.cell(row=1, column=col, value=header)
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.row_dimensions[1].height = 22
    wrap = Alignment(vertical="top", wrap_text=True)
    for r, row in enumerate(rows, 2):
        for col, (_, key, _) in enumerate(SOA_COLUMNS, 1):
            value = _cell(key, row.get(key))
            cell = sheet.cell(row=r, column=col, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would store a text starting with "=" as a formula
            cell.alignment = wrap
            cell.border = border
            if key == "implementation" and row.get(key) in IMPLEMENTATION_FILLS:
                cell.fill = PatternFill("solid", fgColor=IMPLEMENTATION_FILLS[str(row[key])])
    last_col = get_column_letter(len(SOA_COLUMNS))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last_col}{max(1, len(rows)) + 1}"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
