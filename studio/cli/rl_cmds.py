"""``studio rl``: train a DQN agent on CartPole-v1, the Q-network a project's or template's graph.

A run like every run: a run folder under runs/, progress on stderr, Ctrl-C to stop (twice: kill),
``--resume RUN`` to continue from its backup (replay buffer included), the Runs table and
``studio runs`` list it. The last line is the mean return of the greedy evaluation episodes.
The settings are the project's (its ``rl`` section, else the defaults); each ``--SETTING`` overrides one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from studio.cli import CliError
from studio.cli.options import add_spec_options, checked_values
from studio.core.rl.settings import RL_FIELDS

DEFAULT_TEMPLATE = "q_network_cartpole"


def register(subparsers) -> None:
    from studio.cli.train_cmds import add_settings

    parser = subparsers.add_parser(
        "rl", help="reinforcement learning: a DQN agent on CartPole-v1 (needs the rl extra)",
        description="Train a Deep Q-Network on Gymnasium's CartPole-v1: the agent acts epsilon-greedily, "
        "stores transitions in a replay buffer and learns Q-values from replayed batches against a target "
        "network (Double DQN, Huber loss, Adam). The Q-network is the graph of a project or template "
        f"(default {DEFAULT_TEMPLATE}: 4 inputs, 2 outputs). Needs Gymnasium: pip install \"dl-studio[rl]\".")
    parser.add_argument("source", nargs="?", help=f"project file or template name (default {DEFAULT_TEMPLATE}; "
                        "not with --resume)")
    add_spec_options(parser, RL_FIELDS, override=True)  # unset: the project's, or the resumed run's
    parser.add_argument("--run-dir", metavar="DIR", help="run folder to create (default: runs/<time>-<name>)")
    parser.add_argument("--resume", metavar="RUN", help="continue a stopped, killed or crashed DQN run "
                        "(only --total-steps and --eval-episodes may change)")
    add_settings(parser, "backend")
    parser.set_defaults(func=_rl)


def _settings(args) -> dict:
    """The settings given on the command line, checked by their specs (they override the project's)."""
    given = [spec for spec in RL_FIELDS if getattr(args, spec.name) is not None]
    return checked_values(args, given)


def _make_runner(args):
    from studio.core.rl.runner import DQNRunner
    from studio.core.training import new_run_dir
    from studio.core.training.runs import run_name

    if args.resume:
        if args.source or args.backend:
            raise CliError("--resume continues a run with its own Q-network and backend: drop PROJECT and --backend")
        return DQNRunner(None, Path(args.resume), _settings(args), resume=True)
    from studio.cli.train_cmds import load_source

    source = args.source or DEFAULT_TEMPLATE
    project, runs_root = load_source(source)
    if args.backend:
        project.training = {**project.training, "backend": args.backend}
    settings = {**project.rl, **_settings(args)}
    project.view = {**project.view, "template": project.view.get("template") or source}
    run_dir = Path(args.run_dir) if args.run_dir else new_run_dir(
        runs_root, run_name(project, source if Path(source).exists() else None).rsplit("-", 1)[0] + "-dqn")
    return DQNRunner(project, run_dir, settings)


def _rl(args) -> int:
    from studio.cli.train_cmds import follow_run
    from studio.core.training.runs import RunFolder

    status, run_dir = follow_run(_make_runner(args), command="rl")
    evaluation = RunFolder(run_dir).info().get("evaluation")
    if status == "completed" and evaluation:
        print(f"mean return over {evaluation['episodes']} greedy episodes: {evaluation['mean_return']:.1f} "
              f"(std {evaluation['std_return']:.1f})", file=sys.stderr)
    return 0 if status in ("completed", "stopped") else 1
