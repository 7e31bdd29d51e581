"""The hierarchical dialogue context: a turn-level LSTM over per-turn encodings.

Each turn is first encoded on its own (a user turn: its pooled token embeddings and the
slot types it mentions; a system turn: the actions it took and whether a call failed),
then an LSTM runs over the turns. Every model owns one of these.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import Dropout


class TurnContext(nn.Module):
    def __init__(self, turn_size: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(turn_size, hidden), nn.ReLU(), Dropout(dropout))
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.hidden = hidden

    def vectors(self, batch: dict[str, torch.Tensor], key: str) -> torch.Tensor:
        """The context vectors a batch asks for with ``batch[key]``, or, when the caller computed
        them already (``batch[key + "_vectors"]``: the runtime does once per system turn, since
        every step of a turn reads the same context), those."""
        given = batch.get(key + "_vectors")
        return given if given is not None else self(batch["turns"], batch[key])

    def forward(self, turns: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Context vectors: ``turns`` [B, T, turn_size]; ``index`` [N] into the flattened B*T
        outputs (the state after that turn), -1 for "before the first turn" (zeros)."""
        b, t, _ = turns.shape
        if t == 0:
            return turns.new_zeros(len(index), self.hidden)
        out, _ = self.lstm(self.proj(turns))
        flat = torch.cat([out.new_zeros(1, self.hidden), out.reshape(b * t, self.hidden)])
        return flat[index + 1]
