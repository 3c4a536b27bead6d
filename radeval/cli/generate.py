"""``radeval generate``: reports for every case of an embedding file from a trained generator directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from radeval.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``generate`` subcommand."""
    p = sub.add_parser("generate", help="generate reports with a trained generator",
                       description="Batched, KV-cached generation; an interrupted run resumes from "
                                   "<out>.partial.jsonl.")
    p.add_argument("--model", type=Path, required=True, help="generator directory written by `radeval train`")
    p.add_argument("--embeddings", type=Path, help="embedding file of the cases to report on")
    p.add_argument("--data", type=Path, help="dataset directory holding <split>.safetensors")
    p.add_argument("--split", default="test", help="split name inside --data (default: test)")
    p.add_argument("--out", type=Path, required=True, help="predictions file (JSONL id/text)")
    p.add_argument("--batch-size", type=int, default=8, help="cases decoded together (default: %(default)s)")
    p.add_argument("--max-new-tokens", type=int, help="override the model's cap on generated tokens")
    p.add_argument("--num-beams", type=int,
                   help="beam search with this many beams (default: the model's; greedy except r2gengpt, 3)")
    p.add_argument("--repetition-penalty", type=float,
                   help="penalty on already generated tokens, > 1 discourages repeats (default: the model's)")
    p.add_argument("--length-penalty", type=float,
                   help="beam search: exponent of the length dividing a hypothesis' log-probability "
                        "(default: the model's)")
    p.add_argument("--min-new-tokens", type=int, help="forbid EOS before this many tokens (default: the model's)")
    p.add_argument("--early-stopping", choices=["false", "true", "never"],
                   help="beam search: when a case's search ends, as Hugging Face generate (default: the model's)")
    p.add_argument("--llm", help="another copy of the frozen LLM (same weights) than the one recorded")
    p.add_argument("--no-resume", action="store_true", help="ignore a partial file from an interrupted run")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``radeval generate``."""
    from radeval_models.dataset_dir import split_embeddings
    from radeval_models.generation import generate_reports

    embeddings = args.embeddings or (split_embeddings(args.data, args.split) if args.data else None)
    if embeddings is None:
        raise InputError("give --embeddings FILE or --data DIR")
    overrides = {}
    if args.max_new_tokens is not None:
        overrides["max_new_tokens"] = args.max_new_tokens
    if args.llm:
        overrides["llm"] = args.llm
    early = {"false": False, "true": True, "never": "never", None: None}[args.early_stopping]
    decoding = {"num_beams": args.num_beams, "repetition_penalty": args.repetition_penalty,
                "length_penalty": args.length_penalty, "min_new_tokens": args.min_new_tokens, "early_stopping": early}
    summary = generate_reports(args.model, embeddings, args.out, batch_size=args.batch_size,
                               resume=not args.no_resume, quiet=args.quiet,
                               decoding={k: v for k, v in decoding.items() if v is not None}, **overrides)
    print(f"{summary.n_cases} report(s) ({summary.n_generated} generated now) -> {summary.out_path}")
    if summary.decoding is not None:
        print("decoding: " + ", ".join(f"{k}={v}" for k, v in summary.decoding.items()))
    return 0
