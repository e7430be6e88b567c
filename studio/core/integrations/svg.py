"""Inline SVG pictures for the run report: line charts of training curves and the model graph.

Plain strings, no plotting library: the report stays one self-contained file.
"""

from __future__ import annotations

import math
from html import escape

from studio.core.graph.model import Graph

SERIES_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")
NODE_WIDTH, NODE_HEIGHT = 180, 46


def _tick(value: float) -> str:
    return f"{value:.3g}" if value == 0 or 1e-3 <= abs(value) < 1e4 else f"{value:.2e}"


def line_chart(title: str, series: dict[str, tuple[list[float], list[float]]],
               width: int = 460, height: int = 260) -> str:
    """An SVG line chart of named ``(x, y)`` series (non-finite points left out).

    Args:
        title: the chart's caption.
        series: name -> (xs, ys), drawn in order with the report's colours.
        width: picture width in pixels.
        height: picture height in pixels.

    Returns:
        The ``<svg>`` element as text.
    """
    points = {name: [(x, y) for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y)]
              for name, (xs, ys) in series.items()}
    every = [p for values in points.values() for p in values]
    left, right, top, bottom = 58, 12, 28, 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f'<text x="{width / 2}" y="16" text-anchor="middle" class="title">{escape(title)}</text>']
    if every:
        x_low, x_high = min(p[0] for p in every), max(p[0] for p in every)
        y_low, y_high = min(p[1] for p in every), max(p[1] for p in every)
        x_high = x_high if x_high > x_low else x_low + 1
        if y_high <= y_low:  # a constant series sits in the middle
            pad = abs(y_low) * 0.1 or 1.0
            y_low, y_high = y_low - pad, y_high + pad
        plot_w, plot_h = width - left - right, height - top - bottom

        def at(x: float, y: float) -> str:
            return (f"{left + (x - x_low) / (x_high - x_low) * plot_w:.1f},"
                    f"{top + (1 - (y - y_low) / (y_high - y_low)) * plot_h:.1f}")

        parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="frame"/>')
        for label, x, y, anchor in ((_tick(y_high), left - 4, top + 4, "end"),
                                    (_tick(y_low), left - 4, top + plot_h, "end"),
                                    (_tick(x_low), left, top + plot_h + 14, "start"),
                                    (_tick(x_high), left + plot_w, top + plot_h + 14, "end")):
            parts.append(f'<text x="{x}" y="{y}" text-anchor="{anchor}" class="tick">{label}</text>')
        parts.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h + 14}" text-anchor="middle" '
                     'class="tick">epoch</text>')
        for index, (name, values) in enumerate(points.items()):
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            if len(values) == 1:
                cx, cy = at(*values[0]).split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>')
            elif values:
                path = " ".join(at(x, y) for x, y in values)
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
            legend_x = left + 8 + index * 130
            parts.append(f'<rect x="{legend_x}" y="{height - 14}" width="12" height="4" fill="{colour}"/>'
                         f'<text x="{legend_x + 16}" y="{height - 9}" class="tick">{escape(name)}</text>')
    else:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="tick">no values</text>')
    parts.append("</svg>")
    return "".join(parts)


def graph_picture(graph: Graph, shapes: dict[str, str]) -> str:
    """The model graph as SVG: one box per layer (name, type, output shape), arrows along the edges.

    Args:
        graph: the model graph.
        shapes: node id -> output shape text shown under the type.

    Returns:
        The ``<svg>`` element as text.
    """
    from studio.core.graph.layout import layered_layout

    positions = layered_layout(graph, x_spacing=NODE_WIDTH + 30, y_spacing=NODE_HEIGHT + 34, aspect=1.2)
    if not positions:
        return '<p class="note">the model graph is empty</p>'
    low_x = min(x for x, _ in positions.values()) - NODE_WIDTH / 2 - 10
    low_y = min(y for _, y in positions.values()) - 10
    width = max(x for x, _ in positions.values()) + NODE_WIDTH / 2 + 10 - low_x
    height = max(y for _, y in positions.values()) + NODE_HEIGHT + 10 - low_y
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="{low_x:.0f} {low_y:.0f} {width:.0f} {height:.0f}" role="img" aria-label="model graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#777"/></marker></defs>']
    for edge in graph.edges:
        if edge.src in positions and edge.dst in positions:
            (x0, y0), (x1, y1) = positions[edge.src], positions[edge.dst]
            parts.append(f'<line x1="{x0:.1f}" y1="{y0 + NODE_HEIGHT:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
                         'stroke="#777" stroke-width="1.5" marker-end="url(#arrow)"/>')
    for node_id, (x, y) in positions.items():
        node = graph.nodes[node_id]
        parts.append(f'<rect x="{x - NODE_WIDTH / 2:.1f}" y="{y:.1f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" '
                     'rx="6" class="node"/>'
                     f'<text x="{x:.1f}" y="{y + 17:.1f}" text-anchor="middle" class="node-name">{escape(node.name)}</text>'
                     f'<text x="{x:.1f}" y="{y + 34:.1f}" text-anchor="middle" class="tick">'
                     f'{escape(node.type)} {escape(shapes.get(node_id, ""))}</text>')
    parts.append("</svg>")
    return "".join(parts)
