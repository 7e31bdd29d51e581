"""Argument filling: an attention pointer from each argument to a context entity.

For one argument of a predicted action, the candidates are every entity of the
argument's slot type in the context (spans of every user turn, API results) and, for an
optional argument, "leave it unbound". The query is the dialogue context, the action and
the argument; each candidate is its span encoding (the span's and the previous word
piece's token embeddings), its result field, and how it has been used (recency, earlier
bindings of the same argument, a confirmation that showed it, ...). Incompatible
candidates are masked out; the softmax over the rest is the pointer's attention.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .context import TurnContext
from .layers import Dropout


@dataclass(frozen=True)
class AFConfig:
    encoder_size: int
    candidate_feature_size: int
    turn_size: int
    num_actions: int
    num_arg_keys: int
    num_fields: int
    hidden: int = 128
    context: int = 64
    dropout: float = 0.1


@dataclass
class AFOutput:
    scores: torch.Tensor  # [I, C], -inf where masked
    loss: torch.Tensor | None = None


class ArgumentFillingModel(nn.Module):
    def __init__(self, config: AFConfig) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        self.context = TurnContext(config.turn_size, config.context, config.dropout)
        self.action = nn.Embedding(config.num_actions, h)
        self.arg = nn.Embedding(max(config.num_arg_keys, 1), h)
        self.query = nn.Sequential(nn.Linear(config.context + 2 * h, h), nn.ReLU(), nn.Linear(h, h))
        self.field = nn.Embedding(config.num_fields, h)
        self.span = nn.Sequential(Dropout(config.dropout), nn.Linear(2 * config.encoder_size, h), nn.ReLU())
        self.cand = nn.Sequential(nn.Linear(config.candidate_feature_size + 2 * h, h), nn.ReLU())
        self.score = nn.Sequential(nn.Linear(3 * h, h), nn.ReLU(), nn.Linear(h, 1))

    def forward(self, batch: dict[str, torch.Tensor], labels: torch.Tensor | None = None) -> AFOutput:
        """``batch``: turns, af_context [I], af_action [I], af_arg [I], af_features [I,C,F],
        af_reprs [I,C,2H], af_fields [I,C], af_mask [I,C] (True = a real candidate)."""
        ctx = self.context.vectors(batch, "af_context")
        q = self.query(torch.cat([ctx, self.action(batch["af_action"]), self.arg(batch["af_arg"])], dim=-1))
        c = self.cand(
            torch.cat([batch["af_features"], self.span(batch["af_reprs"]), self.field(batch["af_fields"])], dim=-1)
        )
        qx = q[:, None, :].expand_as(c)
        scores = self.score(torch.cat([qx, c, qx * c], dim=-1)).squeeze(-1)
        scores = scores.masked_fill(~batch["af_mask"], float("-inf"))
        loss = F.cross_entropy(scores, labels) if labels is not None else None
        return AFOutput(scores, loss)

    @torch.inference_mode()
    def predict(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The attention over each argument's candidates [I, C] (zero where masked)."""
        return self.forward(batch).scores.softmax(-1)
