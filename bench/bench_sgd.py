"""The simulator's acceptance run on real data: for each SGD service (and the examples),
import with K samples, simulate N dialogues, check them all, and check the gold conversion.

    .venv/bin/python bench/bench_sgd.py [--sgd ../shared/sgd] [-n 10000] [--samples 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import skillspec  # noqa: E402
from simulator.checker import Checker  # noqa: E402
from simulator.generate import generate_chunks  # noqa: E402
from simulator.protocols import Phenomenon  # noqa: E402
from simulator.sgd import import_sgd  # noqa: E402
from simulator.stats import Stats  # noqa: E402

PHENOMENA = [p.value for p in Phenomenon]


def run(name: str, skill: skillspec.Skill, gold: list, n: int, workers: int, seed: int) -> str:
    checker = Checker(skill)
    gold_bad = sum(1 for d in gold if checker.check(d))
    start = time.perf_counter()
    stats = Stats(skill)
    bad = 0
    for text, chunk in generate_chunks(skill, n, seed, workers=workers):
        stats.merge(chunk)
        bad += sum(1 for line in text.splitlines() if checker.check(line))
    seconds = time.perf_counter() - start
    s = stats.compute()
    seen = [p for p in PHENOMENA if s["phenomena"].get(p)]
    missing = [p for p in PHENOMENA if not s["phenomena"].get(p)]
    return (
        f"| {name} | {n:,} | {100 * (n - bad) / n:.1f}% | {seconds:.1f} | {s['distinct_user_texts']:,} "
        f"| {s['distinct_action_paths']:,} | {s['templates']['covered']}/{s['templates']['total']} "
        f"| {len(seen)}/{len(PHENOMENA)}{' (no ' + ', '.join(missing) + ')' if missing else ''} "
        f"| {len(gold) - gold_bad}/{len(gold)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sgd", type=Path, default=ROOT.parent / "shared" / "sgd")
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.workers} workers; generation time includes checking every dialogue"
    )
    print(
        "| skill | dialogues | pass checker | seconds | distinct user texts | distinct action paths "
        "| templates used | phenomena | gold passing checker |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for example in ("flights", "pizza"):
        skill = skillspec.parse_skill((ROOT / "examples" / f"{example}.json").read_bytes())
        print(run(example, skill, [], args.n, args.workers, args.seed), flush=True)
    for path in sorted(args.sgd.glob("dialogues_*.json")):
        service = path.stem.removeprefix("dialogues_")
        started = time.perf_counter()
        result = import_sgd(args.sgd / "schema.json", [path], service, samples=args.samples, seed=None)
        print(f"<!-- {service}: import {time.perf_counter() - started:.1f} s -->", file=sys.stderr)
        print(run(f"SGD {service}", result.skill, result.gold, args.n, args.workers, args.seed), flush=True)


if __name__ == "__main__":
    main()
