"""``studio doctor``: the Keras backends on this machine, their GPUs, what each lacks and the one
command that fixes it; ``--bench`` measures them on a project's model (``auto`` then uses it)."""

from __future__ import annotations

import json
import sys

from studio.cli import CliError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check the Keras backends and GPUs; --bench measures them on a model",
        description="Show each Keras backend (TensorFlow, JAX, PyTorch): installed, version, GPUs, "
        "what it lacks and the command that fixes it.")
    parser.add_argument("source", nargs="?", default="small_cnn_28",
                        help="project file or template measured by --bench (default small_cnn_28)")
    parser.add_argument("--bench", action="store_true",
                        help="train the model ~10 s on each backend; `--backend auto` then picks the fastest")
    parser.add_argument("--seconds", type=float, default=10.0, help="benchmark length in all (default 10)")
    parser.add_argument("--json", action="store_true", help="print the facts as JSON")
    parser.set_defaults(func=_doctor)


def _doctor(args) -> int:
    from studio.core.backends import describe, probe_all, resolve
    from studio.core.backends.measure import bench
    from studio.core.backends.measurements import project_signature
    from studio.core.training.config import TrainingConfig

    facts = probe_all()
    report = {"backends": [f.to_dict() for f in facts]}
    if not args.json:
        for item in facts:
            print("\n".join(describe(item)))
    if args.bench:
        from studio.cli.train_cmds import load_source

        project, _ = load_source(args.source)
        usable = [f.name for f in facts if f.usable]
        batch = TrainingConfig.from_dict(project.training).batch_size
        try:
            results = bench(project, batch, args.seconds, usable,
                            progress=None if args.json else lambda text: print(text, file=sys.stderr))
        except ValueError as exc:
            raise CliError(str(exc)) from None
        report["bench"] = results
        if not args.json:
            print(f"\nbenchmark of {project.name} (batch {batch}):")
            for r in results:
                mode = "compiled" if r.get("jit_compile") else "not compiled"
                speed = f"{r['samples_per_s']:,.0f} samples/s" if r.get("samples_per_s") else r.get("error")
                print(f"  {r['backend']:<11} {r.get('device', '?'):<4} {mode:<13} {speed}")
        try:
            report["auto"] = resolve("auto", project_signature(project))
        except ValueError as exc:
            raise CliError(str(exc)) from None
        if not args.json:
            print(f"auto -> {report['auto'][0]}: {report['auto'][1]}")
    if args.json:
        print(json.dumps(report, indent=1))
    return 0 if any(f.usable for f in facts) else 1
