"""A sparkline as inline SVG, rendered on the server. Pure.

The page needs no script and no image request for it: one ``<svg>`` with a
``<polyline>`` (and a dot on the last day), coloured by the stylesheet through
``currentColor`` — no ``style=`` attribute, which the page's
``Content-Security-Policy`` would refuse. Values are counts (never negative);
the numbers go in the ``aria-label`` and a ``<title>`` so a screen reader and a
mouse pointer read what the line shows.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

#: Most values drawn (a longer series keeps its last ones).
MAX_POINTS = 90


def sparkline(
    values: Sequence[int], *, label: str, width: int = 84, height: int = 20, pad: int = 2
) -> Markup:
    """``values`` (oldest first) as a line ``width`` × ``height`` pixels; ``label`` says
    what they count (``entries a day``). An empty series is a flat line at zero."""
    points = [max(0, int(v)) for v in values][-MAX_POINTS:] or [0]
    top = max(points) or 1
    step = (width - 2 * pad) / max(1, len(points) - 1)
    span = height - 2 * pad
    coords = [(pad + i * step, height - pad - span * value / top) for i, value in enumerate(points)]
    if len(coords) == 1:
        coords.append((width - pad, coords[0][1]))
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    last_x, last_y = coords[-1]
    said = escape(f"{label}: {', '.join(str(v) for v in points)}")
    # Safe: numbers formatted here, and the label escaped above.
    return Markup(  # noqa: S704
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{said}">'
        f"<title>{said}</title>"
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{line}"/>'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2" fill="currentColor"/></svg>'
    )
