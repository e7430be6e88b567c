"""Command-line options come from the settings' ParamSpecs: the same defaults, types and checks as the
app's editors (``studio generate`` writes the same text as the Generate view for the same run)."""

from studio.cli import build_parser, main
from studio.core.generative.text import GENERATION_FIELDS
from studio.core.training.config import TRAINING_FIELDS
from studio.core.transfer.lesson import SETTINGS


def test_generate_options_take_the_generation_settings_defaults():
    args = build_parser("generate").parse_args(["generate", "RUN"])
    assert {spec.name: getattr(args, spec.name) for spec in GENERATION_FIELDS} == {
        spec.name: spec.default for spec in GENERATION_FIELDS}
    assert (args.temperature, args.top_k) == (0.8, 5)
    args = build_parser("generate").parse_args(["generate", "RUN", "-n", "7", "--top-k", "2"])
    assert (args.tokens, args.top_k) == (7, 2)


def test_a_value_the_spec_refuses_names_the_option(tmp_path, capsys):
    assert main(["generate", str(tmp_path), "--temperature", "9"]) == 2
    assert "--temperature: temperature must be at most 5" in capsys.readouterr().err
    assert main(["lesson", "transfer", "--fraction", "0.9", "--runs-dir", str(tmp_path)]) == 2
    assert "--fraction: fraction must be at most 0.5" in capsys.readouterr().err


def test_lesson_defaults_and_training_overrides():
    args = build_parser("lesson").parse_args(["lesson", "transfer"])
    assert {spec.name: getattr(args, spec.name) for spec in SETTINGS} == {spec.name: spec.default for spec in SETTINGS}
    args = build_parser("train").parse_args(["train", "small_cnn_28"])
    assert all(getattr(args, name) is None for name in ("epochs", "batch_size", "objective", "init_from"))
    help_text = build_parser("train").format_help() + build_parser("train")._subparsers._group_actions[0].choices[
        "train"].format_help()
    batch = next(spec for spec in TRAINING_FIELDS if spec.name == "batch_size")
    assert f"{batch.describe()}, overriding the project's value" in " ".join(help_text.split())


def test_doctor_bench_reports_the_training_specs_batch_size(monkeypatch, capsys):
    from studio.core import backends
    from studio.core.backends import measure
    from studio.core.training import config

    real = config.TrainingConfig.from_dict
    # as if the spec's default were 7: a project without batch_size is measured and reported with it
    monkeypatch.setattr(config.TrainingConfig, "from_dict", classmethod(lambda cls, data: real({"batch_size": 7,
                                                                                                **(data or {})})))
    monkeypatch.setattr(backends, "probe_all", lambda: [])
    monkeypatch.setattr(backends, "resolve", lambda choice, signature: ("jax", "measured fastest"))
    measured = []
    monkeypatch.setattr(measure, "bench", lambda project, batch, seconds, usable, progress: measured.append(batch) or [])
    monkeypatch.setattr("studio.cli.train_cmds.load_source", lambda source: (_project_without_batch_size(), None))
    main(["doctor", "--bench"])  # exit 1: no usable backend was probed
    assert "(batch 7):" in capsys.readouterr().out and measured == [7]


def _project_without_batch_size():
    from studio.core.project import default_project

    project = default_project()
    project.training = {key: value for key, value in project.training.items() if key != "batch_size"}
    return project
