"""Charts as inline SVG, rendered on the server: no script, no outside library, nothing the
Content-Security-Policy blocks (presentation attributes only, no style attributes).

Every chart is an <svg role="img"> with a <title> and a <desc> it is labelled by; the page puts
the same numbers in a <table> right below it, for screen readers and for copying. A suppressed
count ("< 5") draws no bar or point, only its text.
"""
from __future__ import annotations

import math

from markupsafe import Markup, escape

from casework.formatting import format_getal

Value = int | str

# Dark enough for text on white (WCAG AA), told apart by dash and marker too, not by colour alone.
COLOURS = ("#1f4e79", "#a04a00", "#2e6b30")
DASHES = ("", "7 4", "2 3")
FONT = 14
INK, MUTED, GRID = "#1b1b1b", "#545454", "#d0d0d0"


def format_aantal(value: Value) -> str:
    """A count the Dutch way (1.234); "< 5" stays as it is."""
    return format_getal(value) if isinstance(value, int) else str(value)


def _nice_max(top: int) -> tuple[int, int]:
    """An axis maximum and step with at most 5 gridlines: 1, 2 or 5 times a power of ten."""
    if top <= 0:
        return 1, 1
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(int(step), 1)
    return step * math.ceil(top / step), step


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    t_id, d_id = f"{chart_id}-titel", f"{chart_id}-uitleg"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart-svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{t_id} {d_id}" font-size="{FONT}" fill="{INK}">',
        f'<title id="{t_id}">{escape(title)}</title>',
        f'<desc id="{d_id}">{escape(desc)}</desc>',
    ]


def bar_chart(chart_id: str, title: str, items: list[tuple[str, Value]], *,
              desc: str = "De aantallen staan ook in de tabel onder de grafiek.") -> Markup:
    """Horizontal bars, one per (label, value); the value is written at the end of its bar."""
    label_w, bar_w, value_w, row_h, top = 230, 340, 60, 30, 8
    width = label_w + bar_w + value_w
    height = top * 2 + row_h * max(len(items), 1)
    numbers = [v for _, v in items if isinstance(v, int)]
    scale_max = max(numbers, default=0) or 1
    parts = _open(chart_id, title, desc, width, height)
    parts.append(f'<line x1="{label_w}" y1="{top}" x2="{label_w}" y2="{height - top}" '
                 f'stroke="{MUTED}" stroke-width="1"/>')
    for k, (label, value) in enumerate(items):
        y = top + k * row_h
        middle = y + row_h / 2 + FONT * 0.35
        parts.append(f'<text x="{label_w - 8}" y="{middle:.1f}" text-anchor="end">{escape(label)}</text>')
        length = 0.0
        if isinstance(value, int) and value > 0:
            length = max(bar_w * value / scale_max, 2)
            parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{length:.1f}" height="{row_h - 10}" '
                         f'fill="{COLOURS[0]}"/>')
        parts.append(f'<text x="{label_w + length + 6:.1f}" y="{middle:.1f}" '
                     f'fill="{INK if isinstance(value, int) else MUTED}">{escape(format_aantal(value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(chart_id: str, title: str, categories: list[str],
               series: list[tuple[str, list[Value]]], *,
               desc: str = "De aantallen staan ook in de tabel onder de grafiek.") -> Markup:
    """Lines over time (months or quarters), at most three series, with a legend on top.

    A suppressed value breaks the line and shows "< 5" at the bottom of its column.
    """
    numbers = [v for _, values in series for v in values if isinstance(v, int)]
    hidden = any(not isinstance(v, int) for _, values in series for v in values)
    # With a "< 5" in the chart the axis reaches 5 at least, so its text has room below 5.
    axis_max, step = _nice_max(max(numbers + ([5] if hidden else []), default=0))
    # Room for the widest axis number (20.000) and category label (2026 K4*): digits are about
    # 0.6 of the font size wide.
    left = 16 + math.ceil(FONT * 0.62 * len(format_aantal(axis_max)))
    right, top, bottom = 16, 40, 46
    per_category = max(60, 12 + math.ceil(FONT * 0.62 * max(map(len, categories), default=0)))
    plot_w = max(per_category * len(categories), 360)
    plot_h = 220
    width, height = left + plot_w + right, top + plot_h + bottom
    slot = plot_w / max(len(categories), 1)

    def x(k: int) -> float:
        return left + slot * (k + 0.5)

    def y(value: int) -> float:
        return top + plot_h - plot_h * value / axis_max

    parts = _open(chart_id, title, desc, width, height)
    for tick in range(0, axis_max + 1, step):
        ty = y(tick)
        parts.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{left + plot_w}" y2="{ty:.1f}" '
                     f'stroke="{GRID if tick else MUTED}" stroke-width="1"/>')
        parts.append(f'<text x="{left - 8}" y="{ty + FONT * 0.35:.1f}" text-anchor="end" '
                     f'fill="{MUTED}">{format_aantal(tick)}</text>')
    for k, label in enumerate(categories):
        parts.append(f'<text x="{x(k):.1f}" y="{top + plot_h + 20}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    # legend
    lx = left
    for s, (name, _) in enumerate(series):
        colour, dash = COLOURS[s % 3], DASHES[s % 3]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<line x1="{lx}" y1="16" x2="{lx + 28}" y2="16" stroke="{colour}" '
                     f'stroke-width="3"{dash_attr}/>')
        parts.append(_marker(s, lx + 14, 16, colour))
        parts.append(f'<text x="{lx + 34}" y="{16 + FONT * 0.35:.1f}">{escape(name)}</text>')
        lx += 44 + 8 * len(name)
    for s, (_, values) in enumerate(series):
        colour, dash = COLOURS[s % 3], DASHES[s % 3]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        run: list[str] = []
        for k, value in enumerate([*values, None]):
            if isinstance(value, int):
                run.append(f"{x(k):.1f},{y(value):.1f}")
                continue
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                             f'stroke-width="2.5"{dash_attr}/>')
            run = []
            if value is not None:  # suppressed
                parts.append(f'<text x="{x(k):.1f}" y="{top + plot_h - 6 - 14 * s}" '
                             f'text-anchor="middle" fill="{colour}">{escape(format_aantal(value))}</text>')
        for k, value in enumerate(values):
            if isinstance(value, int):
                parts.append(_marker(s, x(k), y(value), colour))
    parts.append("</svg>")
    return Markup("".join(parts))


def _marker(series: int, cx: float, cy: float, colour: str) -> str:
    if series % 3 == 0:
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}"/>'
    if series % 3 == 1:
        return f'<rect x="{cx - 4:.1f}" y="{cy - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    return (f'<polygon points="{cx:.1f},{cy - 5:.1f} {cx + 5:.1f},{cy + 4:.1f} '
            f'{cx - 5:.1f},{cy + 4:.1f}" fill="{colour}"/>')
