"""The hierarchical dialogue context: a turn-level LSTM over per-turn encodings.

Each turn is first encoded on its own (a user turn: its pooled token embeddings and the
slot types it mentions; a system turn: the actions it took and whether a call failed),
then an LSTM runs over the turns. Every model owns one of these.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import Dropout


@dataclass(frozen=True)
class ContextState:
    """The turn-level LSTM after a dialogue's first ``turns`` turns: its output and its state."""

    turns: int
    vector: torch.Tensor  # [1, hidden]: the context after those turns (zeros before the first)
    state: tuple[torch.Tensor, torch.Tensor] | None  # the LSTM's (h, c); None before the first turn


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

    @torch.inference_mode()
    def advance(self, rows: torch.Tensor, state: ContextState | None) -> ContextState:
        """The context after ``rows`` [T, turn_size] more turns than ``state`` (None: the start).

        What the runtime keeps per conversation, so that a turn runs the LSTM over its new turns
        only instead of the whole dialogue again; the vector is the one ``forward`` gives for
        the same turns (to float rounding: tested).
        """
        if state is None:
            state = ContextState(0, rows.new_zeros(1, self.hidden), None)
        if len(rows) == 0:
            return state
        out, hc = self.lstm(self.proj(rows[None]), state.state)
        return ContextState(state.turns + len(rows), out[:, -1], hc)
