"""Small-number suppression for counts that leave the gemeente (the SWV's regional view).

Rule (domain.md, Reporting): a count from 0 to 4 is shown as "< 5" so no child can be
recognised. A 0 is hidden too: next to the same table for a slightly different period (or a
week later) a shown 0 turns a shown 1 into one known child's verklaring; with 0 hidden, "< 5"
says only that the count is small.

Primary suppression alone is not enough: next to a shown total, one hidden cell in a row or
column is the total minus the others. Secondary suppression closes that, line by line:

1. a line (the cells of a row or column plus their total) in which exactly one value is
   hidden gets a second one hidden: the smallest shown non-zero cell of that line, or — when
   there is none — its total. A 0 is never chosen: a hidden 0 would be read back as 0 next to
   its partner (hidden cells are otherwise never 0);
2. a line whose hidden cells add up (total minus shown cells) to 0, or to 4 times their
   number, holds only zeros (or only fours): it too gets one more hidden;
3. repeat until no line changes, then solve the table's equations for the hidden cells
   (exact rational elimination): any hidden value the shown values still fix uniquely — e.g.
   through a chain of rows and columns — gets a neighbour in one of its lines hidden as well,
   and the whole check runs again.

This is the usual heuristic of statistics offices plus an exact linear check; it does not
run a full linear-programming audit of value ranges.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

SUPPRESSED = "< 5"
THRESHOLD = 5

Value = int | str
Pos = tuple[int, int]


def primary(value: int) -> Value:
    """One count on its own: 0 to 4 become "< 5"; 5 or more are shown."""
    return SUPPRESSED if value < THRESHOLD else value


@dataclass
class SuppressedTable:
    """A table of counts as it may be shown: cells[row][col], with optional margins."""

    cells: list[list[Value]]
    row_totals: list[Value] | None
    col_totals: list[Value] | None
    total: Value | None
    hidden: int  # how many values (cells and totals) are shown as "< 5"


@dataclass(frozen=True)
class _Line:
    members: tuple[Pos, ...]
    total: Pos


def suppress_table(cells: list[list[int]], *, row_totals: bool = True,
                   col_totals: bool = True, cols: int | None = None) -> SuppressedTable:
    """Suppress a rows x cols table of counts with its row and/or column totals (sums).

    Without row totals (e.g. a stock counted at the end of each quarter, where adding
    quarters means nothing) only the columns constrain; likewise without column totals.
    """
    n = len(cells)
    m = cols if cols is not None else (len(cells[0]) if n else 0)
    grid, lines = _structure(cells, m, row_totals, col_totals)
    hidden = {pos for pos, value in grid.items() if value < THRESHOLD}
    _secondary(grid, lines, hidden)

    def show(pos: Pos) -> Value:
        return SUPPRESSED if pos in hidden else grid[pos]

    return SuppressedTable(
        cells=[[show((i, j)) for j in range(m)] for i in range(n)],
        row_totals=[show((i, m)) for i in range(n)] if row_totals else None,
        col_totals=[show((n, j)) for j in range(m)] if col_totals else None,
        total=show((n, m)) if row_totals and col_totals else None,
        hidden=len(hidden),
    )


def recomputable(cells: list[list[int]], table: SuppressedTable) -> list[Pos]:
    """The hidden positions of a suppressed table that its shown values still fix exactly."""
    n = len(cells)
    m = len(table.cells[0]) if table.cells else len(table.col_totals or [])
    grid, lines = _structure(cells, m, table.row_totals is not None, table.col_totals is not None)
    shown: dict[Pos, Value] = {(i, j): table.cells[i][j] for i in range(n) for j in range(m)}
    shown.update({(i, m): v for i, v in enumerate(table.row_totals or [])})
    shown.update({(n, j): v for j, v in enumerate(table.col_totals or [])})
    if table.total is not None:
        shown[(n, m)] = table.total
    hidden = {pos for pos, value in shown.items() if value == SUPPRESSED}
    return determined(grid, lines, hidden)


def _structure(cells: list[list[int]], m: int, row_totals: bool,
               col_totals: bool) -> tuple[dict[Pos, int], list[_Line]]:
    """The table with its totals as one grid (totals in row n / column m), and its lines."""
    n = len(cells)
    if any(len(row) != m for row in cells):
        raise ValueError("every row needs the same number of cells")
    if any(v < 0 for row in cells for v in row):
        raise ValueError("counts are never negative")
    grid: dict[Pos, int] = {(i, j): cells[i][j] for i in range(n) for j in range(m)}
    lines: list[_Line] = []
    if row_totals:
        for i in range(n):
            grid[(i, m)] = sum(cells[i])
            lines.append(_Line(tuple((i, j) for j in range(m)), (i, m)))
    if col_totals:
        for j in range(m):
            grid[(n, j)] = sum(cells[i][j] for i in range(n))
            lines.append(_Line(tuple((i, j) for i in range(n)), (n, j)))
    if row_totals and col_totals:
        grid[(n, m)] = sum(grid[(i, j)] for i in range(n) for j in range(m))
        lines.append(_Line(tuple((n, j) for j in range(m)), (n, m)))
        lines.append(_Line(tuple((i, m) for i in range(n)), (n, m)))
    return grid, lines


def _secondary(grid: dict[Pos, int], lines: list[_Line], hidden: set[Pos]) -> None:
    while True:
        while _line_pass(grid, lines, hidden):
            pass
        exposed = determined(grid, lines, hidden)
        if not exposed:
            return
        if not _hide_neighbour(grid, lines, hidden, exposed[0]):
            return  # nothing left to hide around it (cannot happen with sums of counts)


def _line_pass(grid: dict[Pos, int], lines: list[_Line], hidden: set[Pos]) -> bool:
    changed = False
    for line in lines:
        in_line = [p for p in (*line.members, line.total) if p in hidden]
        if not in_line:
            continue
        exposed = len(in_line) == 1
        if not exposed and line.total not in hidden:
            hidden_sum = grid[line.total] - sum(grid[p] for p in line.members if p not in hidden)
            # Hidden cells are 0 to 4: a sum of 0 makes them all 0, one of 4 each all 4.
            exposed = hidden_sum in (0, len(in_line) * (THRESHOLD - 1))
        if exposed and _hide_in_line(grid, line, hidden):
            changed = True
    return changed


def _hide_in_line(grid: dict[Pos, int], line: _Line, hidden: set[Pos]) -> bool:
    """Hide the smallest shown non-zero cell of the line, else its total."""
    candidates = [p for p in line.members if p not in hidden and grid[p] > 0]
    if candidates:
        hidden.add(min(candidates, key=lambda p: (grid[p], p)))
        return True
    if line.total not in hidden:
        hidden.add(line.total)
        return True
    return False


def _hide_neighbour(grid: dict[Pos, int], lines: list[_Line], hidden: set[Pos], pos: Pos) -> bool:
    return any(_hide_in_line(grid, line, hidden) for line in lines
               if pos in line.members or pos == line.total)


def determined(grid: dict[Pos, int], lines: list[_Line], hidden: set[Pos]) -> list[Pos]:
    """The hidden positions whose value the shown values fix uniquely (sorted).

    Each line says sum(members) - total = 0. Over the hidden values that is a linear system;
    after reduction to row echelon form a hidden value is fixed exactly when it is a pivot
    whose row has no free (still undetermined) variable in it.
    """
    variables = sorted(hidden)
    index = {p: k for k, p in enumerate(variables)}
    rows: list[list[Fraction]] = []
    for line in lines:
        coef = [Fraction(0)] * len(variables)
        used = False
        for p in line.members:
            if p in index:
                coef[index[p]] += 1
                used = True
        if line.total in index:
            coef[index[line.total]] -= 1
            used = True
        if used:
            rows.append(coef)
    pivots = _rref(rows, len(variables))
    pivot_cols = {col for _, col in pivots}
    fixed = []
    for r, col in pivots:
        if all(rows[r][c] == 0 for c in range(len(variables)) if c not in pivot_cols):
            fixed.append(variables[col])
    return sorted(fixed)


def _rref(rows: list[list[Fraction]], width: int) -> list[tuple[int, int]]:
    """Reduce rows in place to reduced row echelon form; return (row, column) of each pivot."""
    pivots: list[tuple[int, int]] = []
    r = 0
    for col in range(width):
        pivot = next((k for k in range(r, len(rows)) if rows[k][col] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        lead = rows[r][col]
        rows[r] = [v / lead for v in rows[r]]
        for k in range(len(rows)):
            if k != r and rows[k][col] != 0:
                factor = rows[k][col]
                rows[k] = [a - factor * b for a, b in zip(rows[k], rows[r], strict=True)]
        pivots.append((r, col))
        r += 1
        if r == len(rows):
            break
    return pivots
