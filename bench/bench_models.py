"""The models' acceptance run, through the documented commands.

1. examples/flights.json: simulate N training dialogues and 1,000 held-out ones (another
   seed), train, evaluate on the held-out ones.
2. For each SGD service: import it with K sample dialogues; train on the samples alone and
   on N simulated dialogues; evaluate both on the rest of the service's real dialogues.

    .venv/bin/python bench/bench_models.py [--sgd ../shared/sgd] [-n 10000] [--only flights Homes_1 ...]

Prints a Markdown table (and writes every metrics file under --work).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modeling.metrics import CONTRACT_KEYS  # noqa: E402

SERVICES = ["Flights_1", "Homes_1", "RentalCars_1", "Restaurants_1"]
KEYS = list(CONTRACT_KEYS)


def sh(*args: str | Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *map(str, args)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def train_eval(skill: Path, data: Path, gold: Path, out: Path, extra: list[str]) -> tuple[dict, float]:
    seconds = sh("-m", "modeling", "train", skill, data, "-o", out, "-q", *extra)
    sh("-m", "modeling", "evaluate", out, gold, "--json", out / "eval.json", "--errors", out / "errors.jsonl", "-q")
    return json.loads((out / "eval.json").read_text()), seconds


def row(name: str, data: str, m: dict, seconds: float, epochs: int) -> str:
    cells = " | ".join(f"{m[k]:.3f}" for k in KEYS)
    return f"| {name} | {data} | {cells} | {m['dialogues']} / {m['turns']} | {seconds:.0f} s ({epochs} ep) |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sgd", type=Path, default=ROOT.parent / "shared" / "sgd")
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-models")
    parser.add_argument("--only", nargs="*", help="flights and/or SGD service names")
    parser.add_argument("--sim-epochs", type=int, default=8)
    parser.add_argument("--sample-epochs", type=int, default=40)
    args = parser.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    wanted = set(args.only or ["flights", *SERVICES])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}", flush=True)
    print(f"| skill | trained on | {' | '.join(KEYS)} | dialogues / turns | training |", flush=True)
    print(f"|---|---|{'---|' * len(KEYS)}---|---|", flush=True)
    results: dict[str, dict] = {}
    sim_args = ["--epochs", str(args.sim_epochs)]
    sample_args = ["--epochs", str(args.sample_epochs), "--patience", "8"]
    if "flights" in wanted:
        skill = ROOT / "examples" / "flights.json"
        train, held = work / "flights-train.jsonl", work / "flights-heldout.jsonl"
        sh("-m", "simulator", "generate", skill, "-n", args.n, "--seed", 1, "-o", train, "--workers", 2, "-q")
        sh("-m", "simulator", "generate", skill, "-n", 1000, "--seed", 2, "-o", held, "--workers", 2, "-q")
        m, s = train_eval(skill, train, held, work / "flights-sim", sim_args)
        epochs = json.loads((work / "flights-sim" / "metrics.json").read_text())["epochs_run"]
        results["flights"] = {"simulated": m, "train_seconds": s}
        print(row("flights (held-out simulated)", f"{args.n:,} simulated", m, s, epochs), flush=True)
    for service in SERVICES:
        if service not in wanted:
            continue
        skill, gold = work / f"{service}.json", work / f"{service}-gold.jsonl"
        sh(
            "-m", "simulator", "import-sgd", "--schema", args.sgd / "schema.json",
            "--dialogues", args.sgd / f"dialogues_{service}.json", "--service", service,
            "--samples", args.samples, "-o", skill, "--rest-out", gold,
        )  # fmt: skip
        samples, sim = work / f"{service}-samples.jsonl", work / f"{service}-sim.jsonl"
        sh("-m", "simulator", "samples", skill, "-o", samples)
        sh("-m", "simulator", "generate", skill, "-n", args.n, "--seed", 1, "-o", sim, "--workers", 2, "-q")
        results[service] = {}
        for label, data, extra, name in (
            ("samples", samples, sample_args, f"{args.samples} samples"),
            ("simulated", sim, sim_args, f"{args.n:,} simulated"),
        ):
            out = work / f"{service}-{label}"
            m, s = train_eval(skill, data, gold, out, extra)
            epochs = json.loads((out / "metrics.json").read_text())["epochs_run"]
            results[service][label] = m
            print(row(f"{service} (real SGD)", name, m, s, epochs), flush=True)
        better = (
            results[service]["simulated"]["action_signature_accuracy"]
            > results[service]["samples"]["action_signature_accuracy"]
        )
        results[service]["simulated_beats_samples"] = better
    (work / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
