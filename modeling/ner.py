"""Named-entity recognition: BIO tags over the skill's slot types, per word piece.

A BiLSTM reads the encoder's token embeddings, catalogue-match features and the
dialogue context (the hierarchical LSTM's state before this turn); a linear layer gives
each word piece's tag. Tags map back to character offsets (``SkillIndex.decode_bio``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .context import TurnContext
from .layers import Dropout


@dataclass(frozen=True)
class NERConfig:
    encoder_size: int
    token_feature_size: int
    turn_size: int
    num_tags: int
    hidden: int = 128
    context: int = 64
    dropout: float = 0.2
    # Simulated values all come from the catalogue; real users name values it lacks. Hiding the
    # catalogue features from some training utterances makes the tagger read the words too.
    feature_dropout: float = 0.3


@dataclass
class NEROutput:
    logits: torch.Tensor  # [N, L, num_tags]
    loss: torch.Tensor | None = None


class NERModel(nn.Module):
    def __init__(self, config: NERConfig) -> None:
        super().__init__()
        self.config = config
        self.context = TurnContext(config.turn_size, config.context, config.dropout)
        self.dropout = Dropout(config.dropout)
        self.lstm = nn.LSTM(
            config.encoder_size + config.token_feature_size + config.context,
            config.hidden,
            batch_first=True,
            bidirectional=True,
        )
        self.out = nn.Linear(2 * config.hidden, config.num_tags)

    def forward(self, batch: dict[str, torch.Tensor], labels: torch.Tensor | None = None) -> NEROutput:
        """``batch``: turns [B,T,D], ner_context [N] (or the vectors, ``ner_context_vectors``),
        tokens [N,L,H], token_features [N,L,F]."""
        ctx = self.context.vectors(batch, "ner_context")
        tokens = batch["tokens"]
        features = batch["token_features"]
        if self.training and self.config.feature_dropout > 0:
            keep = torch.rand(features.shape[0], 1, 1, device=features.device) >= self.config.feature_dropout
            features = features * keep
        x = torch.cat([self.dropout(tokens), features, ctx[:, None, :].expand(-1, tokens.shape[1], -1)], dim=-1)
        if x.shape[0] == 1 and bool(batch["token_mask"].all()):
            h = self.lstm(x)[0]  # one unpadded utterance (the runtime's case): nothing to skip
        else:
            # Packing skips the padding: utterances in a batch differ a lot in length.
            lengths = batch["token_mask"].sum(-1).clamp(min=1).cpu()
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            h, _ = nn.utils.rnn.pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=x.shape[1])
        logits = self.out(self.dropout(h))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
        return NEROutput(logits, loss)

    @torch.inference_mode()
    def predict(self, batch: dict[str, torch.Tensor]) -> tuple[list[list[int]], list[list[float]]]:
        """Per utterance, each word piece's tag and its probability (padding dropped)."""
        probs = self.forward(batch).logits.softmax(-1)
        conf, tags = probs.max(-1)
        lengths = batch["token_mask"].sum(-1).tolist()
        return (
            [tags[i, :n].tolist() for i, n in enumerate(lengths)],
            [conf[i, :n].tolist() for i, n in enumerate(lengths)],
        )
