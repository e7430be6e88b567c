"""A run report to share: one self-contained HTML file (no scripts, no external fonts or pictures).

Sections: the run, project and data; the model graph (SVG) and its layer table; training curves
(SVG); final metrics; the evaluation on the test split (confusion matrix and the most confident
mistakes for classifiers, error figures for regression, IoU for segmentation, boxes for
localization); the latest samples of generative and language runs; the checks of the run's exports.
Pictures are inline SVG or PNG data URIs, so the file reads offline in any browser.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from studio.core import formatting
from studio.core.integrations.errors import IntegrationError
from studio.core.integrations.run_data import epoch_scalars, final_values, latest_samples
from studio.core.integrations.svg import graph_picture, line_chart

logger = logging.getLogger(__name__)

MISTAKES_SHOWN = 8
THUMBNAIL_PIXELS = 72
NUMBER_CELL = '<td class="num">'
META_MAX_BYTES = 1 << 20
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px;
       color: #222; background: #fff; padding: 0 16px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
th { background: #f2f2f2; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg text { font-family: system-ui, sans-serif; font-size: 11px; fill: #333; }
svg .title { font-size: 13px; font-weight: 600; } svg .frame { fill: none; stroke: #bbb; }
svg .node { fill: #eef4fb; stroke: #5b7fa6; } svg .node-name { font-weight: 600; }
.graph-box { display: inline-block; max-width: 100%; overflow-x: auto; border: 1px solid #eee; }
figure { display: inline-block; margin: 4px; text-align: center; font-size: 0.85em; }
figure img { image-rendering: pixelated; border: 1px solid #ccc; }
.note { color: #666; } pre { background: #f6f6f6; padding: 8px; white-space: pre-wrap; }
"""


def write_report(run_dir: str | os.PathLike, path: str | os.PathLike, evaluate: bool = True) -> Path:
    """Write the run's HTML report atomically.

    Args:
        run_dir: the run folder.
        path: the HTML file to write.
        evaluate: load the model and score it on the test split (needs Keras; seconds).

    Returns:
        The written path.
    """
    from studio.core.fileio import atomic_write_text

    html = build_report(run_dir, evaluate)
    target = Path(path)
    try:
        atomic_write_text(target, html)
    except OSError as exc:
        raise IntegrationError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def build_report(run_dir: str | os.PathLike, evaluate: bool = True) -> str:
    """The run's report as one HTML document.

    Args:
        run_dir: the run folder.
        evaluate: load the model and score it on the test split (needs Keras; seconds).

    Returns:
        The HTML text.
    """
    from studio.core.project import ProjectError, load_project
    from studio.core.training.errors import TrainingError
    from studio.core.training.runs import RunFolder, read_events, read_run

    folder = RunFolder(run_dir)
    try:
        run = read_run(folder.path)
    except TrainingError as exc:
        raise IntegrationError(str(exc)) from None
    try:
        project = load_project(folder.project_file) if folder.project_file.is_file() else None
    except ProjectError as exc:
        raise IntegrationError(f"{folder.project_file}: {exc}") from None
    events = read_events(folder.path)
    series = epoch_scalars(events)
    sections = [_run_section(run, project), _model_section(project), _curves_section(series),
                _metrics_section(run, series)]
    if evaluate and project is not None and not project.generative:
        sections.append(_evaluation_section(folder.path))
    sections.append(_samples_section(folder.path, events))
    sections.append(_exports_section(folder.path))
    title = f"DL Studio run report: {run['name']}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(run['name'])}</h1><p class=\"note\">DL Studio run report, written "
            f"{time.strftime('%Y-%m-%d %H:%M', time.localtime())}</p>"
            + "".join(section for section in sections if section) + "</body></html>\n")


def _table(header: list[str], rows: list[list[Any]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(
        (NUMBER_CELL if index >= numeric_from else "<td>") + f"{escape(_text(cell))}</td>"
        for index, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _facts(rows: list[list[Any]]) -> str:
    """A two-column table of named facts (no header row)."""
    return "<table>" + "".join(f"<tr><th>{escape(str(name))}</th><td>{escape(_text(value))}</td></tr>"
                               for name, value in rows) + "</table>"


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def _when(stamp: Any) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if isinstance(stamp, (int, float)) else ""


def _run_section(run: dict, project) -> str:
    dataset = run.get("dataset") or {}
    facts = [["status", run.get("status")], ["epochs done", run.get("epochs_done")],
             ["started", _when(run.get("started") or run.get("created"))], ["ended", _when(run.get("ended"))],
             ["device", _device(run.get("device"))], ["project", project.name if project else "(no snapshot)"]]
    facts += [[f"versions: {name}", version] for name, version in (run.get("versions") or {}).items()]
    data = [["task", dataset.get("task")], ["input shape", formatting.shape(dataset.get("input_shape"))],
            ["classes", dataset.get("num_classes")], ["samples", dataset.get("samples")],
            ["fingerprint", dataset.get("fingerprint")]]
    if project is not None:
        data += [[f"spec: {key}", value] for key, value in project.dataset.items()]
    config = run.get("config") or (project.training if project else {})
    error = run.get("error")
    return ("<h2>Run</h2>" + _facts(facts)
            + (f"<p><b>error:</b> {escape(str(error.get('message', error)))}</p>" if error else "")
            + "<h2>Data</h2>" + _facts([row for row in data if row[1] is not None])
            + "<h2>Training settings</h2>"
            + _table(["setting", "value"], [[k, v] for k, v in sorted(config.items()) if v is not None], 9))


def _device(device: Any) -> Any:
    """``cpu · float32 · tensorflow`` from run.json's device facts."""
    if not isinstance(device, dict):
        return device
    return " · ".join(str(device[key]) for key in ("kind", "precision", "backend") if device.get(key))


def _model_section(project) -> str:
    if project is None:
        return ""
    from studio.core.graph.infer import analyze

    analysis = analyze(project.graph)
    shapes = {node_id: formatting.shape(info.output_shape) for node_id, info in analysis.nodes.items()}
    rows = []
    for node_id in _layer_order(project.graph):
        node, info = project.graph.nodes[node_id], analysis.nodes.get(node_id)
        rows.append([node.name, node.type, shapes.get(node_id, "?"), info.params if info else 0])
    total = sum(row[3] for row in rows)
    return ("<h2>Model</h2><div class=\"graph-box\">" + graph_picture(project.graph, shapes) + "</div>"
            + _table(["layer", "type", "output shape", "params"], rows + [["total", "", "", total]], 3))


def _layer_order(graph) -> list[str]:
    from studio.core.graph.model import GraphError

    try:
        return graph.topological_order()
    except GraphError:
        return list(graph.nodes)


def _curves_section(series: dict) -> str:
    if not series:
        return "<h2>Training curves</h2><p class=\"note\">no completed epoch yet</p>"
    charts = []
    for name in [key for key in series if not key.startswith("val_")]:
        chosen = {key: series[key] for key in (name, f"val_{name}") if key in series}
        charts.append(line_chart("learning rate" if name == "lr" else name, chosen))
    return "<h2>Training curves</h2><div class=\"charts\">" + "".join(charts) + "</div>"


def _metrics_section(run: dict, series: dict) -> str:
    last = final_values(series)
    if not last:
        return ""
    best = run.get("best") or {}
    rows = [[key, value] for key, value in last.items()]
    text = (f"<p>best {escape(str(best.get('monitor')))} = {_text(best.get('value'))} at epoch "
            f"{escape(str(best.get('epoch')))}</p>" if best.get("monitor") else "")
    return "<h2>Final metrics</h2>" + _table(["metric", "last epoch"], rows) + text


def _png_uri(pixels: np.ndarray) -> str:
    from studio.core.inspect.render import png_bytes

    return "data:image/png;base64," + base64.b64encode(png_bytes(pixels)).decode("ascii")


def _image(pixels: np.ndarray, caption: str, alt: str) -> str:
    return (f'<figure><img src="{_png_uri(pixels)}" alt="{escape(alt)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _thumbnail(sample) -> np.ndarray | None:
    """A uint8 picture of an image sample ((H, W) or (H, W, 1 | 3)), enlarged; None for other inputs."""
    from studio.core.inspect.render import normalize01

    sample = np.asarray(sample)
    if sample.ndim == 3 and sample.shape[-1] == 1:
        sample = sample[..., 0]
    if sample.ndim not in (2, 3) or (sample.ndim == 3 and sample.shape[-1] != 3) or min(sample.shape[:2]) < 4:
        return None
    factor = max(1, THUMBNAIL_PIXELS // max(sample.shape[:2]))
    pixels = (normalize01(sample) * 255).round().astype("uint8")
    return pixels.repeat(factor, axis=0).repeat(factor, axis=1)


def _evaluation_section(run_dir: Path) -> str:
    from studio.core.data import DataError
    from studio.core.inspect import InspectError, evaluate_model, open_run
    from studio.core.project import ProjectError

    try:
        contents = open_run(run_dir)
        dataset = contents.dataset
        split = "test" if len(dataset.x_test) else "val"
        x, y = dataset.split(split)
        if not len(x):
            return "<h2>Evaluation</h2><p class=\"note\">the dataset has no test or validation samples</p>"
        report = evaluate_model(contents.model, x, y, dataset.task, dataset.class_names or None)
    except (InspectError, DataError, ProjectError) as exc:
        return f"<h2>Evaluation</h2><p class=\"note\">not evaluated: {escape(str(exc))}</p>"
    head = f"<h2>Evaluation</h2><p>{escape(dataset.task)}, {split} split, {len(x)} samples</p>"
    if getattr(report, "confusion", None) is not None:  # class reports: confusion matrix and mistakes
        return head + _classification(report, x)
    header, rows = report.table()  # any other task's report, through the Report interface
    figures = "".join(_image(picture, name, name) for name, picture in report.pictures(x).items())
    return head + f"<p>{escape(report.summary())}</p>" + _table(header, rows) + figures


def _classification(report, x) -> str:
    names = report.class_names
    confusion = "<table><tr><th>true \\ predicted</th>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"
    totals = report.confusion.sum(axis=1)
    for row, name in enumerate(names):
        confusion += f"<tr><th>{escape(name)}</th>"
        for column in range(len(names)):
            share = report.confusion[row, column] / totals[row] if totals[row] else 0.0
            shade = f"rgba(0, 114, 178, {0.08 + 0.8 * share:.2f})" if report.confusion[row, column] else "transparent"
            confusion += f'<td class="num" style="background:{shade}">{int(report.confusion[row, column])}</td>'
        confusion += "</tr>"
    confusion += "</table>"
    per_class = [[name, report.precision[i], report.recall[i], report.f1[i], int(report.support[i])]
                 for i, name in enumerate(names)]
    text = (f"<p>accuracy <b>{report.accuracy:.4f}</b>"
            + (f", ROC AUC {report.curves.roc_auc:.4f}" if report.curves is not None else "") + "</p>")
    mistakes = report.confident_mistakes(MISTAKES_SHOWN)
    gallery = ""
    for index in mistakes:
        caption = (f"#{index}: true {names[report.y_true[index]]}, predicted {names[report.y_pred[index]]} "
                   f"({report.confidence[index]:.0%})")
        picture = _thumbnail(x[index])
        gallery += _image(picture, caption, "misclassified sample") if picture is not None else f"<p>{escape(caption)}</p>"
    return (text + "<h3>Confusion matrix</h3>" + confusion
            + _table(["class", "precision", "recall", "F1", "support"], per_class)
            + "<h3>Most confident mistakes</h3>"
            + (f'<div class="mistakes">{gallery}</div>' if len(mistakes) else '<p class="note">no mistakes</p>'))


def _samples_section(run_dir: Path, events: list[dict]) -> str:
    from PIL import Image, UnidentifiedImageError

    found = latest_samples(run_dir, events)
    if not found:
        return ""
    parts = ["<h2>Samples</h2>"]
    for kind, (epoch, path) in found.items():
        try:
            if path.suffix == ".txt":
                parts.append(f"<h3>{escape(kind)} (epoch {epoch})</h3><pre>"
                             + escape(path.read_text(encoding="utf-8", errors="replace")[:20000]) + "</pre>")
            else:
                with Image.open(path) as picture:
                    pixels = np.asarray(picture.convert("RGB"))
                parts.append(_image(pixels, f"{kind}, epoch {epoch}", f"{kind} samples"))
        except (OSError, UnidentifiedImageError) as exc:
            logger.warning("report: cannot read %s: %s", path, exc)
    return "".join(parts)


def _exports_section(run_dir: Path) -> str:
    from studio.core.fileio import loads_json_bounded, read_bytes_capped

    rows = []
    for meta in sorted((run_dir / "exports").glob("*.meta.json")):
        name = meta.name.removesuffix(".meta.json")
        try:
            data = loads_json_bounded(read_bytes_capped(meta, META_MAX_BYTES))
        except (OSError, ValueError) as exc:  # shown in the table: the reader sees which check is missing
            rows.append([name, f"unreadable: {getattr(exc, 'strerror', None) or exc}", "", "", "", ""])
            continue
        check = data.get("verification") if isinstance(data, dict) else None
        if not isinstance(check, dict):
            rows.append([name, "no verification recorded", "", "", "", ""])
            continue
        rows.append([name, "passed" if check.get("ok") else "failed",
                     check.get("max_abs_diff"), check.get("argmax_agreement"), check.get("latency_ms"),
                     formatting.size_bytes(check["size_bytes"]) if check.get("size_bytes") else ""])
    if not rows:
        return ("<h2>Export checks</h2><p class=\"note\">no verified export in the run's exports/ folder "
                "(studio export RUN --format F -o RUN/exports/NAME)</p>")
    return "<h2>Export checks</h2>" + _table(["export", "check", "max |diff|", "argmax agreement",
                                              "latency ms", "size"], rows, 2)
