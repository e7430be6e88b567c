"""``studio runs``: the run table (sort, filter, columns, CSV), tags and notes; ``studio compare``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.cli import CliError

DEFAULT_ROOT = "runs"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "runs", help="list runs as a table; tag or annotate one; export runs to TensorBoard",
        description="studio runs [DIR] [--sort COL] [--filter COL=VALUE] [--columns A,B] [--csv PATH]\n"
        "studio runs tag RUN TAG [--remove]\nstudio runs note RUN TEXT\n"
        "studio runs export RUN... --tensorboard DIR\n\n"
        "Columns: name, status, epochs, duration_s, device, tags, note, ... plus config.<setting>, "
        "last.<metric>, best.<metric> and dataset.<field>; a short name (val_loss) finds its column. "
        "Filters: =, !=, >=, <=, >, < and ~ (contains).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("words", nargs="*", metavar="DIR | tag RUN TAG | note RUN TEXT | export RUN...",
                        help=f"runs folder (default: {DEFAULT_ROOT})")
    parser.add_argument("--sort", metavar="COL", help="sort by a column (--sort=-COL: descending)")
    parser.add_argument("--filter", action="append", default=[], metavar="COL=VALUE",
                        help="keep matching runs (repeatable)")
    parser.add_argument("--columns", metavar="A,B,...", help="columns to show ('all': every filled column)")
    parser.add_argument("--csv", metavar="PATH", help="also write the table as CSV")
    parser.add_argument("--remove", action="store_true", help="with tag: remove the tag")
    parser.add_argument("--tensorboard", metavar="DIR",
                        help="with export: write the runs as TensorBoard event files under DIR "
                        "(then: tensorboard --logdir DIR)")
    parser.set_defaults(func=_runs)

    compare = subparsers.add_parser(
        "compare", help="differences between two runs (settings, graph, data)",
        description="Compare two run folders (or project files): training settings, layers added, "
        "removed or changed, and the data spec.")
    compare.add_argument("a", metavar="RUN")
    compare.add_argument("b", metavar="RUN")
    compare.set_defaults(func=_compare)


def _labels(words: list[str], remove: bool) -> int:
    from studio.core.experiments.labels import add_tag, set_note

    action, rest = words[0], words[1:]
    if len(rest) < 2 or (action == "tag" and len(rest) != 2):
        raise CliError(f"usage: studio runs {action} RUN {'TAG' if action == 'tag' else 'TEXT'}")
    try:
        if action == "tag":
            tags = add_tag(rest[0], rest[1], remove=remove)
            print(f"{Path(rest[0]).name}: tags {', '.join(tags) or '(none)'}")
        else:
            set_note(rest[0], " ".join(rest[1:]))
            print(f"{Path(rest[0]).name}: note saved")
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return 0


def _export(runs: list[str], tensorboard: str | None) -> int:
    from studio.core.integrations.errors import IntegrationError
    from studio.core.integrations.tensorboard import export_tensorboard

    if not runs or not tensorboard:
        raise CliError("usage: studio runs export RUN... --tensorboard DIR")
    try:
        written = export_tensorboard(runs, tensorboard)
    except IntegrationError as exc:
        raise CliError(str(exc)) from None
    for path in written:
        print(f"wrote {path}")
    print(f"view them with: tensorboard --logdir {tensorboard}")
    return 0


def _runs(args) -> int:
    from studio.core.experiments.index import RunIndex
    from studio.core.experiments.summary import DAMAGED
    from studio.core.experiments.table import TableError, build_table, render_text, write_csv

    if args.words and args.words[0] in ("tag", "note"):
        return _labels(args.words, args.remove)
    if args.words and args.words[0] == "export":
        return _export(args.words[1:], args.tensorboard)
    if len(args.words) > 1:
        raise CliError("give one runs folder (or: studio runs tag RUN TAG / note RUN TEXT)")
    root = Path(args.words[0] if args.words else DEFAULT_ROOT)
    if not root.is_dir():
        raise CliError(f"{root}: no such runs folder (give the folder holding run folders)")

    def progress(done: int, total: int) -> None:
        if total >= 20 and (done % 50 == 0 or done == total):
            print(f"\rindexing runs: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)

    rows = RunIndex(root).rows(progress)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    try:
        chosen, flat = build_table(rows, columns, args.filter, args.sort)
        if args.csv:
            write_csv(args.csv, chosen, flat)
    except TableError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {args.csv}: {exc.strerror or exc}") from None
    print(render_text(chosen, flat))
    for row in rows:
        if row["status"] == DAMAGED:
            print(f"damaged: {row['name']}: {row['error']}", file=sys.stderr)
    print(f"{len(flat)} of {len(rows)} runs" + (f"; CSV written to {args.csv}" if args.csv else ""), file=sys.stderr)
    return 0


def _show(value) -> str:
    return "(absent)" if value == "(absent)" else repr(value)


def _compare(args) -> int:
    from studio.core.experiments.compare import compare_runs
    from studio.core.project import ProjectError

    try:
        result = compare_runs(args.a, args.b)
    except (ValueError, ProjectError) as exc:
        raise CliError(str(exc)) from None
    print(f"a: {args.a}\nb: {args.b}")
    if result.same:
        print("same settings, graph and data")
        return 0
    for title, items in (("settings", result.settings), ("data", result.data)):
        if items:
            print(f"{title}:")
            for key, left, right in items:
                print(f"  {key}: {_show(left)} -> {_show(right)}")
    if result.added or result.removed or result.changed:
        print("graph:")
        for name in result.removed:
            print(f"  - {name} (only in a)")
        for name in result.added:
            print(f"  + {name} (only in b)")
        for name, key, left, right in result.changed:
            print(f"  ~ {name}.{key}: {_show(left)} -> {_show(right)}")
    return 0
