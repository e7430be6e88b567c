"""Hyperparameter sweeps on Optuna: every trial is a normal run folder trained by the engine.

``Sweep(project, dims, settings).run()`` drives ``workers`` threads, each starting one training
process at a time. Trials report their monitored value after every epoch (read from the run's
events) so the MedianPruner can stop bad ones. A study lives in an Optuna storage (default: a
SQLite file beside the project; a PostgreSQL URL shares it between machines) and is resumable:
trials left running by a dead sweep are marked failed ("interrupted") and queued again with the
same parameters, and only the missing trials are run. A trial that fails (NaN, out of memory, a bad
configuration, a dead process) is recorded as failed with its message and the sweep goes on.
``stop(running=True)`` (SIGTERM on ``studio sweep`` and on ``run_sweep``'s process) also stops the
running trials; each is recorded as failed ("stopped with the sweep") and queued again, so the next
start trains it in full. ``run_sweep`` is the whole sweep as one call, for a child process (the
Sweep panel starts it with ``studio.core.processes``).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from studio.core.experiments.labels import add_tag
from studio.core.experiments.space import Dimension, SpaceError, apply_params, grid_size, parse_space, suggest
from studio.core.experiments.summary import read_summary, update_summary
from studio.core.training.callbacks import better_is_higher

SAMPLERS = ("grid", "random", "tpe")
MAX_TRIALS = 10_000
MAX_WORKERS = 64
SQLITE_WAIT_S = 30  # how long a worker waits for another's write lock on a SQLite study
HEARTBEAT_S = 30  # a trial whose worker stops beating this long (x3) is requeued (any machine)


class SweepError(ValueError):
    """A sweep that cannot start or go on (bad settings, unreachable storage), with one line."""


class TrialFailed(Exception):
    """A trial's run failed; recorded as a failed trial, the sweep continues."""


@dataclass
class SweepSettings:
    trials: int = 10
    sampler: str = "tpe"
    workers: int = 1
    storage: str | None = None  # None: sqlite beside the project
    study_name: str | None = None
    monitor: str | None = None  # None: the project's early_stopping_monitor (val_loss by default)
    prune: bool = True
    seed: int = 0

    def check(self) -> None:
        if self.sampler not in SAMPLERS:
            raise SweepError(f"unknown sampler {self.sampler!r}: use {', '.join(SAMPLERS)}")
        if not 1 <= self.trials <= MAX_TRIALS:
            raise SweepError(f"the number of trials must be between 1 and {MAX_TRIALS}")
        if not 1 <= self.workers <= MAX_WORKERS:
            raise SweepError(f"the number of workers must be between 1 and {MAX_WORKERS}")


def default_storage(project_path: str | os.PathLike) -> str:
    """The SQLite study file beside a project: ``<stem>.sweep.sqlite``."""
    path = Path(project_path).resolve()
    return f"sqlite:///{path.with_name(path.stem + '.sweep.sqlite')}"


def default_study_name(project) -> str:
    """The study of a project when none is named: its name, made safe."""
    return re.sub(r"[^\w.-]+", "-", project.name).strip("-") or "sweep"


def redact(url: str) -> str:
    """``url`` without its password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _rdb_storage(url: str):
    import warnings

    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    with warnings.catch_warnings():  # heartbeats are marked experimental; we rely on them knowingly
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for attempt in range(3):
            try:
                return RDBStorage(url, heartbeat_interval=HEARTBEAT_S, grace_period=3 * HEARTBEAT_S,
                                  heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(),
                                  engine_kwargs={"connect_args": {"timeout": SQLITE_WAIT_S}}
                                  if url.startswith("sqlite") else None)
            except (IntegrityError, ProgrammingError) as exc:
                # another worker was creating the tables at the same moment: PostgreSQL says a relation
                # "already exists" (ProgrammingError) or a unique key clashed (IntegrityError)
                if attempt == 2 or (isinstance(exc, ProgrammingError) and "already exists" not in str(exc)):
                    raise
                time.sleep(1.0)


# SQLAlchemy's database drivers -> the package that brings each (what a missing import names).
DRIVER_PACKAGES = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient",
                   "pymysql": "pymysql", "mysql": "mysql-connector-python", "oracledb": "oracledb",
                   "pyodbc": "pyodbc"}


def open_storage(url: str):
    """An Optuna RDB storage with heartbeats; SweepError with a clear line when unreachable."""
    import optuna

    try:
        return _rdb_storage(url)
    except ImportError as exc:
        missing = getattr(exc.__cause__, "name", None) or getattr(exc, "name", None) or "its driver"
        package = DRIVER_PACKAGES.get(missing)
        hint = (f"pip install '{package}'" if package else
                "use a sqlite:///FILE.db file, or postgresql://… with pip install 'psycopg[binary]'")
        raise SweepError(f"the storage {redact(url)} needs a database driver that is not installed "
                         f"({missing}): {hint}") from None
    except Exception as exc:  # SQLAlchemy/Optuna raise many kinds for unreachable or locked storage
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SweepError(f"cannot open the study storage {redact(url)}: {reason[:200]}; check the URL, that "
                         "the server runs and accepts you, and that no other program locks the file") from None
    finally:
        optuna.logging.set_verbosity(optuna.logging.ERROR)  # trial outcomes are reported by the sweep itself


def make_sampler(name: str, dims: list[Dimension], seed: int):
    import optuna

    if name == "grid":
        return optuna.samplers.GridSampler({dim.name: dim.grid() for dim in dims}, seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def retried_numbers(trials) -> set[int]:
    """Numbers of failed trials that were queued again (by ``requeue_interrupted`` or by Optuna's
    heartbeat check on another machine)."""
    numbers = {t.user_attrs.get("retry_of") for t in trials}
    for trial in trials:
        numbers.update(trial.system_attrs.get("retry_history", ()))
    return numbers


def counted_trials(trials) -> int:
    """Trials that count toward ``--trials``: finished or running now. A failed trial that was
    requeued (interrupted by a dead sweep, or stale for Optuna's heartbeat) does not count."""
    from optuna.trial import TrialState

    retried = retried_numbers(trials)
    return sum(1 for t in trials
               if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
               or (t.state == TrialState.FAIL and t.number not in retried))


class Sweep:
    """One sweep: a project, its search space and settings (see the module doc)."""

    def __init__(self, project, dims: list[Dimension], settings: SweepSettings,
                 project_path: str | os.PathLike, runs_root: str | os.PathLike | None = None,
                 on_event: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        settings.check()
        if not dims:
            raise SpaceError("the search space is empty")
        self.project, self.dims, self.settings = project, dims, settings
        self.project_path = Path(project_path)
        self.runs_root = Path(runs_root) if runs_root else self.project_path.resolve().parent / "runs"
        self.storage_url = settings.storage or default_storage(project_path)
        self.study_name = settings.study_name or default_study_name(project)
        self.monitor = settings.monitor or project.training.get("early_stopping_monitor") or "val_loss"
        self.direction = "maximize" if better_is_higher(self.monitor) else "minimize"
        self.on_event = on_event or (lambda kind, data: None)
        self._claim = threading.Lock()
        self._local = threading.local()
        self._runners: list[Any] = []
        self._stopped = False
        self._stopping_runs = False
        self.grid_size = grid_size(dims) if settings.sampler == "grid" else None

    def open_study(self):
        """Create or load the study (same name, same storage)."""
        import optuna

        storage = open_storage(self.storage_url)
        sampler = make_sampler(self.settings.sampler, self.dims, self.settings.seed)
        pruner = optuna.pruners.MedianPruner(n_startup_trials=2) if self.settings.prune else optuna.pruners.NopPruner()
        try:
            study = optuna.create_study(storage=storage, study_name=self.study_name, sampler=sampler,
                                        pruner=pruner, direction=self.direction, load_if_exists=True)
        except ValueError as exc:  # e.g. the stored study optimises in the other direction
            raise SweepError(f"study {self.study_name}: {exc}") from None
        study.set_user_attr("monitor", self.monitor)
        return study

    def requeue_interrupted(self, study) -> int:
        """Mark trials left running by a dead sweep on this host failed and queue them again."""
        from optuna.trial import TrialState

        from studio.core.training.runs import pid_alive

        count = 0
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            attrs = trial.user_attrs
            if attrs.get("host") != socket.gethostname() or pid_alive(attrs.get("pid")):
                continue  # another machine's trials go through Optuna's heartbeat instead
            storage = study._storage  # Optuna has no public call to fail one trial by id
            storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number}, skip_if_exists=False)
            count += 1
        return count

    def remaining(self, study) -> int:
        target = min(self.settings.trials, self.grid_size or self.settings.trials)
        return target - counted_trials(study.get_trials(deepcopy=False))

    def run(self):
        """Run trials until ``trials`` count (on every worker); return the study.

        Trials left running by a dead sweep on this host are requeued first. Each trial is a normal
        run folder under ``runs_root``; progress goes to ``on_event``.

        Returns:
            The ``optuna.Study``.

        Raises:
            SweepError: the storage cannot be opened or the study cannot be created.
            KeyboardInterrupt: after killing the running trials.
        """
        study = self.open_study()
        requeued = self.requeue_interrupted(study)
        if requeued:
            self.on_event("requeued", {"count": requeued})
        workers = [threading.Thread(target=self._work, args=(study,), name=f"sweep-worker-{i}", daemon=True)
                   for i in range(self.settings.workers)]
        for worker in workers:
            worker.start()
        try:
            for worker in workers:
                while worker.is_alive():
                    worker.join(0.2)
        except KeyboardInterrupt:
            self.stop_all()
            raise
        return study

    def stop_all(self) -> None:
        for runner in list(self._runners):
            runner.kill()

    def stop(self, running: bool = False) -> None:
        """Start no more trials; the running ones finish (``run`` returns after them), or with
        ``running`` stop at their next batch and are queued again. Running the sweep again later
        continues the study."""
        self._stopped = True
        if running:
            self._stopping_runs = True
            for runner in list(self._runners):
                runner.stop()

    def _work(self, study) -> None:
        while True:
            self._claim.acquire()  # held until this worker's next trial exists in the storage
            if self._stopped or self.remaining(study) <= 0:
                self._claim.release()
                return
            self._local.claimed = True
            try:
                study.optimize(self._objective, n_trials=1, catch=(TrialFailed,))
            finally:
                self._release_claim()

    def _release_claim(self) -> None:
        if getattr(self._local, "claimed", False):
            self._local.claimed = False
            self._claim.release()

    def _objective(self, trial) -> float:
        self._release_claim()
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", os.getpid())
        try:
            values = suggest(trial, self.dims)
            project = apply_params(self.project, values)
        except (SpaceError, ValueError, KeyError) as exc:
            return self._fail(trial, "config", str(exc))
        project.name = f"{self.study_name}-t{trial.number}"
        return self._train(trial, project, values)

    def _fail(self, trial, kind: str, message: str) -> float:
        trial.set_user_attr("error", f"{kind}: {message}")
        self.on_event("trial_failed", {"number": trial.number, "kind": kind, "message": message})
        raise TrialFailed(message)

    def _train(self, trial, project, values: dict[str, Any]) -> float:
        import optuna

        from studio.core.training import Runner, RunWatcher, TrainingError, new_run_dir

        run_dir = new_run_dir(self.runs_root, project.name)
        trial.set_user_attr("run", str(run_dir))
        runner = Runner(project, run_dir)
        self._runners.append(runner)  # before it starts: the Runner keeps a stop that comes meanwhile
        if self._stopping_runs:  # stop(running=True) came before this trial was listed
            runner.stop()
        try:
            runner.start()
        except TrainingError as exc:
            self._runners.remove(runner)
            return self._fail(trial, "config", str(exc))
        try:
            add_tag(run_dir, f"sweep:{self.study_name}")
        except (OSError, ValueError):
            pass
        self.on_event("trial_started", {"number": trial.number, "params": values, "run": str(run_dir)})
        watcher, pruned = RunWatcher.for_runner(runner), False
        try:
            while not watcher.ended:
                for event in watcher.poll(timeout=0.2):
                    if event["type"] == "epoch" and not event.get("partial"):
                        value = (event.get("logs") or {}).get(self.monitor)
                        if value is not None and value == value:
                            trial.report(float(value), int(event["epoch"]))
                            if not pruned and trial.should_prune():
                                pruned = True
                                watcher.control("stop")
        finally:
            self._runners.remove(runner)
        runner.wait(10)
        if pruned:
            self.on_event("trial_pruned", {"number": trial.number})
            raise optuna.TrialPruned()
        status, error = watcher.state, watcher.error
        if status == "stopped" and self._stopping_runs:
            trial.study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number}, skip_if_exists=False)
            return self._fail(trial, "stopped", "stopped with the sweep; queued again for the next start")
        if status not in ("completed", "stopped"):
            message = f"{error.get('kind')}: {error.get('message')}" if error else ""
            return self._fail(trial, status, message or "the training process ended unexpectedly; see log.txt")
        best = update_summary(run_dir)["best"].get(self.monitor)
        if best is None:
            return self._fail(trial, "config", f"{self.monitor} was never logged: monitor a value the run logs")
        self.on_event("trial_done", {"number": trial.number, "value": best["value"]})
        return float(best["value"])


def event_line(kind: str, data: dict[str, Any]) -> str:
    """One line for a sweep's ``on_event`` (the CLI and the sweep process's log print it)."""
    if kind == "trial_started":
        params = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in data["params"].items())
        return f"trial {data['number']}: {params}"
    if kind == "trial_done":
        return f"trial {data['number']}: {data['value']:.4g}"
    if kind == "trial_pruned":
        return f"trial {data['number']}: pruned"
    if kind == "trial_failed":
        return f"trial {data['number']}: failed ({data['kind']}: {data['message']})"
    return f"{data['count']} trial(s) interrupted by an earlier sweep queued again"  # requeued


@contextlib.contextmanager
def graceful_stop(sweep: Sweep):
    """While the sweep runs, SIGTERM (or CTRL_BREAK) stops it and its running trials gracefully."""
    def handler(signum, _frame):
        print("stopping: no new trials; the running ones stop and are queued again", file=sys.stderr)
        sweep.stop(running=True)

    names = [name for name in ("SIGTERM", "SIGBREAK") if hasattr(signal, name)]
    previous = {name: signal.signal(getattr(signal, name), handler) for name in names}
    try:
        yield
    finally:
        for name, old in previous.items():
            signal.signal(getattr(signal, name), old)


def run_sweep(project_file: str, space: dict, settings: dict[str, Any], runs_root: str) -> None:
    """A whole sweep in this process, its progress on stderr; SIGTERM stops it gracefully.

    Args:
        project_file: the project to vary (a .dlstudio file).
        space: the search space, as in a space file (``parse_space``).
        settings: ``SweepSettings`` fields (storage and study name included).
        runs_root: where the trials' run folders go.

    Raises:
        SpaceError, SweepError: the space or the settings are refused.
    """
    from studio.core.project import load_project

    project = load_project(project_file)
    sweep = Sweep(project, parse_space(space, project), SweepSettings(**settings), project_file, runs_root,
                  on_event=lambda kind, data: print(event_line(kind, data), file=sys.stderr))
    with graceful_stop(sweep):
        sweep.run()


def trials_table(study) -> list[dict[str, Any]]:
    """One row per trial: number, state, value, each parameter, run folder, error."""
    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    rows = []
    for trial in trials:
        rows.append({"number": trial.number, "state": trial.state.name.lower(), "value": trial.value,
                     **{f"param.{key}": value for key, value in trial.params.items()},
                     "run": trial.user_attrs.get("run", ""),
                     "error": trial.user_attrs.get("error", "") or
                     ("interrupted, requeued" if trial.number in retried else "")})
    return rows


def importances(study) -> dict[str, float]:
    """Parameter importances (Optuna's fANOVA); {} until two trials with varied values complete."""
    import optuna

    try:
        return dict(optuna.importance.get_param_importances(study))
    except (ValueError, RuntimeError, ZeroDivisionError):
        return {}


def load_study(storage_url: str, study_name: str):
    """An existing study; SweepError naming the studies present when it does not exist.

    Args:
        storage_url: an Optuna RDB URL (``sqlite:///...``, ``postgresql://...``).
        study_name: the study's name.

    Returns:
        The ``optuna.Study``.

    Raises:
        SweepError: the storage cannot be opened, or holds no study of that name.
    """
    import optuna

    storage = open_storage(storage_url)
    try:
        return optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        names = [summary.study_name for summary in optuna.get_all_study_summaries(storage)]
        raise SweepError(f"no study {study_name!r} in {redact(storage_url)} "
                         f"(studies: {', '.join(names) or 'none'})") from None


def best_project(study, project):
    """``project`` with the best completed trial's parameters; SweepError when none completed.

    Args:
        study: the study.
        project: the project the sweep varied (left unchanged).

    Returns:
        A copy of ``project`` (see ``space.apply_params``).

    Raises:
        SweepError: the study has no completed trial.
    """
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise SweepError(f"study {study.study_name} has no completed trial yet")
    return apply_params(project, study.best_trial.params)


def study_results(storage: str, study_name: str, known_complete: int) -> dict[str, Any]:
    """What the Sweep panel shows of a study: trial rows, direction, log axes and the parameter
    importances (None when the finished trials are still ``known_complete``); running trials' rows
    carry the epochs their run folder has finished so far (column ``epochs``).

    Args:
        storage: the study's storage URL.
        study_name: the study's name.
        known_complete: how many complete trials the caller has already shown importances for.

    Returns:
        ``{"rows": trials_table rows, "maximize": bool, "logs": {param: log scale?},
        "complete": count of complete trials, "importances": dict or None}``.

    Raises:
        SweepError: the storage or the study cannot be opened.
    """
    from optuna.trial import TrialState

    study = load_study(storage, study_name)
    trials = study.get_trials(deepcopy=False)
    logs = {}
    for trial in trials:
        for name, distribution in trial.distributions.items():
            logs[name] = bool(getattr(distribution, "log", False))
    complete = sum(1 for t in trials if t.state == TrialState.COMPLETE)
    rows = trials_table(study)
    for row in rows:
        if row["state"] == "running" and row["run"]:
            row["epochs"] = (read_summary(row["run"]) or {}).get("epochs", 0)
    return {"rows": rows, "maximize": study.direction.name == "MAXIMIZE",
            "logs": logs, "complete": complete,
            "importances": importances(study) if complete != known_complete else None}
