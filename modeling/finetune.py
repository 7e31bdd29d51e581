"""Fine-tuning the encoder's top layers on the skill's own user turns (an option for GPU builds).

The three models read cached token embeddings of a frozen encoder (``encoder.py``); that
is what keeps a CPU build fast. With ``TrainConfig.finetune_layers = k`` a build first
adapts the encoder: its top ``k`` Transformer layers are trained, everything below them
frozen, on two tasks read off the training dialogues —

- each word piece's BIO tag (the NER labels), and
- from the mean of an utterance's token embeddings, the first action the system takes
  after it (what action prediction reads from the utterance).

The adapted encoder then replaces the pretrained one for the whole build: the texts are
encoded with it (cached under its own identity) and the three models are trained on those
embeddings as usual. The tuned layers are saved in the artifact (``encoder_top.safetensors``)
and the runtime applies them to the base encoder, so training and serving read the same
embeddings.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from skillspec.annotated import AnnotatedDialogue, ASystemTurn, AUserTurn

from .encoder import TextEncoder
from .features import SkillIndex


@dataclass(frozen=True)
class FinetuneConfig:
    layers: int  # top Transformer layers to train (1 .. the encoder's depth)
    epochs: int = 2
    batch_size: int = 32
    lr: float = 3e-5
    head_lr: float = 1e-3  # the two small heads start from scratch
    seed: int = 0


@dataclass(frozen=True)
class FinetuneExample:
    text: str
    spans: tuple[tuple[int, int, str], ...]
    next_action: int  # index into the skill's action space


def finetune_examples(index: SkillIndex, dialogues: Sequence[AnnotatedDialogue]) -> list[FinetuneExample]:
    """Each user turn with its gold spans and the system's first action after it (duplicates once)."""
    out: dict[FinetuneExample, None] = {}
    for d in dialogues:
        for user, system in zip(d.turns, d.turns[1:], strict=False):
            if isinstance(user, AUserTurn) and isinstance(system, ASystemTurn) and system.actions:
                spans = tuple((s.start, s.end, s.slot_type) for s in user.spans)
                out[FinetuneExample(user.text, spans, index.action_index[system.actions[0].name])] = None
    return list(out)


def top_layer_names(encoder: TextEncoder, layers: int) -> list[str]:
    """The parameter names (of ``encoder.model``) of its top ``layers`` Transformer layers."""
    depth = int(encoder.model.config.num_hidden_layers)
    if not 1 <= layers <= depth:
        raise ValueError(f"finetune_layers must be between 1 and the encoder's {depth} layers, not {layers}")
    prefixes = tuple(f"encoder.layer.{i}." for i in range(depth - layers, depth))
    return [n for n, _ in encoder.model.named_parameters() if n.startswith(prefixes)]


def finetune_encoder(
    encoder: TextEncoder,
    index: SkillIndex,
    examples: Sequence[FinetuneExample],
    config: FinetuneConfig,
    *,
    progress: Callable[[int, int, int, float], object] | None = None,
) -> dict[str, torch.Tensor]:
    """Train the top ``config.layers`` layers of a copy of ``encoder``'s model; return their weights.

    ``progress(step, steps, epoch, loss)`` is called after every batch. ``encoder`` itself is not changed.
    """
    if not examples:
        raise ValueError("no user turns to fine-tune the encoder on")
    names = set(top_layer_names(encoder, config.layers))
    torch.manual_seed(config.seed)
    model = encoder.copy_model()
    for name, p in model.named_parameters():
        p.requires_grad_(name in names)
    hidden = encoder.hidden_size
    device = encoder.device
    tag_head = nn.Linear(hidden, len(index.vocab.bio)).to(device)
    action_head = nn.Linear(hidden, len(index.vocab.actions)).to(device)
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for n, p in model.named_parameters() if n in names], "lr": config.lr},
            {"params": [*tag_head.parameters(), *action_head.parameters()], "lr": config.head_lr},
        ],
        weight_decay=0.01,
    )
    order = list(range(len(examples)))
    rng = random.Random(config.seed)
    per_epoch = -(-len(order) // config.batch_size)
    steps = per_epoch * config.epochs
    step = 0
    model.train(True)
    for epoch in range(1, config.epochs + 1):
        rng.shuffle(order)
        for b in range(per_epoch):
            chunk = [examples[i] for i in order[b * config.batch_size : (b + 1) * config.batch_size]]
            tokens, mask, tags, actions = _batch(encoder, index, chunk)
            out = model(**tokens).last_hidden_state  # [N, L, H]
            tag_logits = tag_head(out).reshape(-1, tag_head.out_features)
            tag_loss = F.cross_entropy(tag_logits, tags.reshape(-1), ignore_index=-100)
            weights = mask.unsqueeze(-1).to(out.dtype)
            pooled = (out * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            loss = tag_loss + F.cross_entropy(action_head(pooled), actions)
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            optimizer.step()
            step += 1
            if progress is not None:
                progress(step, steps, epoch, float(loss.detach()))
    return {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if n in names}


def _batch(
    encoder: TextEncoder, index: SkillIndex, chunk: Sequence[FinetuneExample]
) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tokenised texts, the word-piece mask (no [CLS]/[SEP]/padding), BIO labels (-100 elsewhere), actions."""
    inputs, offsets, mask = encoder.tokenize([e.text for e in chunk])
    tags = np.full(mask.shape, -100, dtype=np.int64)
    bio = index.bio_index
    for i, e in enumerate(chunk):
        tags[i, mask[i]] = bio["O"]
        for start, end, slot_type in e.spans:
            first = True
            for t in np.flatnonzero(mask[i]):
                s, en = offsets[i][t]
                if en > start and s < end:
                    tags[i, t] = bio[("B-" if first else "I-") + slot_type]
                    first = False
    device = encoder.device
    return (
        inputs,
        torch.from_numpy(mask).to(device),
        torch.from_numpy(tags).to(device),
        torch.tensor([e.next_action for e in chunk], dtype=torch.long, device=device),
    )
