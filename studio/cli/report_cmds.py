"""``studio report``: one self-contained HTML file describing a run, to share or archive."""

from __future__ import annotations

from studio.cli import CliError


def register(subparsers) -> None:
    report = subparsers.add_parser(
        "report", help="write a run's report as one self-contained HTML file",
        description="Project and data summary, model graph and layer table, training curves, final metrics, "
        "the evaluation on the test split (confusion matrix and mistakes, or samples for generative runs) "
        "and export checks, in one HTML file that reads offline in any browser.")
    report.add_argument("run", help="run folder")
    report.add_argument("-o", "--output", required=True, help="HTML file to write")
    report.add_argument("--no-evaluate", action="store_true",
                        help="leave out the evaluation (does not load the model: faster)")
    report.set_defaults(func=_report)


def _report(args) -> int:
    from studio.core.integrations.errors import IntegrationError
    from studio.core.integrations.report import write_report

    try:
        path = write_report(args.run, args.output, evaluate=not args.no_evaluate)
    except IntegrationError as exc:
        raise CliError(str(exc)) from None
    print(f"wrote {path}")
    return 0
