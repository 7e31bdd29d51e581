"""The simulator's command line: ``python -m simulator {generate,validate,samples,import-sgd}``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from tqdm import tqdm

import skillspec
from skillspec.annotated import write_dialogues
from skillspec.cli import load_skill_or_exit


def cmd_generate(args: argparse.Namespace) -> int:
    from .generate import generate_chunks
    from .stats import Stats, format_stats

    skill = load_skill_or_exit(args.skill)
    stats = Stats(skill)
    started = time.perf_counter()
    with (
        open(args.output, "w", encoding="utf-8") as out,
        tqdm(total=args.n, unit="dlg", desc="simulating", disable=args.quiet, file=sys.stderr) as bar,
    ):
        for text, chunk_stats in generate_chunks(skill, args.n, args.seed, workers=args.workers, progress=bar.update):
            out.write(text)
            stats.merge(chunk_stats)
    elapsed = time.perf_counter() - started
    result = stats.compute()
    result["seconds"] = round(elapsed, 2)
    if args.stats_json:
        args.stats_json.write_text(json.dumps(result, indent=2) + "\n")
    print(format_stats(result))
    print(f"wrote {args.n:,} dialogues to {args.output} in {elapsed:.1f} s ({args.n / elapsed:,.0f}/s)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .checker import check_file

    skill = load_skill_or_exit(args.skill)
    n, problems = check_file(skill, args.dialogues)
    for line_no, issue in problems[: args.max_report]:
        print(f"{args.dialogues}:{line_no}: {issue}")
    if len(problems) > args.max_report:
        print(f"... and {len(problems) - args.max_report} more")
    bad = len({line for line, _ in problems})
    print(f"{n:,} dialogues checked: {n - bad:,} valid, {bad:,} with problems ({len(problems):,} problems)")
    return 1 if problems else 0


def cmd_samples(args: argparse.Namespace) -> int:
    from .samples import samples_to_annotated

    skill = load_skill_or_exit(args.skill)
    dialogues = samples_to_annotated(skill, seed=args.seed)
    with open(args.output, "w", encoding="utf-8") as out:
        n = write_dialogues(dialogues, out)
    print(f"wrote {n} sample dialogues to {args.output}")
    return 0


def cmd_import_sgd(args: argparse.Namespace) -> int:
    from .sgd import import_sgd

    result = import_sgd(args.schema, args.dialogues, args.service, samples=args.samples, seed=args.seed)
    args.output.write_text(skillspec.dump_skill(result.skill))
    with open(args.rest_out, "w", encoding="utf-8") as out:
        write_dialogues(result.gold, out)
    print(result.report.summary())
    print(
        f"wrote skill {result.skill.name!r} to {args.output} and {len(result.gold)} gold dialogues to {args.rest_out}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description="Colloquy's dialogue simulator.")
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="simulate annotated dialogues of a skill")
    g.add_argument("skill", type=Path, help="skill spec JSON")
    g.add_argument("-n", type=int, default=10_000, help="how many dialogues (default 10,000)")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("-o", "--output", type=Path, required=True, help="JSON Lines file to write")
    g.add_argument("--workers", type=int, default=1, help="processes; the output is the same for any number")
    g.add_argument("--stats-json", type=Path, help="also write the statistics as JSON")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=cmd_generate)

    v = sub.add_parser("validate", help="check annotated dialogues against a skill")
    v.add_argument("skill", type=Path)
    v.add_argument("dialogues", type=Path)
    v.add_argument("--max-report", type=int, default=50, help="problems to print (default 50)")
    v.set_defaults(func=cmd_validate)

    s = sub.add_parser("samples", help="a skill's own sample dialogues in the annotated format")
    s.add_argument("skill", type=Path)
    s.add_argument("-o", "--output", type=Path, required=True)
    s.add_argument("--seed", type=int, default=0, help="seeds the mock API results")
    s.set_defaults(func=cmd_samples)

    i = sub.add_parser("import-sgd", help="import a Schema-Guided Dialogue service as a skill plus gold dialogues")
    i.add_argument("--schema", type=Path, required=True)
    i.add_argument("--dialogues", type=Path, nargs="+", required=True)
    i.add_argument("--service", required=True)
    i.add_argument("--samples", type=int, default=10, help="dialogues that become sample dialogues")
    i.add_argument("--seed", type=int, default=None, help="choose the samples at random with this seed")
    i.add_argument("-o", "--output", type=Path, required=True, help="skill JSON to write")
    i.add_argument("--rest-out", type=Path, required=True, help="gold annotated dialogues (JSON Lines) to write")
    i.set_defaults(func=cmd_import_sgd)

    args = parser.parse_args(argv)
    if getattr(args, "n", 1) < 1 or getattr(args, "workers", 1) < 1:
        parser.error("-n and --workers must be at least 1")
    return int(args.func(args))


if __name__ == "__main__":
    # `validate ... | head` should stop quietly, as other command-line tools do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    raise SystemExit(main())
