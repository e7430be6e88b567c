"""``studio summary``, ``studio validate`` and ``studio templates``: the graph, headless."""

from __future__ import annotations

from pathlib import Path

from studio.cli import CliError
from studio.core.fileio import open_regular

HDF5_SUFFIXES = (".h5", ".hdf5")
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def register(subparsers) -> None:
    summary = subparsers.add_parser("summary", help="per-layer table: shapes, parameters, errors")
    summary.add_argument("source", help="project file (.dlstudio), template name or file (.json), or .keras file")
    summary.set_defaults(func=_summary)
    validate = subparsers.add_parser("validate", help="check a model; exit 1 when it has errors")
    validate.add_argument("source", help="project file (.dlstudio), template name or file (.json), or .keras file")
    validate.set_defaults(func=_validate)
    templates = subparsers.add_parser("templates", help="list the model templates")
    templates.set_defaults(func=_templates)


def load_graph(source: str):
    """The graph behind a project file, a ``.keras`` file or a template name."""
    from studio.core.graph.keras_io import KerasImportError, load_keras_file
    from studio.core.graph.templates import (TemplateError, is_template_file, load_template, load_template_file,
                                             template_names)
    from studio.core.project import ProjectError, load_project

    path = Path(source)
    if path.suffix.lower() in HDF5_SUFFIXES or _starts_with(path, HDF5_MAGIC):
        raise CliError(f"{source}: legacy Keras HDF5 file: not supported for import, save it as .keras")
    try:
        if path.suffix.lower() in (".keras", ".h5", ".hdf5"):  # .h5 gets its "save it as .keras" line
            return load_keras_file(path)
        if is_template_file(path):
            return load_template_file(path).graph
        if path.exists():
            return load_project(path).graph
        if source in template_names():
            return load_template(source).graph
    except (KerasImportError, ProjectError, TemplateError) as exc:
        raise CliError(str(exc)) from None
    raise CliError(f"{source}: no such file or template (see `studio templates`)")


def _starts_with(path: Path, magic: bytes) -> bool:
    try:
        with open_regular(path) as file:  # a FIFO must not block
            return file.read(len(magic)) == magic
    except (OSError, ValueError):  # not a .keras file: the project loader tried next names what is wrong
        return False


def _shape(shape) -> str:
    return "?" if shape is None else "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def _summary(args) -> int:
    from studio.core.graph.infer import analyze

    graph = load_graph(args.source)
    analysis = analyze(graph)
    rows = [("Layer", "Type", "Output shape", "Params", "Errors")]
    for node in graph.nodes.values():
        info = analysis.nodes[node.id]
        rows.append((node.name, node.type, _shape(info.output_shape), f"{info.params:,}", "; ".join(info.errors)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) if c != 3 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths))) + "  " + row[4])
        if i == 0:
            print("-" * (sum(widths) + 8 + len("Errors")))
    print(f"Total params: {analysis.total_params:,}  Trainable: {analysis.trainable_params:,}  "
          f"Non-trainable: {analysis.total_params - analysis.trainable_params:,}")
    print(f"FLOPs per sample: {analysis.flops:,}  Activation memory per sample: "
          f"{analysis.activation_bytes / 2**20:.2f} MiB")
    graph_problems = [p.message for p in analysis.problems if p.node_id is None]
    for message in graph_problems:
        print(f"error: {message}")
    return 0


def _validate(args) -> int:
    from studio.core.graph.infer import analyze

    analysis = analyze(load_graph(args.source))
    for problem in analysis.problems:
        print(f"error: {problem.message}")
    if analysis.ok:
        print(f"OK: {analysis.total_params:,} parameters, no errors")
    return 0 if analysis.ok else 1


def _templates(args) -> int:
    from studio.core.graph.templates import list_templates

    for meta in list_templates():
        shape = "x".join(str(d) for d in meta["input_shape"])
        print(f"{meta['name']:16s} {meta['title']:26s} input {shape:12s} {meta['expected_params']:>13,d} params")
    return 0
