"""The progress chart: four small line charts over a user's takes, as one SVG."""

from __future__ import annotations

from typing import Any

from ..domain.transcript import plural


def progress_svg(points: list[Any], *, target_wpm: tuple[float, float], target_length_s: tuple[float, float]) -> str:
    """Four small line charts (fillers/min, pace, length, STAR parts) over takes, as SVG."""
    panels = [("fillers_per_min", "Fillers per minute", None), ("wpm", "Pace (words/min)", target_wpm),
              ("length_s", "Length (s)", target_length_s), ("star_parts", "STAR parts present (of 4)", (4, 4))]
    pw, ph, pad = 440, 180, 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {2 * pw} {2 * ph + 30}" '
           f'width="{2 * pw}" height="{2 * ph + 30}" font-family="sans-serif" font-size="11">',
           f'<text x="10" y="18" font-size="14" font-weight="bold">Progress over {plural(len(points), "take")}</text>']
    for k, (key, title, band) in enumerate(panels):
        ox, oy = (k % 2) * pw, 30 + (k // 2) * ph
        values = [getattr(p, key) for p in points]
        known = [v for v in values if v is not None]
        lo = min(known + ([band[0]] if band else []) + [0.0])
        hi = max(known + ([band[1]] if band else []) + [1.0])
        hi = hi + 0.1 * (hi - lo or 1)
        sx = lambda i: ox + pad + (pw - 2 * pad) * (i / max(1, len(points) - 1))  # noqa: E731
        sy = lambda v: oy + ph - pad + -(ph - 2 * pad) * ((v - lo) / (hi - lo))  # noqa: E731
        out.append(f'<g class="panel" data-metric="{key}">')
        out.append(f'<text x="{ox + pad}" y="{oy + 14}" font-weight="bold">{title}</text>')
        out.append(f'<line x1="{ox + pad}" y1="{sy(lo)}" x2="{ox + pw - pad}" y2="{sy(lo)}" stroke="#999"/>')
        if band:
            out.append(f'<rect class="target" x="{ox + pad}" y="{sy(band[1]):.1f}" width="{pw - 2 * pad}" '
                       f'height="{max(1.0, sy(band[0]) - sy(band[1])):.1f}" fill="#59a14f" fill-opacity="0.15"/>')
        pts = [(sx(i), sy(v), v, p) for i, (v, p) in enumerate(zip(values, points)) if v is not None]
        if pts:
            out.append('<polyline fill="none" stroke="#4e79a7" stroke-width="2" points="'
                       + " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in pts) + '"/>')
        for x, y, v, p in pts:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#4e79a7" data-take="{p.take_id}" '
                       f'data-value="{v:.2f}"><title>take {p.take_id}: {v:.1f}</title></circle>')
            out.append(f'<text x="{x:.1f}" y="{y - 7:.1f}" text-anchor="middle">{v:.0f}</text>')
            out.append(f'<text x="{x:.1f}" y="{oy + ph - pad + 14}" text-anchor="middle" '
                       f'fill="#555">#{p.take_id}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
