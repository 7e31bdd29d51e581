"""Small building blocks the three models share."""

from __future__ import annotations

import torch
from torch import nn


class Dropout(nn.Module):
    """``nn.Dropout``'s semantics (each element zeroed with probability ``p``, the rest scaled by
    1 / (1 - p), only in training) with a cheaper mask on the CPU.

    ``F.dropout`` draws its mask with ``bernoulli_``, which on a CPU costs about 3x a uniform
    draw: profiled, the models' dropouts were a fifth of a training step (the NER's token
    embeddings and the argument filler's span representations are large, padded tensors).
    No parameters: a model's state dict is the same as with ``nn.Dropout``.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), not {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand_like(x) >= self.p
        return x * keep * (1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"
