"""``studio generate``: write text with a trained language-model run (e.g. the tiny_gpt template);
``studio attention``: a run's attention maps per head and token saliency for one sample."""

from __future__ import annotations

from studio.cli import CliError
from studio.cli.options import add_spec_options, checked_values
from studio.core.generative.text import GENERATION_FIELDS


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate", help="write text with a trained language-model run",
        description="Continue a prompt one token at a time with a language model trained on a text "
        "corpus. The same seed and settings always give the same text, here and in the app's Generate view.")
    parser.add_argument("run", help="run folder of a language model")
    parser.add_argument("--prompt", default="", help="text to continue (default: empty)")
    add_spec_options(parser, GENERATION_FIELDS, short={"tokens": "-n"})
    parser.add_argument("--model", default="auto", choices=("auto", "final", "best", "last"),
                        help="which saved model (auto: final, else best, else last checkpoint)")
    parser.set_defaults(func=_generate)

    attention = subparsers.add_parser(
        "attention", help="save a run's attention maps per head for one sample as a PNG",
        description="Draw each head of an attention layer (Attention, AdditiveAttention, MultiHeadAttention; "
        "rows: queries, columns: keys) for "
        "one sample, with the tokens' saliency (gradient x embedding) under each map.")
    attention.add_argument("run", help="run folder of a model with an attention layer "
                           "(e.g. tiny_gpt, seq2seq_attention)")
    attention.add_argument("--layer", help="attention layer name (default: the first)")
    attention.add_argument("--sample", type=int, default=0, help="index of the sample in the split (default 0)")
    attention.add_argument("--split", default="test", choices=("train", "val", "test"),
                           help="dataset split to use (default test)")
    attention.add_argument("--model", default="auto", choices=("auto", "final", "best", "last"),
                           help="which saved model (auto: final, else best, else last checkpoint)")
    attention.add_argument("-o", "--output", required=True, help="PNG file to write")
    attention.set_defaults(func=_attention)


def _generate(args) -> int:
    from studio.core.generative import GenerativeError
    from studio.core.generative.text import generate, load_language_model, run_vocabulary

    settings = checked_values(args, GENERATION_FIELDS)
    try:
        vocabulary = run_vocabulary(args.run)
        model = load_language_model(args.run, args.model)
        print(generate(model, vocabulary, args.prompt, **settings))
    except GenerativeError as exc:
        raise CliError(str(exc)) from None
    return 0


def _attention(args) -> int:
    from pathlib import Path

    import numpy as np

    from studio.core.data import DataError
    from studio.core.data.tokenize import dataset_vocabulary
    from studio.core.inspect import InspectError, open_run
    from studio.core.inspect.attention import attention_maps, attention_picture, token_saliency
    from studio.core.inspect.render import save_png
    from studio.core.project import ProjectError

    output = Path(args.output)
    if output.suffix.lower() != ".png" or not output.parent.is_dir():
        raise CliError(f"{output} should be a .png file in an existing folder")
    try:
        contents = open_run(args.run, args.model)
        x, _y = contents.dataset.split(args.split)
        if not 0 <= args.sample < len(x):
            raise CliError(f"--sample {args.sample} is out of range; the {args.split} split has {len(x)} "
                           f"samples (0..{len(x) - 1})")
        maps = attention_maps(contents.model, x[args.sample], args.layer)
        saliency, target = token_saliency(contents.model, x[args.sample])
    except (InspectError, ProjectError, DataError) as exc:
        raise CliError(str(exc)) from None
    save_png(output, attention_picture(maps, saliency))
    vocabulary = dataset_vocabulary(contents.dataset)
    words = vocabulary.tokens if vocabulary else None
    label = (lambda i: repr(words[i]) if words and 0 <= i < len(words) else str(i))  # noqa: E731
    top = np.argsort(saliency)[::-1][:5]
    print(f"layer {maps.layer} on {args.split} sample {args.sample}: {maps.scores.shape[0]} heads, "
          f"{maps.scores.shape[1]} x {maps.scores.shape[2]} steps; explained prediction {label(target)}")
    print("most salient tokens: " + ", ".join(f"{label(int(maps.tokens[i]))}@{i} ({saliency[i]:.2f})" for i in top))
    print(f"wrote {output}")
    return 0
