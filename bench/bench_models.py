"""The models' acceptance run on real people's dialogues, through the documented commands.

1. examples/flights.json (unless ``--no-flights``): the default preset's simulated dialogues and
   1,000 held-out ones (another seed); train, evaluate on the held-out ones.
2. For each SGD service: import it with K sample dialogues (the file's first K). The service's
   other dialogues are split by dialogue id, in the file's order, into a fixed *reference-training*
   half (every other one, from the first) and an *evaluation* half (the others). Three rows, all
   evaluated on the evaluation half:

   * ``samples``: trained on the K samples alone;
   * ``default``: the studio's default build (``modeling.presets``): simulate, train on the
     simulated dialogues and the samples (``modeling train``'s recipe);
   * ``reference``: the same models trained on the reference half's real dialogues (and the samples):
     what real data would give.

   Each row's models are also evaluated on the evaluation half with one *out-of-scope* user turn
   inserted into each dialogue: a user turn of another service in ``--sgd`` that asks for a task of
   its own (SGD's INFORM_INTENT), which gold answers with the skill's fallback
   (``fallback_recall``; ``false_fallback_rate`` is measured on the plain evaluation half).

    .venv/bin/python bench/bench_models.py [--sgd ../shared/sgd] [--services A B ...] [--json out.json]

Prints a Markdown table, the importer's coverage and the issue's bars, and writes JSON (``--json``,
by default ``--work``/results.json) with every row's metrics.
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modeling.metrics import CONTRACT_KEYS  # noqa: E402
from modeling.presets import PRESETS  # noqa: E402

KEYS = list(CONTRACT_KEYS)
ROWS = ("samples", "default", "reference")


def sh(*args: str | Path, log: Path | None = None) -> float:
    started = time.perf_counter()
    out = log.open("w") if log else subprocess.DEVNULL
    try:
        subprocess.run([sys.executable, *map(str, args)], check=True, cwd=ROOT, stdout=out, stderr=None)
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    return time.perf_counter() - started


def simulate(skill: Path, n: int, seed: int, out: Path) -> None:
    sh("-m", "simulator", "generate", skill, "-n", n, "--seed", seed, "-o", out, "--workers", 2, "-q")


def train_eval(
    skill: Path, data: list[Path], gold: Path, out: Path, extra: list[str], oos: Path | None = None
) -> tuple[dict, float]:
    seconds = sh("-m", "modeling", "train", skill, *data, "-o", out, "-q", *extra)
    sh("-m", "modeling", "evaluate", out, gold, "--json", out / "eval.json", "--errors", out / "errors.jsonl", "-q")
    m = json.loads((out / "eval.json").read_text())
    if oos is not None:
        # The same dialogues with a turn of another service in each: the fallback's recall there, and
        # how the in-scope turns fare around it (the state must stay as it was).
        sh("-m", "modeling", "evaluate", out, oos, "--json", out / "eval-oos.json", "-q")
        o = json.loads((out / "eval-oos.json").read_text())
        m["fallback_recall"] = o["fallback_recall"]
        m["out_of_scope"] = {k: o[k] for k in (*KEYS, "dialogues", "turns")}
    m["epochs_run"] = json.loads((out / "metrics.json").read_text())["epochs_run"]
    m["train_seconds"] = round(seconds, 1)
    return m, seconds


def split_ids(dialogues_file: Path, samples: int) -> tuple[list[str], list[str]]:
    """The fixed split of a service's dialogues after its samples: (reference-training, evaluation)."""
    ids = [d["dialogue_id"] for d in json.loads(dialogues_file.read_text())]
    rest = ids[samples:]
    return rest[0::2], rest[1::2]


def write_subset(gold: Path, ids: list[str], out: Path) -> int:
    wanted = set(ids)  # the importer names a dialogue sgd-<dialogue_id>
    lines = [
        line for line in gold.read_text().splitlines() if line and json.loads(line)["id"].removeprefix("sgd-") in wanted
    ]
    out.write_text("".join(line + "\n" for line in lines))
    return len(lines)


def other_services_texts(sgd: Path, service: str) -> list[str]:
    """User turns of the other services in ``sgd`` that ask for a task of theirs (SGD's INFORM_INTENT:
    "I'm looking for a house to rent"): out of scope for ``service``. Not every turn of theirs is:
    "yes", "thanks", "on the 6th of March" or "make it for four" are things any skill may hear."""
    texts = []
    for path in sorted(sgd.glob("dialogues_*.json")):
        if path.stem.removeprefix("dialogues_") == service:
            continue
        for d in json.loads(path.read_text()):
            for turn in d["turns"]:
                acts = {a["act"] for f in turn["frames"] for a in f["actions"]} if turn["speaker"] == "USER" else set()
                if "INFORM_INTENT" in acts:
                    texts.append(turn["utterance"])
    return texts


def insert_out_of_scope(gold: Path, skill: Path, texts: list[str], out: Path, seed: int = 0) -> int:
    """``gold`` with one out-of-scope user turn (from ``texts``) inserted into each dialogue, after a
    random system turn, answered by the skill's fallback; later entity turn numbers shift. Returns the count."""
    import random

    import skillspec

    spec = skillspec.parse_skill(skill.read_bytes())
    fallback = skillspec.fallback_template(spec)
    lines = []
    for line in gold.read_text().splitlines():
        d = json.loads(line)
        rng = random.Random(f"{seed}:{d['id']}")
        turns = d["turns"]
        after = [i + 1 for i, t in enumerate(turns) if t["speaker"] == "system" and i + 1 < len(turns)]
        at = rng.choice(after) if after else 0
        for t in turns[at:]:
            for a in t.get("actions", []):
                for arg in a.get("arguments", []):
                    if arg.get("turn", -1) >= at:
                        arg["turn"] += 2
        said = fallback.variants[0]
        d["turns"] = [
            *turns[:at],
            {"speaker": "user", "text": rng.choice(texts), "acts": ["out_of_scope"], "spans": []},
            {
                "speaker": "system",
                "text": said,
                "actions": [
                    {"kind": "response", "name": fallback.name, "arguments": [], "text": said},
                    {"kind": "wait", "name": "wait_for_user"},
                ],
            },
            *turns[at:],
        ]
        lines.append(json.dumps(d, ensure_ascii=False))
    out.write_text("".join(line + "\n" for line in lines))
    return len(lines)


def row(name: str, data: str, m: dict, seconds: float) -> str:
    cells = " | ".join("-" if m.get(k) is None else f"{m[k]:.3f}" for k in KEYS)
    return f"| {name} | {data} | {cells} | {m['dialogues']} / {m['turns']} | {seconds:.0f} s ({m['epochs_run']} ep) |"


def bars(results: dict[str, Any]) -> list[str]:
    """Issue 14's bars, each with what was measured."""
    services = [s for s in results if s != "flights"]
    if not services:
        return []

    def mean(row: str, key: str) -> float:
        return sum(results[s][row][key] for s in services) / len(services)

    out = []
    sig = {s: results[s]["default"]["action_signature_accuracy"] for s in services}
    ref = {s: results[s]["reference"]["action_signature_accuracy"] for s in services}
    low = {s: (0.92 * ref[s] if ref[s] < 0.65 else 0.45) for s in services}
    out.append(
        f"signature accuracy: mean {mean('default', 'action_signature_accuracy'):.3f} (bar 0.60); "
        + ", ".join(f"{s} {sig[s]:.3f} (bar {low[s]:.3f})" for s in services)
    )
    calls = {s: results[s]["default"]["api_call_f1"] for s in services}
    out.append(
        f"api_call_f1: mean {mean('default', 'api_call_f1'):.3f} (bar 0.75, each 0.55): "
        + ", ".join(f"{s} {calls[s]:.3f}" for s in services)
    )
    out.append(f"ner_f1: mean {mean('default', 'ner_f1'):.3f} (bar 0.85)")
    out.append(f"act_f1: mean {mean('default', 'act_f1'):.3f}")
    out.append(
        "default / samples-only signature accuracy (bar 1.5x): "
        + ", ".join(
            f"{s} {sig[s] / max(results[s]['samples']['action_signature_accuracy'], 1e-9):.2f}x" for s in services
        )
    )
    out.append(
        "default / reference signature accuracy (bar 0.9x): "
        + ", ".join(f"{s} {sig[s] / max(ref[s], 1e-9):.2f}x" for s in services)
    )
    out.append(
        "importer coverage, converted / given (bar 95 %): "
        + ", ".join(
            f"{s} {results[s]['coverage']['converted']}/{results[s]['coverage']['given']} "
            f"({100 * results[s]['coverage']['converted'] / max(results[s]['coverage']['given'], 1):.1f} %)"
            for s in services
        )
    )
    recall = {s: results[s]["default"].get("fallback_recall") for s in services}
    if all(v is not None for v in recall.values()):
        out.append(
            "out of scope, fallback recall on inserted turns of other services (bar 0.9): "
            + ", ".join(f"{s} {recall[s]:.3f}" for s in services)
        )
    out.append(
        "in-scope turns wrongly answered with the fallback (bar 2 %): "
        + ", ".join(f"{s} {100 * results[s]['default']['false_fallback_rate']:.1f} %" for s in services)
    )
    if "flights" in results:
        out.append(
            "held-out simulated flights signature accuracy (bar 0.99): "
            f"{results['flights']['default']['action_signature_accuracy']:.3f}"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sgd", type=Path, default=ROOT.parent / "shared" / "sgd", help="a directory in SGD's format")
    parser.add_argument("--services", nargs="*", help="services to run (default: every dialogues_*.json in --sgd)")
    parser.add_argument("--no-flights", action="store_true", help="skip the held-out simulated flights row")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--preset", default="default", choices=list(PRESETS), help="the build recipe measured")
    parser.add_argument("-n", type=int, help="simulated dialogues (default: the preset's)")
    parser.add_argument("--rows", nargs="*", choices=ROWS, default=list(ROWS))
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-models")
    parser.add_argument("--json", type=Path, help="write the results here (default: WORK/results.json)")
    parser.add_argument("--sample-epochs", type=int, default=40, help="samples-only row: at most this many epochs")
    parser.add_argument("--reference-epochs", type=int, default=30, help="reference row: at most this many epochs")
    args = parser.parse_args()
    preset = PRESETS[args.preset]
    n = args.n or preset.dialogues
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    services = args.services or sorted(p.stem.removeprefix("dialogues_") for p in args.sgd.glob("dialogues_*.json"))
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"commit {head.strip()}; preset {args.preset} ({n:,} dialogues, {preset.epochs} epochs)",
        flush=True,
    )
    print(f"| skill | trained on | {' | '.join(KEYS)} | dialogues / turns | training |", flush=True)
    print(f"|---|---|{'---|' * len(KEYS)}---|---|", flush=True)
    results: dict[str, Any] = {}
    preset_args = ["--epochs", str(preset.epochs)]
    if not args.no_flights:
        skill = ROOT / "examples" / "flights.json"
        train, held = work / "flights-train.jsonl", work / "flights-heldout.jsonl"
        simulate(skill, n, preset.seed, train)
        simulate(skill, 1000, preset.seed + 1, held)
        m, s = train_eval(skill, [train], held, work / "flights-default", preset_args)
        results["flights"] = {"default": m}
        print(row("flights (held-out simulated)", f"{n:,} simulated + samples", m, s), flush=True)
    for service in services:
        skill, gold = work / f"{service}.json", work / f"{service}-gold.jsonl"
        dialogues_file = args.sgd / f"dialogues_{service}.json"
        sh(
            "-m", "simulator", "import-sgd", "--schema", args.sgd / "schema.json",
            "--dialogues", dialogues_file, "--service", service,
            "--samples", args.samples, "-o", skill, "--rest-out", gold, log=work / f"{service}-import.txt",
        )  # fmt: skip
        ref_ids, eval_ids = split_ids(dialogues_file, args.samples)
        ref_gold, eval_gold = work / f"{service}-reference.jsonl", work / f"{service}-eval.jsonl"
        coverage = {
            "given": len(ref_ids) + len(eval_ids),
            "converted": write_subset(gold, ref_ids, ref_gold) + write_subset(gold, eval_ids, eval_gold),
        }
        results[service] = {"coverage": coverage, "reference_ids": len(ref_ids), "evaluation_ids": len(eval_ids)}
        oos_gold = work / f"{service}-eval-out-of-scope.jsonl"
        texts = other_services_texts(args.sgd, service)
        inserted = insert_out_of_scope(eval_gold, skill, texts, oos_gold) if texts else 0
        results[service]["out_of_scope_inserted"] = inserted
        samples, sim = work / f"{service}-samples.jsonl", work / f"{service}-sim.jsonl"
        sh("-m", "simulator", "samples", skill, "-o", samples)
        plans = {
            "samples": ([samples], ["--epochs", str(args.sample_epochs), "--patience", "8"], f"{args.samples} samples"),
            "default": ([sim], preset_args, f"{n:,} simulated + samples"),
            "reference": (
                [ref_gold],
                ["--epochs", str(args.reference_epochs), "--patience", "5"],
                "reference half (real) + samples",
            ),
        }
        for label in args.rows:
            data, extra, name = plans[label]
            if label == "default":
                simulate(skill, n, preset.seed, sim)
            oos = oos_gold if inserted else None
            m, s = train_eval(skill, data, eval_gold, work / f"{service}-{label}", extra, oos)
            results[service][label] = m
            print(row(f"{service} (real SGD)", name, m, s), flush=True)
    print()
    if all(label in results[s] for s in results if s != "flights" for label in ROWS):
        for line in bars(results):
            print(f"- {line}")
    out = args.json or work / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
