"""A table as a file download: CSV (for other systems) or .xlsx (for a spreadsheet)."""
from __future__ import annotations

from flask import Response

from casework.services.tabular import XLSX_MIMETYPE, Table


def download(table: Table, name: str, *, xlsx: bool) -> Response:
    """name.xlsx or name.csv as an attachment."""
    if xlsx:
        body, mimetype, filename = table.to_xlsx(), XLSX_MIMETYPE, f"{name}.xlsx"
    else:
        body, mimetype, filename = table.to_csv().encode("utf-8"), "text/csv", f"{name}.csv"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
