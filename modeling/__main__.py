"""The models' command line: ``python -m modeling {train,evaluate,chat}``."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from skillspec.annotated import REFERENCE_DATE, AnnotatedDialogue, read_dialogues
from skillspec.cli import load_skill_or_exit

from .encoder import PRECISIONS, set_cpu_threads


def _load_dialogues(path: Path) -> list[AnnotatedDialogue]:
    try:
        return list(read_dialogues(path))
    except OSError as exc:
        raise SystemExit(f"{path}: {exc.strerror}") from None
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def _threads(n: int | None) -> None:
    set_cpu_threads(n)


def cmd_train(args: argparse.Namespace) -> int:
    from .train import Progress, TrainConfig, train

    _threads(args.threads)
    skill = load_skill_or_exit(args.skill)
    from simulator.samples import training_set

    # The recipe of a studio build: the files' dialogues and the skill's own samples.
    given = [d for path in args.dialogues for d in _load_dialogues(path)]
    dialogues = training_set(skill, given, samples=not args.no_samples)
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        patience=args.patience,
        validation_fraction=args.validation,
        seed=args.seed,
        device=args.device,
        encoder=str(args.encoder) if args.encoder else None,
        cache_dir=str(args.cache_dir) if args.cache_dir else None,
        sample_weight=args.sample_weight,
        finetune_layers=args.finetune_layers,
        finetune_epochs=args.finetune_epochs,
        encoder_precision=args.encoder_precision,
    )
    bars: dict[str, Any] = {}

    def show(p: Progress) -> None:
        if args.quiet:
            return
        key = {"train": f"epoch {p.epoch}", "finetune": "fine-tune encoder"}.get(p.phase, p.phase)
        if p.phase == "validate":
            m = p.metrics or {}
            acc = ", ".join(f"{k} {v['accuracy']:.4f} (loss {v['loss']:.4f})" for k, v in m.items())
            tqdm.write(f"epoch {p.epoch}: train loss {p.loss:.4f}; validation {acc}", file=sys.stderr)
            return
        if p.phase == "done":
            return
        bar = bars.get(key)
        if bar is None:
            bar = bars[key] = tqdm(
                total=p.total, desc=key, unit="batch" if p.phase in ("train", "finetune") else "item", file=sys.stderr
            )
        bar.n = p.done
        if p.loss is not None:
            bar.set_postfix(loss=f"{p.loss:.4f}", refresh=False)
        bar.refresh()
        if p.done >= p.total:
            bar.close()

    started = time.perf_counter()
    try:
        metrics = train(skill, dialogues, args.output, config, progress=show)
    except (ValueError, FileNotFoundError) as exc:
        raise SystemExit(f"error: {exc}") from None
    val = metrics["validation"]
    print(
        f"trained in {time.perf_counter() - started:.1f} s ({metrics['epochs_run']} epochs); validation: "
        + ", ".join(f"{k} accuracy {v['accuracy']:.4f}" for k, v in val.items())
    )
    print(f"wrote {args.output}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate
    from .metrics import CONTRACT_KEYS
    from .runtime import DialogueManager

    _threads(args.threads)
    try:
        manager = DialogueManager.load(args.artifact, device=args.device)
    except (ValueError, FileNotFoundError) as exc:
        raise SystemExit(f"error: {exc}") from None
    gold = _load_dialogues(args.gold)
    mismatched = [d.id for d in gold if d.skill != manager.skill.name]
    if mismatched:
        raise SystemExit(
            f"error: {len(mismatched)} dialogue(s) are not for skill {manager.skill.name!r}, e.g. {mismatched[0]}"
        )
    today = datetime.date.fromisoformat(args.today) if args.today else REFERENCE_DATE
    errors: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tqdm(total=len(gold), unit="dlg", desc="evaluating", disable=args.quiet, file=sys.stderr) as bar:
        result = evaluate(manager, gold, today=today, progress=bar.update, errors=errors)
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.errors:
        args.errors.write_text("".join(json.dumps(e) + "\n" for e in errors))
    for key in CONTRACT_KEYS:
        value = result[key]
        print(f"{key:<27} {'-' if value is None else f'{value:.4f}'}")
    print(f"{result['dialogues']} dialogues, {result['turns']} system turns, {result['seconds']} s")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    import random

    from simulator.backend import MockBackend

    from .runtime import DialogueManager

    _threads(args.threads)
    manager = DialogueManager.load(args.artifact)
    backend = MockBackend(manager.skill)
    rng = random.Random(args.seed)

    def execute(api: str, arguments: dict[str, str]) -> dict[str, str] | None:
        from simulator.text import Value

        values = {k: Value("", v, v) for k, v in arguments.items()}
        result = backend.call(api, values, rng)
        return {k: v.value for k, v in result.rows[0].items()} if result.success and result.rows else None

    session = manager.new_session()
    print(f"Chatting with {manager.skill.name} (mock APIs). An empty line ends.", file=sys.stderr)
    for line in sys.stdin:
        text = line.strip()
        if not text:
            break
        turn = manager.respond(session, text, executor=execute)
        if args.json:
            print(json.dumps(turn.to_dict()))
            continue
        for s in turn.spans:
            print(f"  [{s.slot_type}] {s.text!r} = {s.value} ({s.confidence:.2f})")
        for a in turn.actions:
            args_s = ", ".join(f"{x.name}={x.value}" for x in a.arguments)
            print(f"  -> {a.name}({args_s}) p={a.probability:.2f}")
        print(f"system: {turn.response}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modeling", description="Colloquy's dialogue models.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train NER, action prediction and argument filling")
    t.add_argument("skill", type=Path, help="skill spec JSON")
    t.add_argument("dialogues", type=Path, nargs="+", help="annotated dialogues (JSON Lines files) to train on")
    t.add_argument("-o", "--output", type=Path, required=True, help="artifact directory to write")
    t.add_argument("--epochs", type=int, default=4, help="at most this many (early stopping); default 4")
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--patience", type=int, default=3, help="epochs without improvement before stopping")
    t.add_argument("--validation", type=float, default=0.1, help="fraction of dialogues held out (default 0.1)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="cpu, cuda or auto (CUDA when present; default)")
    t.add_argument("--encoder", type=Path, help="a local BERT-family directory (default: all-MiniLM-L6-v2)")
    t.add_argument("--cache-dir", type=Path, help="keep token embeddings here between builds")
    t.add_argument(
        "--encoder-precision",
        choices=("auto", *PRECISIONS),
        default="auto",
        help="auto (default): int8 (the dynamically quantised encoder) on the CPU, fp32 on a GPU",
    )
    t.add_argument("--sample-weight", type=int, default=1, help="count each sample dialogue this many times")
    t.add_argument(
        "--no-samples",
        action="store_true",
        help="train on the files alone (by default the skill's own sample dialogues are added, as a studio build does)",
    )
    t.add_argument(
        "--finetune-layers",
        type=int,
        default=0,
        help="fine-tune the encoder's top N layers first (for GPU builds; default 0: frozen)",
    )
    t.add_argument("--finetune-epochs", type=int, default=2, help="epochs of encoder fine-tuning (default 2)")
    t.add_argument("--threads", type=int, help="torch CPU threads (default: all cores)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="teacher-forced evaluation on gold annotated dialogues")
    e.add_argument("artifact", type=Path)
    e.add_argument("gold", type=Path)
    e.add_argument("--json", type=Path, help="write the metrics here")
    e.add_argument("--errors", type=Path, help="write every wrong turn here (JSON Lines)")
    e.add_argument("--today", help=f"reference date for relative dates (default {REFERENCE_DATE}, the simulator's)")
    e.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    e.add_argument("--threads", type=int)
    e.add_argument("-q", "--quiet", action="store_true")
    e.set_defaults(func=cmd_evaluate)

    c = sub.add_parser("chat", help="talk to a trained manager on the terminal, with mock APIs")
    c.add_argument("artifact", type=Path)
    c.add_argument("--json", action="store_true", help="print each turn's full prediction as JSON")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--threads", type=int)
    c.set_defaults(func=cmd_chat)

    args = parser.parse_args(argv)
    if getattr(args, "epochs", 1) < 1 or getattr(args, "batch_size", 1) < 1:
        parser.error("--epochs and --batch-size must be at least 1")
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
