"""Action prediction: the next action of a system turn, over the skill's action space.

The action space is "wait for user", every API and every response template. The input
is the hierarchical LSTM's state after the user's turn, the user's utterance and the
state of the turn so far (actions already taken, entities available, calls made and
whether they failed, see ``DialogueTracker.step_features``); a feed-forward head scores
every action. The runtime applies it repeatedly until it predicts "wait for user".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .context import TurnContext
from .layers import Dropout


@dataclass(frozen=True)
class APConfig:
    encoder_size: int
    step_size: int
    turn_size: int
    num_actions: int
    hidden: int = 256
    context: int = 128
    dropout: float = 0.2


@dataclass
class APOutput:
    logits: torch.Tensor  # [S, num_actions]
    loss: torch.Tensor | None = None


class ActionPredictionModel(nn.Module):
    def __init__(self, config: APConfig) -> None:
        super().__init__()
        self.config = config
        self.context = TurnContext(config.turn_size, config.context, config.dropout)
        self.utterance = nn.Sequential(nn.Linear(config.encoder_size, config.context), nn.ReLU())
        self.state = nn.Sequential(nn.Linear(config.step_size, config.hidden), nn.ReLU())
        self.head = nn.Sequential(
            Dropout(config.dropout),
            nn.Linear(2 * config.context + config.hidden, config.hidden),
            nn.ReLU(),
            Dropout(config.dropout),
            nn.Linear(config.hidden, config.num_actions),
        )

    def forward(self, batch: dict[str, torch.Tensor], labels: torch.Tensor | None = None) -> APOutput:
        """``batch``: turns [B,T,D], ap_context [S], ap_utterance [S,H], ap_state [S,F]."""
        ctx = self.context.vectors(batch, "ap_context")
        x = torch.cat([ctx, self.utterance(batch["ap_utterance"]), self.state(batch["ap_state"])], dim=-1)
        logits = self.head(x)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return APOutput(logits, loss)

    @torch.inference_mode()
    def predict(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Each step's probability for every action [S, num_actions]."""
        return self.forward(batch).logits.softmax(-1)
