"""Training the three models from annotated dialogues, with validation and early stopping."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import skillspec
from skillspec.annotated import REFERENCE_DATE, AnnotatedDialogue, AUserTurn

from .action_prediction import APConfig
from .argument_filling import AFConfig
from .artifact import Models, build_models, load_artifact, save_artifact
from .data import DialogueExample, collate, replay
from .encoder import TextEncoder, resolve_device
from .features import CANDIDATE_FEATURES, SkillIndex
from .finetune import FinetuneConfig, finetune_encoder, finetune_examples
from .ner import NERConfig


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 4
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-5
    patience: int = 3  # epochs without a better validation loss, for every model, before stopping
    # A few sample dialogues make one batch an epoch: repeat them so an epoch takes at least this many steps.
    min_batches_per_epoch: int = 25
    validation_fraction: float = 0.1
    seed: int = 0
    device: str = "auto"  # "auto": CUDA when a GPU is visible, else the CPU
    encoder: str | None = None  # a local BERT-family directory; None: $COLLOQUY_ENCODER or all-MiniLM-L6-v2
    max_length: int = 64
    cache_dir: str | None = None  # keep token embeddings on disk between builds
    encoder_precision: str = "auto"  # int8 on the CPU, fp32 on a GPU; or either (encoder.PRECISIONS)
    ner_hidden: int = 128
    # The NER learns each distinct (utterance, tags) once per pass over the data: simulated
    # dialogues say a third of their utterances over and over, and the tagger's BiLSTM is most
    # of an epoch's time (docs/benchmarks.md, "Builds"). False: every occurrence, as before.
    ner_distinct: bool = True
    ap_hidden: int = 256
    af_hidden: int = 128
    context: int = 128
    dropout: float = 0.2
    reference_date: str = REFERENCE_DATE.isoformat()  # what "tomorrow" is relative to in the data
    # Fine-tune the encoder's top layers first (finetune.py): 0 keeps it frozen, the default. Meant
    # for GPU builds; on a CPU it works, slowly, and the embeddings cache no longer spans builds.
    finetune_layers: int = 0
    finetune_epochs: int = 2
    finetune_lr: float = 3e-5
    # Each sample dialogue (source "sample") counts this many times in training: the developer's own
    # examples are the most faithful data a build has, and a handful of them is lost among thousands.
    sample_weight: int = 1
    # A warm start: an earlier artifact of the same skill whose models start where its training
    # ended, when they fit (the same label spaces, model sizes and encoder); then at most
    # ``warm_epochs`` epochs are trained. Where they do not fit, training starts cold, saying why.
    init_from: str | None = None
    warm_epochs: int = 1  # a default build trains 2 epochs: a rebuild from its weights needs one


@dataclass(frozen=True)
class Progress:
    """A progress report: ``phase`` is "finetune" (only with ``finetune_layers``), "encode",
    "featurize", "train", "validate" or "done"."""

    phase: str
    done: int
    total: int
    epoch: int = 0
    loss: float | None = None
    metrics: dict[str, Any] | None = None
    epochs: int = 0  # "train" and "validate": the epochs planned (early stopping may end sooner)


ProgressCallback = Callable[[Progress], object]


def train(
    skill: skillspec.Skill,
    dialogues: Sequence[AnnotatedDialogue],
    out: Path,
    config: TrainConfig = TrainConfig(),
    *,
    progress: ProgressCallback | None = None,
    encoder: TextEncoder | None = None,
) -> dict[str, Any]:
    """Train NER, action prediction and argument filling; write the artifact to ``out``; return its metrics."""
    report = progress or (lambda p: None)
    config = dataclasses.replace(config, device=resolve_device(config.device))
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    dialogues = [d for d in dialogues if not d.test]
    if not dialogues:
        raise ValueError("no training dialogues (test conversations are kept out of training)")
    for d in dialogues:
        if d.skill != skill.name:
            raise ValueError(f"dialogue {d.id} is for skill {d.skill!r}, not {skill.name!r}")
    train_set, val_set = split(dialogues, config.validation_fraction, random.Random(config.seed))
    weighted = [d for d in train_set for _ in range(config.sample_weight if d.source == "sample" else 1)]

    if encoder is None:
        encoder = TextEncoder(
            config.encoder,
            device=config.device,
            max_length=config.max_length,
            cache_dir=config.cache_dir,
            # Fine-tuning needs the fp32 weights: "auto" means fp32 then.
            precision="fp32"
            if config.finetune_layers and config.encoder_precision == "auto"
            else config.encoder_precision,
        )
    if config.encoder_precision != "auto" and encoder.precision != config.encoder_precision:
        raise ValueError(f"the encoder given is {encoder.precision}, the config asks for {config.encoder_precision}")
    if config.finetune_layers and encoder.precision != "fp32":  # "auto" on a CPU: ask for fp32
        raise ValueError("fine-tuning the encoder needs its fp32 weights (encoder_precision fp32)")
    today = datetime.date.fromisoformat(config.reference_date)
    index = SkillIndex(skill, hidden=encoder.hidden_size, today=today)
    tuned: dict[str, torch.Tensor] | None = None
    if config.finetune_layers:
        tuned = finetune_encoder(
            encoder,
            index,
            finetune_examples(index, weighted),
            FinetuneConfig(
                layers=config.finetune_layers, epochs=config.finetune_epochs, lr=config.finetune_lr, seed=config.seed
            ),
            progress=lambda step, steps, epoch, loss: report(Progress("finetune", step, steps, epoch, loss)),
        )
        encoder = encoder.adapted(tuned)
    texts = list(dict.fromkeys(t.text for d in dialogues for t in d.turns if isinstance(t, AUserTurn)))
    done = 0

    def encoded(n: int) -> None:
        nonlocal done
        done += n
        report(Progress("encode", done, len(texts)))

    encodings = dict(zip(texts, encoder.encode_many(texts, progress=encoded), strict=True))
    train_ex = _replay_all(index, weighted, encodings, report)
    val_ex = _replay_all(index, val_set, encodings, None) if val_set is not train_set else train_ex

    models = _new_models(index, config).to(config.device)
    warm = _warm_start(models, index, encoder, Path(config.init_from)) if config.init_from else None
    epochs = min(config.epochs, config.warm_epochs) if warm and warm["used"] else config.epochs
    optimizer = torch.optim.AdamW(models.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    rng = random.Random(config.seed)
    # Fewer dialogues than a batch (a skill's samples alone): a batch holds each once, not the same
    # dialogues over again; the epoch still takes min_batches_per_epoch steps, a third of the work each.
    batch_size = min(config.batch_size, len(train_ex))
    repeats = max(1, -(-config.min_batches_per_epoch * batch_size // len(train_ex)))
    batches = (len(train_ex) * repeats + batch_size - 1) // batch_size
    history: list[dict[str, Any]] = []
    best: dict[str, tuple[float, int, dict[str, torch.Tensor]]] = {}
    stale = 0
    epochs_run = 0
    for epoch in range(1, epochs + 1):
        models.train(True)
        order = []
        for _ in range(repeats):  # each pass over the data in its own order
            once = list(range(len(train_ex)))
            rng.shuffle(once)
            order += once
        total = 0.0
        seen: set[tuple[str, bytes]] = set()
        this_pass = 0
        for b in range(batches):
            if (b * batch_size) // len(train_ex) != this_pass:  # a new pass over the data (small data repeats)
                this_pass, seen = (b * batch_size) // len(train_ex), set()
            chunk = [train_ex[i] for i in order[b * batch_size : (b + 1) * batch_size]]
            ner_seen = seen if config.ner_distinct else None
            batch, labels = _to(
                collate(chunk, encodings, index.hidden, index.turn_size, ner_seen=ner_seen), config.device
            )
            loss = torch.stack(list(_losses(models, batch, labels).values())).sum()
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(models.parameters(), 5.0)
            optimizer.step()
            total += float(loss.detach())
            report(Progress("train", b + 1, batches, epoch, float(loss.detach()), epochs=epochs))
        val = evaluate_steps(models, val_ex, encodings, index, config)
        train_loss = total / max(batches, 1)
        history.append({"epoch": epoch, "train_loss": train_loss, **val})
        report(Progress("validate", epoch, epochs, epoch, train_loss, val, epochs=epochs))
        epochs_run = epoch
        improved = False
        for name, m in models.all():
            loss_v = val[name]["loss"]
            if name not in best or loss_v < best[name][0] - 1e-4:
                best[name] = (loss_v, epoch, copy.deepcopy(m.state_dict()))
                improved = True
        stale = 0 if improved else stale + 1
        if stale >= config.patience:
            break
    for name, m in models.all():
        m.load_state_dict(best[name][2])
    models.train(False)
    final = evaluate_steps(models, val_ex, encodings, index, config)
    seconds = time.perf_counter() - started
    metrics = {
        "validation": final,
        "best_epoch": {name: best[name][1] for name, _ in models.all()},
        "epochs_run": epochs_run,
        "history": history,
        "seconds": round(seconds, 1),
        "warm_start": warm,
    }
    sources = Counter(str(d.source) for d in train_set)
    data = {
        "train_dialogues": len(train_set),
        "validation_dialogues": len(val_set) if val_set is not train_set else 0,
        "sources": ", ".join(f"{k} {v}" for k, v in sorted(sources.items())),
        "distinct_user_texts": len(texts),
        "ner_utterances": sum(len(e.ner_text) for e in train_ex),
        "ap_steps": sum(len(e.ap_labels) for e in train_ex),
        "af_decisions": sum(len(e.af_labels) for e in train_ex),
    }
    encoder_info = {
        "name": Path(encoder.path).name,
        "path": encoder.path,
        "identity": encoder.identity,
        "base_identity": encoder.base_identity,
        "hidden": encoder.hidden_size,
        "max_length": encoder.max_length,
        "precision": encoder.precision,
        "finetuned_layers": config.finetune_layers,
    }
    save_artifact(
        out,
        skill=skill,
        vocab=index.vocab,
        models=models,
        encoder=encoder_info,
        train_config=dataclasses.asdict(config),
        metrics=metrics,
        data=data,
        encoder_layers=tuned,
    )
    report(Progress("done", 1, 1, epochs_run, metrics=final))
    return metrics


def _warm_start(models: Models, index: SkillIndex, encoder: TextEncoder, artifact: Path) -> dict[str, Any]:
    """Load an earlier artifact's weights into ``models`` when they fit; says whether, and why not."""

    def cold(reason: str) -> dict[str, Any]:
        return {"from": str(artifact), "used": False, "reason": reason}

    try:
        config, vocab, _, earlier = load_artifact(artifact, device="cpu")
    except (OSError, ValueError, KeyError) as exc:
        return cold(f"it cannot be read: {exc}")
    if vocab != index.vocab:
        return cold("the skill's label spaces changed (slot types, APIs, templates or their arguments)")
    if config["encoder"]["identity"] != encoder.identity:
        return cold("it was trained on another encoder")
    sizes = {
        "ner": dataclasses.asdict(models.ner.config),
        "ap": dataclasses.asdict(models.ap.config),
        "af": dataclasses.asdict(models.af.config),
    }
    for name, size in sizes.items():
        if config[name] != size:
            return cold(f"its {name} model has another configuration")
    for (_, m), (_, old) in zip(models.all(), earlier.all(), strict=True):
        m.load_state_dict(old.state_dict())
    return {"from": str(artifact), "used": True, "reason": None}


def split(
    dialogues: Sequence[AnnotatedDialogue], fraction: float, rng: random.Random
) -> tuple[list[AnnotatedDialogue], list[AnnotatedDialogue]]:
    """A seeded train/validation split; with too few dialogues to spare, validation is the training set."""
    items = list(dialogues)
    n_val = int(round(len(items) * fraction))
    if n_val < 1 or len(items) - n_val < 1:
        return items, items
    rng.shuffle(items)
    return items[n_val:], items[:n_val]


def _replay_all(
    index: SkillIndex,
    dialogues: Sequence[AnnotatedDialogue],
    encodings: dict[str, Any],
    report: ProgressCallback | None,
) -> list[DialogueExample]:
    out = []
    for i, d in enumerate(dialogues):
        out.append(replay(index, d, encodings))
        if report and (i + 1) % 200 == 0 or report and i + 1 == len(dialogues):
            report(Progress("featurize", i + 1, len(dialogues)))
    return out


def _new_models(index: SkillIndex, config: TrainConfig) -> Models:
    v = index.vocab
    h = index.hidden
    return build_models(
        NERConfig(
            encoder_size=h,
            token_feature_size=index.token_feature_size,
            turn_size=index.turn_size,
            num_tags=len(v.bio),
            hidden=config.ner_hidden,
            context=config.context // 2,
            dropout=config.dropout,
        ),
        APConfig(
            encoder_size=h,
            step_size=index.step_size,
            turn_size=index.turn_size,
            num_actions=len(v.actions),
            hidden=config.ap_hidden,
            context=config.context,
            dropout=config.dropout,
        ),
        AFConfig(
            encoder_size=h,
            candidate_feature_size=CANDIDATE_FEATURES,
            turn_size=index.turn_size,
            num_actions=len(v.actions),
            num_arg_keys=len(v.arg_keys),
            num_fields=len(v.result_fields),
            hidden=config.af_hidden,
            context=config.context // 2,
            dropout=config.dropout / 2,
        ),
    )


def _to(
    pair: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]], device: str
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    batch, labels = pair
    if device == "cpu":
        return batch, labels
    return {k: v.to(device) for k, v in batch.items()}, {k: v.to(device) for k, v in labels.items()}


def _losses(models: Models, batch: dict[str, torch.Tensor], labels: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    if bool((labels["ner"] != -100).any()):  # a batch may hold no utterance the NER has not seen
        ner = models.ner(batch, labels["ner"]).loss
        if ner is not None:
            out["ner"] = ner
    if len(labels["ap"]):
        out["ap"] = models.ap(batch, labels["ap"]).loss
    if len(labels["af"]):
        out["af"] = models.af(batch, labels["af"]).loss
    return {k: v for k, v in out.items() if v is not None}


@torch.no_grad()
def evaluate_steps(
    models: Models,
    examples: Sequence[DialogueExample],
    encodings: dict[str, Any],
    index: SkillIndex,
    config: TrainConfig,
) -> dict[str, dict[str, float]]:
    """Validation loss and step accuracy of each model (teacher-forced)."""
    models.train(False)
    sums = {n: [0.0, 0, 0, 0] for n in ("ner", "ap", "af")}  # loss*items, items, correct, batches
    for b in range(0, len(examples), 64):
        batch, labels = _to(collate(examples[b : b + 64], encodings, index.hidden, index.turn_size), config.device)
        ner = models.ner(batch, labels["ner"])
        mask = labels["ner"] != -100
        n = int(mask.sum())
        if n:
            sums["ner"][0] += float(ner.loss) * n
            sums["ner"][1] += n
            sums["ner"][2] += int((ner.logits.argmax(-1)[mask] == labels["ner"][mask]).sum())
        for name, out, lab in (
            ("ap", models.ap(batch, labels["ap"]) if len(labels["ap"]) else None, labels["ap"]),
            ("af", models.af(batch, labels["af"]) if len(labels["af"]) else None, labels["af"]),
        ):
            if out is None:
                continue
            k = len(lab)
            sums[name][0] += float(out.loss) * k
            sums[name][1] += k
            pred = out.logits if hasattr(out, "logits") else out.scores
            sums[name][2] += int((pred.argmax(-1) == lab).sum())
    models.train(True)
    return {
        name: {
            "loss": round(s[0] / s[1], 5) if s[1] else 0.0,
            "accuracy": round(s[2] / s[1], 5) if s[1] else 1.0,
            "items": int(s[1]),
        }
        for name, s in sums.items()
    }
