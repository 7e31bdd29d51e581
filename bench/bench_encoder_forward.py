"""The encoder's lean forward pass against the Transformers model's own, side by side in one run.

Both give bit-identical embeddings (tests/test_encoder_precision.py); this measures what
the lean one saves. For each precision (int8, the CPU default, and fp32) and each torch
thread count, on the same texts (distinct user texts of a flights simulation, nothing
cached): batch encoding as builds do it (``encode_many``, batches of 64) and one text at a
time as the runtime does it. The two paths alternate, ``--rounds`` times each, and the
median round is reported. Nothing else should run meanwhile.

    .venv/bin/python bench/bench_encoder_forward.py [--texts 2000] [--single 300] [--rounds 3]

Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_encoder import simulate, user_texts  # noqa: E402  (the bench folder is on the path of its scripts)


def flights_texts(n: int) -> list[str]:
    import skillspec

    skill = skillspec.parse_skill((ROOT / "examples" / "flights.json").read_bytes())
    return user_texts(simulate(skill, 2000, 3))[:n]


def timed(encoder, texts: list[str], *, lean: bool, one_at_a_time: bool) -> float:  # type: ignore[no-untyped-def]
    encoder.lean = lean
    encoder._memory.clear()  # nothing cached: every text is encoded
    started = time.perf_counter()
    if one_at_a_time:
        for text in texts:
            encoder.encode(text)
    else:
        encoder.encode_many(texts)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--single", type=int, default=300, help="texts encoded one at a time")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    from modeling.encoder import TextEncoder

    texts = flights_texts(args.texts)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"torch {torch.__version__}, commit {commit.strip()}, load {os.getloadavg()[0]:.2f} at start, "
          f"{len(texts)} texts", flush=True)  # fmt: skip
    print("| precision | threads | batches of 64: model's forward | lean | one text: model's forward | lean |")
    print("|---|---:|---:|---:|---:|---:|")
    for precision in ("int8", "fp32"):
        encoder = TextEncoder(precision=precision, device="cpu")
        if not encoder.lean:
            raise SystemExit(f"{encoder.path}: not a plain BERT, the lean pass does not apply")
        encoder.encode_many(texts[:64])  # warm up: the first batches pay for lazy initialisation
        for threads in args.threads:
            torch.set_num_threads(threads)
            row = []
            for one in (False, True):
                sample = texts[: args.single] if one else texts
                runs: dict[bool, list[float]] = {False: [], True: []}
                for _ in range(args.rounds):
                    for lean in (False, True):
                        runs[lean].append(timed(encoder, sample, lean=lean, one_at_a_time=one))
                for lean in (False, True):
                    seconds = statistics.median(runs[lean])
                    per_text = f"{1000 * seconds / len(sample):.2f} ms/text"
                    row.append(per_text if one else f"{len(sample) / seconds:.0f} texts/s")
            print(f"| {precision} | {threads} | " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
