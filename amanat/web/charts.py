"""Server-rendered SVG charts for the dashboard: no script, readable right to left, small counts hidden.

A bar whose count is suppressed ("<5") is drawn at a fixed short length with a hatched fill, so its length
tells nothing the label does not. In right-to-left pages the bars grow from the right.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

from amanat.cases.dashboard import SMALL, Bar, suppress

ROW = 26
LABEL_W = 170
BAR_W = 200
VALUE_W = 50


def bar_chart(bars: Sequence[Bar], label: Callable[[str], str], *, rtl: bool, title: str) -> Markup:
    width = LABEL_W + BAR_W + VALUE_W
    height = max(1, len(bars)) * ROW + 6
    top = max((b.count for b in bars if not b.suppressed), default=SMALL) or SMALL
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'aria-label="{escape(title)}">',
             '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="3" height="6" fill="#9aa5b1"/></pattern></defs>']
    for i, bar in enumerate(bars):
        y = i * ROW + 4
        length = 18 if bar.suppressed else (0 if bar.count == 0 else max(2, round(BAR_W * bar.count / top)))
        fill = "url(#hatch)" if bar.suppressed else "#2f6f8f"
        if rtl:
            label_x, anchor = width - 4, "end"
            bar_x = width - LABEL_W - length
            value_x, value_anchor = bar_x - 6, "end"
        else:
            label_x, anchor = 4, "start"
            bar_x = LABEL_W
            value_x, value_anchor = bar_x + length + 6, "start"
        parts.append(f'<text x="{label_x}" y="{y + 16}" text-anchor="{anchor}" font-size="13">'
                     f'{escape(label(bar.key))}</text>')
        parts.append(f'<rect x="{bar_x}" y="{y + 3}" width="{length}" height="{ROW - 8}" fill="{fill}"/>')
        parts.append(f'<text x="{value_x}" y="{y + 16}" text-anchor="{value_anchor}" font-size="13" '
                     f'direction="ltr" unicode-bidi="isolate">{escape(bar.shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped  # nosec B704


def day_chart(days: Sequence[tuple[str, Mapping[str, int]]], *, rtl: bool, title: str) -> Markup:
    """Intake per day as columns (all channels together); days with 1–4 records are hatched at a fixed height."""
    width, height, pad = 620, 150, 24
    n = max(1, len(days))
    col = (width - 2 * pad) / n
    totals = [sum(v.values()) for _d, v in days]
    top = max((t for t in totals if t >= SMALL), default=SMALL)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'aria-label="{escape(title)}">',
             '<defs><pattern id="hatch2" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="3" height="6" fill="#9aa5b1"/></pattern></defs>']
    for i, ((day, _v), total) in enumerate(zip(days, totals, strict=True)):
        idx = n - 1 - i if rtl else i
        x = pad + idx * col
        small = 0 < total < SMALL
        h = 10 if small else (0 if total == 0 else max(2, (height - 2 * pad) * total / top))
        fill = "url(#hatch2)" if small else "#2f6f8f"
        parts.append(f'<rect x="{x + 1:.1f}" y="{height - pad - h:.1f}" width="{max(1, col - 2):.1f}" '
                     f'height="{h:.1f}" fill="{fill}"><title>{escape(day)}: {escape(suppress(total))}</title></rect>')
    first, last = (days[0][0], days[-1][0]) if days else ("", "")
    left, right = (last, first) if rtl else (first, last)
    parts.append(f'<text x="{pad}" y="{height - 6}" font-size="11" direction="ltr">{escape(left)}</text>')
    parts.append(f'<text x="{width - pad}" y="{height - 6}" font-size="11" text-anchor="end" direction="ltr">'
                 f'{escape(right)}</text>')
    parts.append(f'<text x="{pad}" y="14" font-size="11" direction="ltr">{escape(suppress(top))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped  # nosec B704
