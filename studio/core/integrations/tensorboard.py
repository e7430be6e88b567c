"""Runs as TensorBoard event files, so ``tensorboard --logdir DIR`` shows them beside other work.

Each run becomes ``DIR/<run name>/train`` and ``DIR/<run name>/validation`` (the layout of Keras'
own TensorBoard callback, so training and validation curves overlay): per-epoch metrics as
``epoch_<metric>``, the learning rate as ``epoch_learning_rate``, each layer's gradient norm as
``gradient_norm/<layer>`` (at the global step), weight and gradient histograms as
``weights/<layer>`` and ``gradients/<layer>``, and the latest sample pictures as ``samples/<kind>``
(at their epoch). Written with TensorBoard's own writer (the optional ``tensorboard`` package).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from studio.core.integrations.errors import IntegrationError
from studio.core.integrations.run_data import epoch_scalars

MISSING = 'TensorBoard export needs the tensorboard package: pip install "dl-studio[tensorboard]"'


def export_tensorboard(run_dirs: list[str | os.PathLike], logdir: str | os.PathLike) -> list[Path]:
    """Write each run's event files under ``logdir`` (a run exported again is replaced whole).

    Args:
        run_dirs: run folders.
        logdir: the TensorBoard log folder (created when missing).

    Returns:
        The folder written for each run, ``logdir/<run name>``.
    """
    from studio.core.fileio import atomic_replace_dir
    from studio.core.training.runs import RunFolder, read_events

    try:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: F401
    except ImportError:
        raise IntegrationError(MISSING) from None
    folders = [RunFolder(run_dir) for run_dir in run_dirs]
    for folder in folders:
        if not folder.run_json.is_file() and not folder.events_file.is_file():
            raise IntegrationError(f"{folder.path} is not a run folder (no run.json, no events.jsonl)")
    names = [folder.path.resolve().name for folder in folders]
    if len(set(names)) != len(names):
        raise IntegrationError("two of the runs have the same folder name; export them to different folders")
    root = Path(logdir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        written = []
        for folder, name in zip(folders, names):
            events = read_events(folder.path)
            atomic_replace_dir(root / name, lambda tmp, events=events, folder=folder: _write_run(events, folder.path, Path(tmp)))
            written.append(root / name)
    except OSError as exc:
        raise IntegrationError(f"cannot write to {root}: {exc.strerror or exc}") from None
    return written


def _write_run(events: list[dict], run_dir: Path, target: Path) -> None:
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    from studio.core.inspect.gradients import gradient_norm_series, histograms_by_layer
    from studio.core.integrations.run_data import latest_samples

    writers = {part: EventFileWriter(str(target / part)) for part in ("train", "validation")}
    stamp = time.time()
    try:
        for key, (epochs, values) in epoch_scalars(events).items():
            part = "validation" if key.startswith("val_") else "train"
            tag = "epoch_learning_rate" if key == "lr" else f"epoch_{key.removeprefix('val_')}"
            for epoch, value in zip(epochs, values):
                writers[part].add_event(_event(stamp, epoch, _scalar(tag, value)))
        for layer, points in gradient_norm_series(events).items():
            for step, norm in points:
                writers["train"].add_event(_event(stamp, step, _scalar(f"gradient_norm/{layer}", norm)))
        for layer, series in histograms_by_layer(events).items():
            for epoch, weights, grads in zip(series.epochs, series.weights, series.grads):
                for tag, (counts, edges) in ((f"weights/{layer}", weights), (f"gradients/{layer}", grads)):
                    if counts:
                        writers["train"].add_event(_event(stamp, epoch, _histogram(tag, counts, edges)))
        for kind, (epoch, path) in latest_samples(run_dir, events).items():
            picture = _image(f"samples/{kind}", path) if path.suffix == ".png" else None
            if picture is not None:
                writers["train"].add_event(_event(stamp, epoch, picture))
    finally:
        for writer in writers.values():
            writer.close()


def _event(wall_time: float, step: int, value):
    from tensorboard.compat.proto import event_pb2, summary_pb2

    return event_pb2.Event(wall_time=wall_time, step=int(step), summary=summary_pb2.Summary(value=[value]))


def _scalar(tag: str, value: float):
    from tensorboard.compat.proto import summary_pb2

    return summary_pb2.Summary.Value(tag=tag, simple_value=float(value))


def _histogram(tag: str, counts: list, edges: list):
    """A histogram from ``[counts, edges]``: bucket i holds the values up to ``bucket_limit[i]``; a
    leading empty bucket keeps the lowest edge."""
    from tensorboard.compat.proto import summary_pb2

    centres = [(low + high) / 2 for low, high in zip(edges, edges[1:])]
    histogram = summary_pb2.HistogramProto(
        min=float(edges[0]), max=float(edges[-1]), num=float(sum(counts)),
        sum=float(sum(c * x for c, x in zip(counts, centres))),
        sum_squares=float(sum(c * x * x for c, x in zip(counts, centres))),
        bucket_limit=[float(edge) for edge in edges], bucket=[0.0] + [float(count) for count in counts])
    return summary_pb2.Summary.Value(tag=tag, histo=histogram)


def _image(tag: str, path: Path):
    """An image summary of a PNG file, or None when it cannot be read."""
    from PIL import Image

    from tensorboard.compat.proto import summary_pb2

    try:
        with Image.open(path) as picture:
            width, height = picture.size
            channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}.get(picture.mode, 3)
    except OSError:
        return None
    image = summary_pb2.Summary.Image(height=height, width=width, colorspace=channels,
                                      encoded_image_string=path.read_bytes())
    return summary_pb2.Summary.Value(tag=tag, image=image)
