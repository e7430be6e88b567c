"""``studio report``: one self-contained HTML file, parsed and rendered in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from integration_helpers import EPOCHS, epoch_logs, make_logged_run

from studio.cli import main
from studio.core.integrations.errors import IntegrationError
from studio.core.integrations.report import build_report, write_report
from studio.core.training.runs import RunFolder


class Page(HTMLParser):
    """Tags, attributes and the text of each table of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def table_with(self, first_cell: str) -> list[list[str]]:
        return next(table for table in self.tables if table and table[0] and table[0][0] == first_cell)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_logged_run(tmp_path_factory.mktemp("runs") / "run")


@pytest.fixture(scope="module")
def report_html(run_dir):
    return build_report(run_dir)


def test_the_report_is_self_contained(report_html):
    page = Page(report_html)
    names = {tag for tag, _ in page.tags}
    assert "script" not in names and "link" not in names and "iframe" not in names
    assert not re.search(r"url\((?!#)|@import|@font-face", report_html)
    sources = [attrs["src"] for tag, attrs in page.tags if "src" in attrs]
    assert sources and all(src.startswith("data:image/png;base64,") for src in sources)
    assert not [attrs for _, attrs in page.tags if attrs.get("href", "#").split(":")[0] in ("http", "https", "file")]


def test_the_report_draws_each_logged_curve_with_its_values(report_html):
    charts = re.findall(r'<svg[^>]*class="chart"[^>]*aria-label="([^"]+)"(.*?)</svg>', report_html, re.S)
    titles = {title: body for title, body in charts}
    assert set(titles) == {"loss", "accuracy", "learning rate"}
    assert titles["loss"].count("<polyline") == 2  # loss and val_loss
    points = re.search(r'points="([^"]+)"', titles["loss"]).group(1).split()
    assert len(points) == EPOCHS  # the partial epoch is left out
    ys = [float(point.split(",")[1]) for point in points]
    assert ys == sorted(ys)  # a falling loss goes down the picture


def test_the_report_has_tables_of_the_model_metrics_and_evaluation(report_html, run_dir):
    from studio.core.inspect import evaluate_model, open_run

    page = Page(report_html)
    layers = page.table_with("layer")
    assert [row[0] for row in layers[1:]] == ["image", "conv2d", "max_pooling2d", "dropout", "flatten", "classes", "total"]
    assert layers[-1][3] == "1370"
    metrics = dict(page.table_with("metric")[1:])
    assert float(metrics["val_loss"]) == pytest.approx(epoch_logs(EPOCHS)["val_loss"], rel=1e-3)
    contents = open_run(run_dir)
    report = evaluate_model(contents.model, contents.dataset.x_test, contents.dataset.y_test, "classification",
                            contents.dataset.class_names)
    confusion = page.table_with("true \\ predicted")
    assert np.array_equal(np.array([[int(cell) for cell in row[1:]] for row in confusion[1:]]), report.confusion)
    captions = re.findall(r"<figcaption>(#\d+): true", report_html)
    assert captions and len(captions) == min(8, int(report.confusion.sum() - np.trace(report.confusion)))
    assert "model graph" in report_html and report_html.count('class="node"') == 6


def test_generative_and_language_runs_show_their_latest_samples(tmp_path, run_dir):
    from studio.core.inspect.render import save_png

    folder = RunFolder(tmp_path / "lm")
    shutil.copytree(run_dir, folder.path)
    (folder.path / "samples").mkdir()
    (folder.path / "samples" / "epoch_001.txt").write_text("old text", encoding="utf-8")
    (folder.path / "samples" / "epoch_002.txt").write_text("the <newest> text", encoding="utf-8")
    save_png(folder.path / "samples" / "epoch_002.png", np.full((20, 20, 3), 200, "uint8"))
    folder.emit("samples", epoch=1, path="samples/epoch_001.txt", kind="text")
    folder.emit("samples", epoch=2, path="samples/epoch_002.txt", kind="text")
    folder.emit("samples", epoch=2, path="samples/epoch_002.png", kind="generated")
    folder.emit("samples", epoch=2, path="../outside.png", kind="reconstruction")  # never read
    html = build_report(folder.path, evaluate=False)
    assert "the &lt;newest&gt; text" in html and "old text" not in html
    assert "<figcaption>generated, epoch 2</figcaption>" in html and "reconstruction" not in html
    assert "Evaluation" not in html


def test_export_checks_are_listed(tmp_path, run_dir):
    import json

    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    (folder / "exports").mkdir()
    (folder / "exports" / "model.onnx.meta.json").write_text(json.dumps(
        {"verification": {"ok": True, "max_abs_diff": 2e-7, "size_bytes": 4096, "latency_ms": 0.5}}))
    (folder / "exports" / "broken.meta.json").write_text("[1, 2")
    page = Page(build_report(folder, evaluate=False))
    rows = page.table_with("export")[1:]
    assert rows[1] == ["model.onnx", "passed", "2e-07", "", "0.5", "4 KiB"]
    assert rows[0][0] == "broken" and rows[0][1].startswith("unreadable")  # said, not hidden


def test_the_cli_writes_the_report_and_refuses_a_missing_run(tmp_path, run_dir, capsys):
    target = tmp_path / "report.html"
    assert main(["report", str(run_dir), "-o", str(target), "--no-evaluate"]) == 0
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", str(tmp_path / "nothing"), "-o", str(target)]) == 2
    assert "no run folder" in capsys.readouterr().err
    with pytest.raises(IntegrationError):
        write_report(tmp_path / "nothing", target)


@pytest.mark.slow  # starts Chromium
def test_headless_chromium_shows_the_curves_and_tables(tmp_path, report_html):
    from PIL import Image

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    page, picture = tmp_path / "report.html", tmp_path / "shot.png"
    page.write_text(report_html, encoding="utf-8")
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,5000", f"--screenshot={picture}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    pixels = np.asarray(Image.open(picture).convert("RGB")).astype(int)

    def share(colour) -> float:
        return float((np.abs(pixels - colour).sum(axis=-1) < 30).mean())

    assert share((255, 255, 255)) < 0.97  # something is drawn
    assert share((0, 114, 178)) > 1e-4  # the first curve's blue
    assert share((230, 159, 0)) > 1e-4  # the validation curve's orange
    assert share((242, 242, 242)) > 1e-3  # table header cells


def test_a_run_without_a_model_still_reports_and_says_why_it_is_not_evaluated(tmp_path, run_dir):
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    (folder / "model.keras").unlink()
    html = build_report(folder)
    assert "not evaluated: run" in html and "has no model file" in html
    assert 'aria-label="loss"' in html  # the curves are still there


def test_a_localization_run_reports_its_box_scores_and_pictures(tmp_path):
    from export_helpers import make_run

    from studio.core.graph.templates import load_template

    dataset = {"source": "shape_boxes", "count": 10, "image_size": 28, "seed": 0,
               "split": {"train": 0.5, "val": 0.25, "test": 0.25}}
    run = make_run(tmp_path / "boxes", load_template("localizer_28").graph, epochs=0, dataset=dataset)
    html = build_report(run)
    page = Page(html)
    metrics = dict(page.table_with("metric")[1:])
    assert set(metrics) == {"class accuracy", "mean box IoU", "right class, IoU >= 0.5"}
    assert 0 <= float(metrics["mean box IoU"]) <= 1
    assert html.count('alt="boxes.png"') == 1 and "true green, predicted red" in html  # the task's own pictures
