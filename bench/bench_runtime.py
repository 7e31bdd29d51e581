"""Runtime latency of one user turn: encode + NER + the action/argument loop + the consistency check.

Replays the user turns of held-out dialogues through ``DialogueManager.respond`` (APIs
answered by the simulator's mock backend), one session per dialogue, and reports the
median and p95 per turn, with the bare encoder's time for the same texts beside it.
Texts are new to the encoder's cache, as in a live conversation.

    .venv/bin/python bench/bench_runtime.py ARTIFACT HELDOUT.jsonl [--turns 500] [--threads 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modeling.runtime import DialogueManager  # noqa: E402
from simulator.backend import MockBackend  # noqa: E402
from simulator.text import Value  # noqa: E402
from skillspec.annotated import AUserTurn, read_dialogues  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("artifact", type=Path)
    parser.add_argument("heldout", type=Path)
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    manager = DialogueManager.load(args.artifact, device=args.device, today=datetime.date(2026, 1, 15))
    backend = MockBackend(manager.skill)
    rng = random.Random(0)

    def execute(api: str, arguments: dict[str, str]) -> dict[str, str] | None:
        result = backend.call(api, {k: Value("", v, v) for k, v in arguments.items()}, rng)
        return {k: v.value for k, v in result.rows[0].items()} if result.success and result.rows else None

    dialogues = [[t.text for t in d.turns if isinstance(t, AUserTurn)] for d in read_dialogues(args.heldout)]
    # Warm up on other texts: the first calls pay for lazy initialisation.
    warm = manager.new_session()
    for text in ["hello there", "I want to go somewhere", "thanks"]:
        manager.respond(warm, text, executor=execute)
    turn_ms: list[float] = []
    encode_ms: list[float] = []
    actions = 0
    for texts in dialogues:
        session = manager.new_session()
        for text in texts:
            manager.encoder._memory.pop(text, None)  # a new utterance: nothing cached
            started = time.perf_counter()
            result = manager.respond(session, text, executor=execute)
            turn_ms.append(1000 * (time.perf_counter() - started))
            actions += len(result.actions)
            manager.encoder._memory.pop(text, None)
            started = time.perf_counter()
            manager.encoder.encode(text)
            encode_ms.append(1000 * (time.perf_counter() - started))
            if len(turn_ms) >= args.turns:
                break
        if len(turn_ms) >= args.turns:
            break
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, torch threads {args.threads}, device {args.device}, "
        f"torch {torch.__version__}"
    )
    print(f"{len(turn_ms)} turns, {actions / len(turn_ms):.2f} actions per turn")
    print("| | median ms | p95 ms | mean ms |")
    print("|---|---:|---:|---:|")
    for name, xs in (("whole turn (respond)", turn_ms), ("bare encoder, same texts", encode_ms)):
        print(f"| {name} | {statistics.median(xs):.1f} | {pct(xs, 0.95):.1f} | {statistics.mean(xs):.1f} |")


if __name__ == "__main__":
    main()
