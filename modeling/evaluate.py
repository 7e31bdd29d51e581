"""Teacher-forced evaluation of a trained dialogue manager on gold annotated dialogues.

For each system turn the gold history up to it is given: the user's texts (the manager
runs its own NER on them, so recognition errors count downstream), the gold earlier
system actions and their API results. The manager then predicts the turn's action
sequence on its own, step after step; an API call it makes is answered with the gold
turn's results for that API (the first unused gold call of the same name in the turn),
or as a failure when gold made no such call. Then the prediction is thrown away and the
gold turn goes into the history.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from skillspec.annotated import REFERENCE_DATE, AnnotatedActionKind, AnnotatedDialogue, ASystemTurn, AUserTurn

from .features import DialogueTracker
from .metrics import CONTRACT_KEYS, ActF1, FallbackMetrics, PredictedAction, SpanF1, TurnMetrics, dialogue_acts, norm
from .runtime import DialogueManager


def evaluate(
    manager: DialogueManager,
    dialogues: Iterable[AnnotatedDialogue],
    *,
    today: datetime.date = REFERENCE_DATE,
    progress: Callable[[int], object] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The metrics of the measurement contract; ``errors`` (if given) collects every wrong turn."""
    index = manager.index(today)
    ner = SpanF1()
    turns = TurnMetrics()
    acts = ActF1()
    fallbacks = FallbackMetrics(index.fallback)
    dialogues = list(dialogues)
    # Encode every user text up front, in length-sorted batches: one text at a time through
    # the Transformer costs several times more, and the turns below then find them in memory.
    manager.encoder.encode_many([t.text for d in dialogues for t in d.turns if isinstance(t, AUserTurn)])
    for dialogue in dialogues:
        tracker = DialogueTracker(index)
        gold_to_ours: dict[str, str] = {}
        for t, turn in enumerate(dialogue.turns):
            if isinstance(turn, AUserTurn):
                encoded, spans = manager.recognise(tracker, turn.text)
                ner.update(
                    ((s.start, s.end, s.slot_type) for s in turn.spans), ((s.start, s.end, s.slot_type) for s in spans)
                )
                spans = manager.add_user_turn(tracker, turn.text, encoded, spans)
                for g in turn.spans:
                    match = next(
                        (s for s in spans if s.slot_type == g.slot_type and norm(s.value) == norm(g.value)), None
                    )
                    if match is not None:
                        gold_to_ours[g.entity] = match.entity
                continue
            assert isinstance(turn, ASystemTurn)
            mark = tracker.checkpoint()
            predicted = manager.act(tracker, _gold_executor(turn))
            tracker.rollback(mark)
            gold = [PredictedAction(a.name, {x.name: x.value for x in a.arguments}, a.kind) for a in turn.actions]
            ours = [PredictedAction(p.name, p.values(), p.kind) for p in predicted]
            fallbacks.update(gold, ours)
            acts.update(
                (x for a in gold for x in dialogue_acts(index.templates.get(a.name), a)),
                (x for a in ours for x in dialogue_acts(index.templates.get(a.name), a)),
            )
            if not turns.update(gold, ours) and errors is not None:
                errors.append(
                    {
                        "dialogue": dialogue.id,
                        "turn": t,
                        "gold": [_show(a) for a in gold],
                        "predicted": [_show(a) for a in ours],
                    }
                )
            if turn.actions and turn.actions[0].name == index.fallback:
                tracker.unsay_user_turn()  # as the runtime does after its fallback
            _add_gold_turn(tracker, turn, gold_to_ours)
        turns.end_dialogue()
        if progress is not None:
            progress(1)
    scored = {
        "ner_f1": round(ner.compute(), 4),
        "act_f1": round(acts.compute(), 4),
        **fallbacks.compute(),
        **turns.compute(),
    }
    # The contract's keys first, in its order, then the counts; the per-action breakdown last.
    out = {k: scored.pop(k) for k in CONTRACT_KEYS}
    out.update(scored)
    out["per_action"] = out.pop("per_action")
    return out


def _gold_executor(turn: ASystemTurn) -> Callable[[str, dict[str, str]], Mapping[str, str] | None]:
    pending = [a for a in turn.actions if a.kind is AnnotatedActionKind.API]

    def execute(api: str, arguments: dict[str, str]) -> Mapping[str, str] | None:
        for i, a in enumerate(pending):
            if a.name == api:
                pending.pop(i)
                return {r.field: r.value for r in a.results} or None
        return None

    return execute


def _add_gold_turn(tracker: DialogueTracker, turn: ASystemTurn, gold_to_ours: dict[str, str]) -> None:
    tracker.begin_system_turn()
    for a in turn.actions:
        bound = {}
        for x in a.arguments:
            key = x.entity if x.entity in tracker.by_key and "." in x.entity else gold_to_ours.get(x.entity)
            if key is not None:
                bound[x.name] = key
        results = [(r.field, r.slot_type, r.value) for r in a.results] if a.kind is AnnotatedActionKind.API else None
        tracker.add_action(a.name, bound, call_key=a.id, results=results)
    tracker.end_system_turn()


def _show(a: PredictedAction) -> str:
    args = ", ".join(f"{k}={v}" for k, v in sorted(a.arguments.items()))
    return f"{a.name}({args})" if args else a.name
