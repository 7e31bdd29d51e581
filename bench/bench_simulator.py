"""Simulator speed: dialogues per second, one process and several, and determinism across them.

    .venv/bin/python bench/bench_simulator.py [examples/flights.json ...] [-n 10000] [--workers 1 2]

For each skill and worker count it runs ``python -m simulator generate`` in a fresh process
(timing the whole command, start-up included), then checks that every run wrote the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("skills", nargs="*", type=Path, default=[ROOT / "examples" / "flights.json"])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| skill | dialogues | workers | seconds | dialogues/s | sha256 (first 12) |")
    print("|---|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for skill in args.skills:
            digests = set()
            for workers in args.workers:
                out = Path(tmp) / f"{skill.stem}-{workers}.jsonl"
                cmd = [
                    sys.executable,
                    "-m",
                    "simulator",
                    "generate",
                    str(skill),
                    "-n",
                    str(args.n),
                    "--seed",
                    str(args.seed),
                    "-o",
                    str(out),
                    "--workers",
                    str(workers),
                    "--quiet",
                ]
                start = time.perf_counter()
                subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
                seconds = time.perf_counter() - start
                digest = hashlib.sha256(out.read_bytes()).hexdigest()
                digests.add(digest)
                rate = args.n / seconds
                print(f"| {skill.stem} | {args.n:,} | {workers} | {seconds:.1f} | {rate:,.0f} | {digest[:12]} |")
            if len(digests) != 1:
                raise SystemExit(f"{skill}: output differs between worker counts")
    print("identical output for every worker count: yes")


if __name__ == "__main__":
    main()
