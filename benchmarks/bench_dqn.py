"""DQN on CartPole-v1 (issue 27): the mean return of the greedy evaluation episodes after training,
the environment steps and the wall time of a whole run (child process, run folder, events).

Target: mean return >= 475 over 100 evaluation episodes within 1e5 environment steps in <= 10 min
on 2 CPU cores (the published reference: 500 with 5e4 steps, RL Baselines3 Zoo). The machine's load
average is printed too: a shared machine slows the run, not the score.

    python benchmarks/bench_dqn.py [--backend jax|tensorflow] [--total-steps N] [--SETTING VALUE ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

SOLVED = 475  # the goal's mean return


def main() -> None:
    from studio.cli.options import add_spec_options, checked_values
    from studio.core.features import load_features
    from studio.core.graph.templates import load_template
    from studio.core.project import default_project
    from studio.core.rl.runner import DQNRunner
    from studio.core.rl.settings import RL_FIELDS
    from studio.core.training import RunWatcher
    from studio.core.training.runs import RunFolder, read_events

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="jax", choices=("jax", "tensorflow", "torch"))
    add_spec_options(parser, RL_FIELDS)
    args = parser.parse_args()
    load_features()
    project = default_project()
    project.graph = load_template("q_network_cartpole").graph
    project.training = {**project.training, "backend": args.backend}
    run_dir = Path(tempfile.mkdtemp(prefix="bench-dqn-")) / "run"
    runner = DQNRunner(project, run_dir, checked_values(args, RL_FIELDS))
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    runner.start()
    watcher = RunWatcher.for_runner(runner)
    while not watcher.ended:
        watcher.poll(timeout=0.5)
    minutes = (time.perf_counter() - start) / 60
    info = RunFolder(run_dir).info()
    evaluation = info.get("evaluation") or {}
    print(f"backend {args.backend}, {os.cpu_count()} CPU cores, load average {load_before:.1f} -> "
          f"{os.getloadavg()[0]:.1f}")
    print(f"status {watcher.state}: {info.get('env_steps')} environment steps, {info.get('episodes')} episodes, "
          f"{minutes:.1f} min")
    print(f"mean return over {evaluation.get('episodes')} evaluation episodes: {evaluation.get('mean_return')} "
          f"(std {evaluation.get('std_return')})  run folder {run_dir}")
    solved = next((event["global_step"] for event in read_events(run_dir)
                   if event["type"] == "epoch" and event["logs"].get("greedy_return", 0) >= SOLVED), None)
    print(f"greedy policy's score (20 episodes, every 2000 steps) first >= {SOLVED} at environment step {solved}")


if __name__ == "__main__":
    main()
