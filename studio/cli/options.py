"""Command-line options derived from ParamSpecs: one ``--name`` per spec, its type, choices,
default and help taken from the spec, never written again in a command module."""

from __future__ import annotations

from typing import Any, Iterable

from studio.cli import CliError
from studio.core.params import ParamError, ParamSpec

TYPES = {"int": int, "float": float, "optional_int": int, "optional_float": float}
METAVARS = {"int": "N", "float": "X", "optional_int": "N", "optional_float": "X"}


def flag(spec: ParamSpec) -> str:
    """``--fine-tune-epochs`` for the spec ``fine_tune_epochs``."""
    return "--" + spec.name.replace("_", "-")


def add_spec_options(parser, specs: Iterable[ParamSpec], *, override: bool = False,
                     metavars: dict[str, str] | None = None, short: dict[str, str] | None = None) -> None:
    """Add one option per spec to an argparse ``parser``.

    Args:
        parser: the argparse parser (or argument group) to extend.
        specs: the settings, in the order of the help.
        override: the option overrides a project's value: its default is None (keep the project's)
            and the help says so; otherwise the default is the spec's.
        metavars: a metavar per spec name, where the kind's (N, X, VALUE) says too little.
        short: a short alias per spec name (``{"tokens": "-n"}``).
    """
    for spec in specs:
        help_text = spec.describe() + (", overriding the project's value" if override else "")
        names = [*([short[spec.name]] if short and spec.name in short else []), flag(spec)]
        default = None if override else spec.default_value()
        if spec.kind == "choice":
            parser.add_argument(*names, choices=spec.choices, default=default, help=help_text.replace("%", "%%"))
        else:
            metavar = (metavars or {}).get(spec.name, METAVARS.get(spec.kind, "VALUE"))
            parser.add_argument(*names, type=TYPES.get(spec.kind, str), default=default, metavar=metavar,
                                help=help_text.replace("%", "%%"))


def checked_values(args, specs: Iterable[ParamSpec]) -> dict[str, Any]:
    """The parsed value of each spec's option, checked against the spec.

    Args:
        args: the argparse namespace.
        specs: the settings added with ``add_spec_options``.

    Returns:
        ``{name: cleaned value}``; a value the spec refuses raises ``CliError`` naming the option.
    """
    values = {}
    for spec in specs:
        try:
            values[spec.name] = spec.check(getattr(args, spec.name))
        except ParamError as exc:
            raise CliError(f"{flag(spec)}: {exc}") from None
    return values
