"""Starting and resuming DQN runs: the checks before any process, the run folder, the runner.

``DQNRunner(project, run_dir, settings)`` is a ``training.Runner`` (the same child process,
events tail, Stop, pause, kill and ``RunWatcher``) whose run folder holds the DQN settings as its
``config`` (with ``objective: "dqn"``) and whose training process runs ``loop.train_dqn``.
"""

from __future__ import annotations

import os
from typing import Any

from studio.core.graph.infer import analyze
from studio.core.rl.env import env_facts
from studio.core.rl.errors import RLError
from studio.core.rl.settings import check_settings
from studio.core.training.config import TrainingConfig
from studio.core.training.plan import check_backend_starts, write_new_run
from studio.core.training.runner import Runner
from studio.core.training.runs import FINAL_STATUSES, RunFolder, pid_alive, send_control

OBJECTIVE = "dqn"
APPLIED_ON_RESUME = ("total_steps", "eval_episodes")  # any other change would make it another training


def is_dqn_run(info: dict[str, Any]) -> bool:
    """Whether run.json ``info`` is a DQN run's."""
    return (info.get("config") or {}).get("objective") == OBJECTIVE


def check_q_network(graph, observation_size: int, actions: int) -> None:
    """RLError unless ``graph`` (analysed, no Keras) reads the observation and outputs one value per action.

    Args:
        graph: the project's graph.
        observation_size: the environment's observation length.
        actions: its number of actions.
    """
    analysis = analyze(graph)
    if not analysis.ok:
        raise RLError("the Q-network has errors: " + "; ".join(p.message for p in analysis.problems[:3]))
    inputs, outputs = graph.input_nodes(), graph.output_nodes()
    if len(inputs) != 1 or len(outputs) != 1:
        raise RLError(f"the Q-network needs one input and one output (it has {len(inputs)} and {len(outputs)})")
    shape_in = tuple(graph.nodes[inputs[0]].params["shape"])
    shape_out = tuple(analysis.nodes[outputs[0]].output_shape or ())
    if shape_in != (observation_size,) or shape_out != (actions,):
        raise RLError(f"the Q-network maps {shape_in} to {shape_out}; the environment needs ({observation_size},) "
                      f"to ({actions},): use the q_network_cartpole template or change the Input and last Dense")


def prepare_dqn_folder(project, settings: dict[str, Any] | None, run_dir: str | os.PathLike) -> RunFolder:
    """Check a DQN run and write its new folder: run.json (status ``starting``) and the project snapshot.

    Args:
        project: its graph is the Q-network; its training ``backend`` picks the Keras backend.
        settings: DQN settings by name (missing ones take their defaults).
        run_dir: the folder to create; it may exist only if empty.

    Returns:
        The RunFolder.

    Raises:
        RLError: bad settings, Gymnasium missing, a Q-network that does not fit the environment,
            a folder that holds files or cannot be written.
    """
    settings = check_settings(settings)
    observation_size, actions = env_facts(settings["environment"])
    check_q_network(project.graph, observation_size, actions)
    return write_new_run(
        project, run_dir, TrainingConfig.from_dict(project.training), error=RLError,
        config={"objective": OBJECTIVE, **settings},
        environment={"name": settings["environment"], "observation_size": observation_size, "actions": actions})


def reopen_dqn_folder(run_dir: str | os.PathLike, settings: dict[str, Any] | None = None) -> RunFolder:
    """Ready a stopped, killed or crashed DQN run to continue from its backup.

    Args:
        run_dir: the run folder.
        settings: changed settings; only ``APPLIED_ON_RESUME`` may differ (e.g. more ``total_steps``).

    Raises:
        RLError: not a DQN run, still training, completed, or a setting that cannot change.
    """
    folder = RunFolder(run_dir)
    info = folder.info()
    if not is_dqn_run(info):
        raise RLError(f"{folder.path} is not a DQN run folder: resume it with `studio train --resume`")
    if info.get("status") not in FINAL_STATUSES and pid_alive(info.get("pid")):
        raise RLError(f"run {folder.path.name} is still training")
    if info.get("status") == "completed":
        raise RLError(f"run {folder.path.name} already completed: start a new run to train more")
    old = {key: value for key, value in info["config"].items() if key != "objective"}
    new = check_settings({**old, **(settings or {})})
    refused = [name for name in new if new[name] != old.get(name) and name not in APPLIED_ON_RESUME]
    if refused:
        raise RLError(f"cannot resume with a changed {', '.join(refused)}: that would be another training; "
                      f"only {' and '.join(APPLIED_ON_RESUME)} may change")
    if info.get("backend"):
        check_backend_starts(info["backend"])
    send_control(folder.path, "run")
    folder.update_info(status="starting", config={"objective": OBJECTIVE, **new}, error=None,
                       resumes=info.get("resumes", 0) + 1)
    return folder


class DQNRunner(Runner):
    """A DQN run in a child process (see ``training.Runner`` for start, poll, stop, kill).

    Args:
        project: the project whose graph is the Q-network (None when resuming: the snapshot's).
        run_dir: the new run folder, or the run to resume.
        settings: DQN settings by name (resuming: only the changed ones).
        resume: continue the run in ``run_dir`` from its backup.
    """

    trainer = "studio.core.rl.loop:train_dqn"

    def __init__(self, project, run_dir: str | os.PathLike, settings: dict[str, Any] | None = None,
                 resume: bool = False) -> None:
        super().__init__(project, run_dir, resume=resume)
        self.settings = settings

    def _prepare(self) -> None:
        prepare_dqn_folder(self.project, self.settings, self.folder.path)

    def _reopen(self) -> None:
        reopen_dqn_folder(self.folder.path, self.settings)
