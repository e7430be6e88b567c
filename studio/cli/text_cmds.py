"""``studio generate``: write text with a trained language-model run (e.g. the tiny_gpt template)."""

from __future__ import annotations

from studio.cli import CliError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate", help="write text with a trained language-model run",
        description="Continue a prompt one token at a time with a language model trained on a text "
        "corpus. The same seed and settings always give the same text.")
    parser.add_argument("run", help="run folder of a language model")
    parser.add_argument("--prompt", default="", help="text to continue (default: empty)")
    parser.add_argument("-n", "--tokens", type=int, default=100, help="tokens to generate (default 100)")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="below 1: safer, repetitive text; above 1: more surprising; 0: always the "
                        "likeliest token (default 1)")
    parser.add_argument("--top-k", type=int, default=0, help="sample among the K likeliest tokens only (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--model", default="auto", choices=("auto", "final", "best", "last"),
                        help="which saved model (auto: final, else best, else last checkpoint)")
    parser.set_defaults(func=_generate)


def _generate(args) -> int:
    from studio.core.generative.text import GenerationError, generate, load_language_model, run_vocabulary

    try:
        vocabulary = run_vocabulary(args.run)
        model = load_language_model(args.run, args.model)
        print(generate(model, vocabulary, args.prompt, args.tokens, args.temperature, args.top_k, args.seed))
    except GenerationError as exc:
        raise CliError(str(exc)) from None
    return 0
