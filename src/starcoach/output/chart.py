"""The progress chart: four small line charts over a user's takes, as one SVG.

Readable on its own, wherever it is opened: a white ground (a dark page made its black text
vanish), each panel's scale (its lowest and highest value) and its target band named in words,
values as precise as the table beside it prints them, and no more labels than fit the width
(past about fifteen takes the ids and values ran into each other).
"""

from __future__ import annotations

import math
from typing import Any

from ..domain.transcript import plural

MAX_LABELS = 12  # per panel: every take's id and value up to this many takes, then evenly spread


def progress_svg(points: list[Any], *, target_wpm: tuple[float, float], target_length_s: tuple[float, float],
                 stories: bool = True) -> str:
    """Four small line charts (fillers/min, pace, length, STAR parts) over takes, as SVG; STORIES false
    (answers to a follow-up question): no STAR panel, no target length."""
    panels = [("fillers_per_min", "Fillers per minute", None, 1), ("wpm", "Pace (words/min)", target_wpm, 0),
              ("length_s", "Length (s)", target_length_s if stories else None, 0),
              ("star_parts", "STAR parts present (of 4)", (4, 4), 0)][:None if stories else 3]
    pw, ph, pad = 440, 180, 40
    width, height = 2 * pw, 2 * ph + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="10" y="18" font-size="14" font-weight="bold" fill="#222">Progress over '
           f'{plural(len(points), "take")}</text>']
    if not points:  # the file asked for still says why it is empty
        out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="14" fill="#555">'
                   'No analysed takes with speech yet.</text>')
    labelled = _labelled(len(points))
    for k, (key, title, band, decimals) in enumerate(panels):
        ox, oy = (k % 2) * pw, 30 + (k // 2) * ph
        values = [getattr(p, key) for p in points]
        known = [v for v in values if v is not None]
        lo = min(known + ([band[0]] if band else []) + [0.0])
        top = max(known + ([band[1]] if band else []) + [1.0])
        hi = top + 0.1 * (top - lo or 1)
        span = pw - 2 * pad
        sx = lambda i: ox + pad + (span * i / (len(points) - 1) if len(points) > 1 else span / 2)  # noqa: E731
        sy = lambda v: oy + ph - pad + -(ph - 2 * pad) * ((v - lo) / (hi - lo))  # noqa: E731
        out.append(f'<g class="panel" data-metric="{key}">')
        out.append(f'<text x="{ox + pad}" y="{oy + 14}" font-weight="bold" fill="#222">{title}</text>')
        if band:
            what = f"target {band[0]:g}" if band[0] == band[1] else f"target {band[0]:g}–{band[1]:g}"
            out.append(f'<text x="{ox + pw - pad}" y="{oy + 14}" text-anchor="end" fill="#3b7a33">{what}</text>')
            line = band[0] == band[1]  # one value (4 of 4): a line that shows, not a band of no height
            out.append(f'<rect class="target" x="{ox + pad}" y="{sy(band[1]) - (1.5 if line else 0):.1f}" '
                       f'width="{span}" height="{max(3.0, sy(band[0]) - sy(band[1])):.1f}" fill="#59a14f" '
                       f'fill-opacity="{0.45 if line else 0.15}"/>')
        out.append(f'<line x1="{ox + pad}" y1="{sy(lo)}" x2="{ox + pw - pad}" y2="{sy(lo)}" stroke="#999"/>')
        out.append(f'<line x1="{ox + pad}" y1="{sy(lo)}" x2="{ox + pad}" y2="{sy(top):.1f}" stroke="#999"/>')
        for v in (lo, top):  # the scale: the panel's lowest and highest value
            out.append(f'<text class="scale" x="{ox + pad - 4}" y="{sy(v) + 4:.1f}" text-anchor="end" '
                       f'fill="#555">{v:.{decimals}f}</text>')
        pts = [(sx(i), sy(v), v, p, i) for i, (v, p) in enumerate(zip(values, points)) if v is not None]
        if pts:
            out.append('<polyline fill="none" stroke="#4e79a7" stroke-width="2" points="'
                       + " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _, _ in pts) + '"/>')
        for x, y, v, p, i in pts:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#4e79a7" data-take="{p.take_id}" '
                       f'data-value="{v:.2f}"><title>take {p.take_id}: {v:.1f}</title></circle>')
            if i in labelled:  # the ends' values lean inwards, clear of the scale (which ends 4 px left of the axis)
                anchor, dx = ("start", 5) if i == 0 < len(points) - 1 else ("end", 3) if i == len(points) - 1 > 0 \
                    else ("middle", 0)
                out.append(f'<text x="{x + dx:.1f}" y="{y - 7:.1f}" text-anchor="{anchor}" fill="#222">'
                           f'{v:.{decimals}f}</text>')
        for i, p in enumerate(points):
            if i in labelled:
                out.append(f'<text x="{sx(i):.1f}" y="{oy + ph - pad + 14}" text-anchor="middle" '
                           f'fill="#555">#{p.take_id}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _labelled(n: int) -> set[int]:
    """The takes whose id and values are written: all up to :data:`MAX_LABELS`, else evenly
    spread ones, the first and the last always."""
    if n <= MAX_LABELS:
        return set(range(n))
    step = math.ceil(n / MAX_LABELS)
    shown = list(range(0, n, step))
    if n - 1 - shown[-1] < step:  # too near the last take's, which is always written
        shown.pop()
    return {*shown, n - 1}
