"""The run table: rows flattened into columns, filtered, sorted, rendered as text or CSV.

Columns are ``name``, ``status``, ``epochs``, ``duration_s``, ``device``, ``tags``, ``note``, ... plus
one per config value (``config.learning_rate``), last metric (``last.val_loss``), best metric
(``best.val_accuracy``) and dataset field (``dataset.task``). A short name (``learning_rate``,
``val_loss``) finds its column when unambiguous.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import time
from typing import Any

from studio.core import fileio
from studio.core.formatting import format_duration

SCALARS = ("name", "status", "project", "created", "duration_s", "epochs", "epochs_planned", "device",
           "backend", "config_digest", "tags", "note", "error")
GROUPS = ("config", "last", "best", "dataset")
DEFAULT_COLUMNS = ("name", "status", "epochs", "duration_s", "config.optimizer", "config.learning_rate",
                   "config.batch_size", "last.loss", "last.val_loss", "last.val_accuracy", "tags")
_FILTER = re.compile(r"^\s*([\w.\-]+)\s*(!=|>=|<=|=|>|<|~)\s*(.*?)\s*$")


class TableError(ValueError):
    """A bad column or filter, with the one line to show."""


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` as ``{column: scalar or list}``."""
    flat = {key: row.get(key) for key in SCALARS}
    for group in GROUPS:
        for key, value in (row.get(group) or {}).items():
            flat[f"{group}.{key}"] = value
    return flat


def columns_of(flat_rows: list[dict[str, Any]]) -> list[str]:
    """Every column some row has, in a stable order (scalars first)."""
    seen = dict.fromkeys(SCALARS)
    for flat in flat_rows:
        seen.update(dict.fromkeys(key for key in flat if key not in seen))
    return list(seen)


def resolve_column(name: str, available: list[str]) -> str:
    """The column ``name`` means: exact, or the one ``<group>.<name>`` (config first).

    Raises:
        TableError: no column matches (the message suggests close names).
    """
    if name in available:
        return name
    matches = [f"{group}.{name}" for group in GROUPS if f"{group}.{name}" in available]
    if matches:
        return matches[0]
    close = [column for column in available if name in column][:5]
    hint = f" (did you mean {', '.join(close)}?)" if close else " (see the columns with --columns all)"
    raise TableError(f"unknown column {name!r}{hint}")


def parse_filter(text: str, available: list[str]):
    """``'key=value'`` (also ``!=``, ``>=``, ``<=``, ``>``, ``<``, ``~`` for contains) -> predicate.

    Args:
        text: the filter; values compare as numbers when both sides are numbers, else as lower-case
            text. A list cell (tags) matches when any item does.
        available: the columns of the rows to filter.

    Returns:
        A function taking a flat row and returning whether it passes.

    Raises:
        TableError: the filter is malformed or names an unknown column.
    """
    match = _FILTER.match(text)
    if not match:
        raise TableError(f"bad filter {text!r}: write column=value (or !=, >=, <=, >, <, ~)")
    column, op, wanted = resolve_column(match.group(1), available), match.group(2), match.group(3)

    def test(flat: dict[str, Any]) -> bool:
        value = flat.get(column)
        values = value if isinstance(value, list) else [value]  # tags: any tag matches
        return any(_compare(item, op, wanted) for item in values) if op != "!=" else \
            not any(_compare(item, "=", wanted) for item in values)

    return test


def _compare(value: Any, op: str, wanted: str) -> bool:
    if value is None:
        return False
    if op == "~":
        return wanted.lower() in str(value).lower()
    try:
        left, right = float(value), float(wanted)
    except (TypeError, ValueError):
        left, right = str(value).lower(), wanted.lower()
    if op == "=":
        return left == right
    if isinstance(left, str) != isinstance(right, str):
        return False
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


def build_table(rows: list[dict[str, Any]], columns: list[str] | None = None, filters: list[str] = (),
                sort: str | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """``(columns, flat rows)`` after filtering and sorting.

    ``columns`` None: the default columns that some row fills; ``["all"]``: every column.
    ``sort``: a column, ``-column`` for descending; empty cells sort last either way.

    Args:
        rows: run rows (``RunIndex.rows``), flattened to ``group.key`` columns here.
        columns: the columns wanted, by full or short name; see above.
        filters: filter texts (see ``parse_filter``), all of which a row must pass.
        sort: the column to sort by, or None to keep the rows' order.

    Returns:
        The chosen column names and the filtered, sorted flat rows.

    Raises:
        TableError: a bad filter or an unknown column.
    """
    flat_rows = [flatten(row) for row in rows]
    available = columns_of(flat_rows)
    for text in filters:
        test = parse_filter(text, available)
        flat_rows = [flat for flat in flat_rows if test(flat)]
    if columns == ["all"]:
        chosen = [c for c in available if any(flat.get(c) not in (None, "", []) for flat in flat_rows)]
    elif columns:
        chosen = [resolve_column(name, available) for name in columns]
    else:
        chosen = [c for c in DEFAULT_COLUMNS if c in ("name", "status") or
                  any(flat.get(c) not in (None, "", []) for flat in flat_rows)]
    if sort:
        descending = sort.startswith("-")
        key = resolve_column(sort.lstrip("-"), available)
        present = [flat for flat in flat_rows if flat.get(key) not in (None, "")]
        missing = [flat for flat in flat_rows if flat.get(key) in (None, "")]
        present.sort(key=lambda flat: _sort_key(flat[key]), reverse=descending)
        flat_rows = present + missing
    return chosen, flat_rows


def _sort_key(value: Any) -> tuple:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return (1, 0.0, str(value))
    return (0, value, "")


def cell(column: str, value: Any) -> str:
    """How one value reads in a table."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(map(str, value))
    try:
        if column == "created":
            return time.strftime("%Y-%m-%d %H:%M", time.localtime(value))
        if column == "duration_s":
            return format_duration(value)
    except (TypeError, ValueError, OverflowError, OSError):  # a damaged time: shown as it is
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value).replace("\n", " ")


def render_text(columns: list[str], flat_rows: list[dict[str, Any]], max_width: int = 40) -> str:
    """An aligned plain-text table (cells cut to ``max_width`` characters)."""
    headers = [column.split(".", 1)[-1] if column.startswith("config.") else column for column in columns]
    cells = [[cell(c, flat.get(c))[:max_width] for c in columns] for flat in flat_rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def write_csv(path: str | os.PathLike, columns: list[str], flat_rows: list[dict[str, Any]]) -> None:
    """The table as CSV (raw values; lists joined with commas), written atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for flat in flat_rows:
        writer.writerow(["" if flat.get(c) is None else
                         ",".join(map(str, flat[c])) if isinstance(flat[c], list) else flat[c] for c in columns])
    fileio.atomic_write_text(path, buffer.getvalue())
