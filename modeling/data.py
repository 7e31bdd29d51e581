"""From annotated dialogues to training examples and batches for the three models.

A gold dialogue is replayed through a :class:`~modeling.features.DialogueTracker` (gold
spans, gold actions, gold results: teacher forcing), recording every NER utterance, every
action-prediction step and every argument-filling decision with its label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from skillspec.annotated import AnnotatedActionKind, AnnotatedDialogue, ASystemTurn, AUserTurn

from .encoder import Encoded
from .features import CANDIDATE_FEATURES, Candidates, DialogueTracker, SkillIndex


@dataclass
class DialogueExample:
    """Everything the models learn from in one dialogue (float16 where it is large)."""

    turns: np.ndarray  # [T, turn_size]
    ner_text: list[str]
    ner_context: list[int]  # the turn before the utterance (-1: none)
    ner_features: list[np.ndarray]
    ner_labels: list[np.ndarray]
    ap_context: np.ndarray  # [S]
    ap_text: list[str]
    ap_state: np.ndarray  # [S, step_size] float16
    ap_labels: np.ndarray  # [S]
    af_context: np.ndarray  # [I]
    af_action: np.ndarray
    af_arg: np.ndarray
    af_candidates: list[Candidates]
    af_labels: np.ndarray  # [I]


def replay(index: SkillIndex, dialogue: AnnotatedDialogue, encodings: dict[str, Encoded]) -> DialogueExample:
    """Teacher-forced examples of one gold dialogue."""
    tr = DialogueTracker(index)
    ner_text, ner_ctx, ner_feats, ner_labels = [], [], [], []
    ap_ctx, ap_text, ap_state, ap_labels = [], [], [], []
    af_ctx, af_action, af_arg, af_cands, af_labels = [], [], [], [], []
    last_text = ""
    for t, turn in enumerate(dialogue.turns):
        if isinstance(turn, AUserTurn):
            enc = encodings[turn.text]
            ner_text.append(turn.text)
            ner_ctx.append(t - 1)
            ner_feats.append(index.token_features(turn.text, enc))
            ner_labels.append(index.bio_labels(enc, ((s.start, s.end, s.slot_type) for s in turn.spans)))
            spans = [(s.start, s.end, s.slot_type, s.value, s.entity, 1.0) for s in turn.spans]
            tr.add_user_turn(turn.text, enc, spans)
            last_text = turn.text
            continue
        assert isinstance(turn, ASystemTurn)
        tr.begin_system_turn()
        for action in turn.actions:
            ap_ctx.append(t - 1)
            ap_text.append(last_text)
            ap_state.append(tr.step_features().astype(np.float16))
            ap_labels.append(index.action_index[action.name])
            bound = {a.name: a.entity for a in action.arguments}
            for arg, _, _, _ in index.arguments[action.name]:
                cands = tr.candidates(action.name, arg)
                keys = [None if e is None else e.id for e in cands.entities]
                target = bound.get(arg)
                if target not in keys:
                    continue  # the gold entity is not a candidate (a data error): nothing to learn
                af_ctx.append(t - 1)
                af_action.append(index.action_index[action.name])
                af_arg.append(index.arg_index[f"{action.name}.{arg}"])
                af_cands.append(cands)
                af_labels.append(keys.index(target))
            results = (
                [(r.field, r.slot_type, r.value) for r in action.results]
                if action.kind is AnnotatedActionKind.API
                else None
            )
            tr.add_action(action.name, bound, call_key=action.id, results=results)
        tr.end_system_turn()
    return DialogueExample(
        turns=tr.turn_matrix(),
        ner_text=ner_text,
        ner_context=ner_ctx,
        ner_features=ner_feats,
        ner_labels=ner_labels,
        ap_context=np.array(ap_ctx, dtype=np.int64),
        ap_text=ap_text,
        ap_state=np.stack(ap_state) if ap_state else np.zeros((0, index.step_size), np.float16),
        ap_labels=np.array(ap_labels, dtype=np.int64),
        af_context=np.array(af_ctx, dtype=np.int64),
        af_action=np.array(af_action, dtype=np.int64),
        af_arg=np.array(af_arg, dtype=np.int64),
        af_candidates=af_cands,
        af_labels=np.array(af_labels, dtype=np.int64),
    )


def pad_turns(matrices: Sequence[np.ndarray], size: int) -> torch.Tensor:
    t = max((len(m) for m in matrices), default=0)
    out = np.zeros((len(matrices), t, size), dtype=np.float32)
    for i, m in enumerate(matrices):
        out[i, : len(m)] = m
    return torch.from_numpy(out)


def candidate_tensors(cands: Sequence[Candidates], hidden: int) -> dict[str, torch.Tensor]:
    c = max((len(x.entities) for x in cands), default=1)
    n = len(cands)
    feats = np.zeros((n, c, CANDIDATE_FEATURES), dtype=np.float32)
    reprs = np.zeros((n, c, 2 * hidden), dtype=np.float32)
    fields = np.zeros((n, c), dtype=np.int64)
    mask = np.zeros((n, c), dtype=bool)
    for i, x in enumerate(cands):
        k = len(x.entities)
        feats[i, :k] = x.features
        reprs[i, :k] = x.reprs
        fields[i, :k] = x.fields
        mask[i, :k] = True
    return {
        "af_features": torch.from_numpy(feats),
        "af_reprs": torch.from_numpy(reprs),
        "af_fields": torch.from_numpy(fields),
        "af_mask": torch.from_numpy(mask),
    }


def token_tensors(encoded: Sequence[Encoded], features: Sequence[np.ndarray], hidden: int) -> dict[str, torch.Tensor]:
    n = len(encoded)
    length = max((len(e.offsets) for e in encoded), default=0) or 1
    tokens = np.zeros((n, length, hidden), dtype=np.float32)
    feats = np.zeros((n, length, features[0].shape[1] if features else 0), dtype=np.float32)
    mask = np.zeros((n, length), dtype=bool)
    for i, (e, f) in enumerate(zip(encoded, features, strict=True)):
        k = len(e.offsets)
        tokens[i, :k] = e.embeddings
        feats[i, :k] = f
        mask[i, :k] = True
    return {
        "tokens": torch.from_numpy(tokens),
        "token_features": torch.from_numpy(feats),
        "token_mask": torch.from_numpy(mask),
    }


def _first_seen(example: DialogueExample, seen: set[tuple[str, bytes]]) -> list[int]:
    rows = []
    for j, (text, labels) in enumerate(zip(example.ner_text, example.ner_labels, strict=True)):
        key = (text, labels.tobytes())
        if key not in seen:
            seen.add(key)
            rows.append(j)
    return rows


def collate(
    examples: Sequence[DialogueExample],
    encodings: dict[str, Encoded],
    hidden: int,
    turn_size: int,
    *,
    ner_seen: set[tuple[str, bytes]] | None = None,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """A batch of dialogues: model inputs and labels (context indexes into the flattened B*T turns).

    With ``ner_seen``, an utterance whose text and tags are in it is left out of the NER's part of
    the batch (and the others are added to it): the NER then learns each distinct tagged
    utterance once per pass over the data, however often the simulator said it.
    """
    turns = pad_turns([e.turns for e in examples], turn_size)
    t = turns.shape[1]

    def flat(i: int, idx: Sequence[int] | np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64)
        return np.where(idx >= 0, idx + i * t, -1)

    ner_ctx, ner_enc, ner_feats, ner_labels = [], [], [], []
    ap_ctx, ap_utt, ap_state, ap_labels = [], [], [], []
    af_ctx, af_action, af_arg, af_cands, af_labels = [], [], [], [], []
    for i, ex in enumerate(examples):
        rows = range(len(ex.ner_text)) if ner_seen is None else _first_seen(ex, ner_seen)
        ner_ctx.append(flat(i, [ex.ner_context[j] for j in rows]))
        ner_enc += [encodings[ex.ner_text[j]] for j in rows]
        ner_feats += [ex.ner_features[j] for j in rows]
        ner_labels += [ex.ner_labels[j] for j in rows]
        ap_ctx.append(flat(i, ex.ap_context))
        ap_utt += [encodings[x].pooled for x in ex.ap_text]
        ap_state.append(ex.ap_state)
        ap_labels.append(ex.ap_labels)
        af_ctx.append(flat(i, ex.af_context))
        af_action.append(ex.af_action)
        af_arg.append(ex.af_arg)
        af_cands += ex.af_candidates
        af_labels.append(ex.af_labels)
    batch = {"turns": turns, "ner_context": torch.from_numpy(np.concatenate(ner_ctx))}
    batch.update(token_tensors(ner_enc, ner_feats, hidden))
    length = batch["tokens"].shape[1]
    labels_np = np.full((len(ner_labels), length), -100, dtype=np.int64)
    for i, lab in enumerate(ner_labels):
        labels_np[i, : len(lab)] = lab
    batch["ap_context"] = torch.from_numpy(np.concatenate(ap_ctx))
    utterances = np.stack(ap_utt) if ap_utt else np.zeros((0, hidden))  # a batch of user-only dialogues
    batch["ap_utterance"] = torch.from_numpy(utterances.astype(np.float32))
    batch["ap_state"] = torch.from_numpy(np.concatenate(ap_state).astype(np.float32))
    batch["af_context"] = torch.from_numpy(np.concatenate(af_ctx))
    batch["af_action"] = torch.from_numpy(np.concatenate(af_action))
    batch["af_arg"] = torch.from_numpy(np.concatenate(af_arg))
    batch.update(candidate_tensors(af_cands, hidden))
    labels = {
        "ner": torch.from_numpy(labels_np),
        "ap": torch.from_numpy(np.concatenate(ap_labels)),
        "af": torch.from_numpy(np.concatenate(af_labels)),
    }
    return batch, labels
