"""Tables that leave the system as files: CSV for other systems (DUO), XLSX for people.

A CSV opens in a spreadsheet only as well as the spreadsheet guesses: the separator follows the
reader's language settings, and a BSN such as 012345672 becomes the number 12345672. An .xlsx
says what every cell is: identifiers (BSN, kenmerk, BRIN) stay text, dates are dates shown as
dd-mm-jjjj, counts are numbers.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only when it starts with a byte order mark
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DATE_FORMAT = "dd-mm-yyyy"
_SHEET_TITLE_MAX = 31  # Excel's limit


@dataclass
class Table:
    """A header and rows of str / int / date / None (an empty cell). bom: the CSV starts with a
    byte order mark (for a file people open; a file only DUO reads goes without)."""

    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    bom: bool = False

    def to_csv(self) -> str:
        """';'-separated, CRLF, dates as JJJJ-MM-DD (what DUO reads)."""
        out = io.StringIO()
        if self.bom:
            out.write(BOM)
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(self.header)
        for row in self.rows:
            writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v
                             for v in row])
        return out.getvalue()

    def to_xlsx(self) -> bytes:
        """One sheet: a bold, frozen header row with a filter, every cell of its own type."""
        book = Workbook(write_only=True)
        sheet = book.create_sheet(self.title[:_SHEET_TITLE_MAX])
        widths = [len(h) for h in self.header]
        for row in self.rows:
            for k, value in enumerate(row):
                shown = 10 if isinstance(value, date) else len(str(value)) if value is not None else 0
                widths[k] = max(widths[k], shown)
        for k, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(k)].width = min(width + 2, 60)
        sheet.freeze_panes = "A2"
        last = f"{get_column_letter(len(self.header))}{len(self.rows) + 1}"
        sheet.auto_filter.ref = f"A1:{last}"
        bold = Font(bold=True)
        header = []
        for name in self.header:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in self.rows:
            cells = []
            for value in row:
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, date):
                    cell.number_format = _DATE_FORMAT
                elif isinstance(value, str):
                    cell.number_format = "@"  # text: 012345672 keeps its 0
                cells.append(cell)
            sheet.append(cells)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
