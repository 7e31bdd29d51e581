"""The fp32 encoder against its int8 dynamic quantisation, side by side in one run.

For each precision, on the same inputs: encoding throughput (distinct user texts of the
flights simulation, a fresh encoder, nothing cached), the models' quality on flights
held-out simulated dialogues and on one SGD service's real dialogues (10 samples, then the
build's recipe: ``-n`` simulated dialogues and the samples, the default epochs), and the
runtime's in-process turn latency (a search -> book dialogue, again and again, on the
flights manager). Nothing else should run meanwhile.

    .venv/bin/python bench/bench_encoder.py [--sgd ../shared/sgd --service Restaurants_1] [-n 10000]

Prints Markdown tables (and writes var/bench-encoder/results.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modeling.metrics import CONTRACT_KEYS  # noqa: E402

PRECISIONS = ("fp32", "int8")


def simulate(skill, n: int, seed: int) -> list:  # type: ignore[no-untyped-def]
    from simulator.generate import generate_lines
    from skillspec.annotated import AnnotatedDialogue

    text = "".join(generate_lines(skill, n, seed, workers=2))
    return [AnnotatedDialogue.model_validate_json(line) for line in text.splitlines()]


def user_texts(dialogues) -> list[str]:  # type: ignore[no-untyped-def]
    from skillspec.annotated import AUserTurn

    return list(dict.fromkeys(t.text for d in dialogues for t in d.turns if isinstance(t, AUserTurn)))


def train_and_evaluate(skill, data, gold, out: Path, encoder) -> tuple[dict, float]:  # type: ignore[no-untyped-def]
    from modeling.evaluate import evaluate
    from modeling.runtime import DialogueManager
    from modeling.train import TrainConfig, train

    started = time.perf_counter()
    train(skill, data, out, TrainConfig(seed=1, encoder_precision=encoder.precision), encoder=encoder)
    seconds = time.perf_counter() - started
    return evaluate(DialogueManager.load(out, encoder=encoder), gold), seconds


def turn_latency(artifact: Path, encoder, dialogues, turns: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """In-process turn latency on held-out user turns, each new to the encoder (as bench_runtime.py)."""
    import random

    from modeling.runtime import DialogueManager
    from simulator.backend import MockBackend
    from simulator.text import Value
    from skillspec.annotated import AUserTurn

    manager = DialogueManager.load(artifact, encoder=encoder)
    backend, rng = MockBackend(manager.skill), random.Random(0)

    def execute(api: str, arguments: dict[str, str]) -> dict[str, str] | None:
        result = backend.call(api, {k: Value("", v, v) for k, v in arguments.items()}, rng)
        return {k: v.value for k, v in result.rows[0].items()} if result.success and result.rows else None

    warm = manager.new_session()
    for text in ["hello there", "I want to go somewhere", "thanks"]:
        manager.respond(warm, text, executor=execute)
    times: list[float] = []
    for d in dialogues:
        session = manager.new_session()
        for text in (t.text for t in d.turns if isinstance(t, AUserTurn)):
            manager.encoder._memory.pop(text, None)  # a new utterance: nothing cached
            started = time.perf_counter()
            manager.respond(session, text, executor=execute)
            times.append((time.perf_counter() - started) * 1000)
        if len(times) >= turns:
            break
    times.sort()
    return {"turns": len(times), "p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * len(times)) - 1]}


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sgd", type=Path, default=ROOT.parent / "shared" / "sgd")
    parser.add_argument("--service", default="Restaurants_1")
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-encoder")
    args = parser.parse_args()
    import skillspec
    from modeling.encoder import TextEncoder
    from simulator.samples import samples_to_annotated
    from simulator.sgd import import_sgd

    args.work.mkdir(parents=True, exist_ok=True)
    flights = skillspec.parse_skill((ROOT / "examples" / "flights.json").read_bytes())
    train_f, held_f = simulate(flights, args.n, 1), simulate(flights, 1000, 2)
    imported = import_sgd(args.sgd / "schema.json", [args.sgd / f"dialogues_{args.service}.json"], args.service)
    sgd_skill = imported.skill
    sgd_train = simulate(sgd_skill, args.n, 1) + [d for d in samples_to_annotated(sgd_skill) if not d.test]
    texts = user_texts(train_f)[:3000]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"commit {commit.strip()}, load {os.getloadavg()[0]:.2f} at start", flush=True)  # fmt: skip
    results: dict[str, dict] = {}
    for precision in PRECISIONS:
        encoder = TextEncoder(precision=precision, device="cpu")
        started = time.perf_counter()
        encoder.encode_many(texts)
        r: dict = {"encode_texts_per_second": len(texts) / (time.perf_counter() - started)}
        r["flights"], r["flights_train_seconds"] = train_and_evaluate(
            flights, train_f, held_f, args.work / f"flights-{precision}", encoder
        )
        r["sgd"], r["sgd_train_seconds"] = train_and_evaluate(
            sgd_skill, sgd_train, imported.gold, args.work / f"{args.service}-{precision}", encoder
        )
        r["turn"] = turn_latency(args.work / f"flights-{precision}", encoder, held_f, args.turns)
        results[precision] = r
        print(f"  {precision}: {json.dumps({k: v for k, v in r.items() if k not in ('flights', 'sgd')})}", flush=True)
    print("| precision | encoding texts/s | flights train s | SGD train s | turn p50 | turn p95 |")
    print("|---|---:|---:|---:|---:|---:|")
    for p, r in results.items():
        turn = r["turn"]
        print(f"| {p} | {r['encode_texts_per_second']:.0f} | {r['flights_train_seconds']:.0f} | "
              f"{r['sgd_train_seconds']:.0f} | {turn['p50_ms']:.1f} ms | {turn['p95_ms']:.1f} ms |")  # fmt: skip
    print(f"\n| data | precision | {' | '.join(CONTRACT_KEYS)} |")
    print(f"|---|---|{'---:|' * len(CONTRACT_KEYS)}")
    for data, label in (("flights", "flights held-out simulated"), ("sgd", f"{args.service} real")):
        for p, r in results.items():
            print(f"| {label} | {p} | {' | '.join(_cell(r[data].get(k)) for k in CONTRACT_KEYS)} |")
    worst = max(
        results["fp32"][d][k] - results["int8"][d][k]
        for d in ("flights", "sgd")
        for k in CONTRACT_KEYS
        if results["fp32"][d].get(k) is not None and results["int8"][d].get(k) is not None
    )
    print(f"\nlargest drop int8 vs fp32 on a contract metric: {worst:.4f} (adopt int8 only where <= 0.01)")
    (args.work / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
