"""The evaluation metrics (the measurement contract: keep the key names), as update/compute objects.

Values are compared normalised: lower case, whitespace collapsed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from skillspec.annotated import AnnotatedActionKind
from skillspec.models import ResponseTemplate

# The headline keys of ``python -m modeling evaluate``'s JSON, in the order it prints them.
CONTRACT_KEYS = (
    "ner_f1",
    "action_accuracy",
    "argument_accuracy",
    "action_signature_accuracy",
    "api_call_f1",
    "dialogue_accuracy",
    "act_f1",
    "fallback_recall",
    "false_fallback_rate",
)


def norm(value: str | None) -> str:
    return " ".join((value or "").lower().split())


@dataclass(frozen=True)
class PredictedAction:
    """An action as the metrics compare it: its name, and argument name -> value."""

    name: str
    arguments: dict[str, str]
    kind: AnnotatedActionKind = AnnotatedActionKind.RESPONSE

    def signature(self) -> tuple[str, frozenset[tuple[str, str]]]:
        return self.name, frozenset((k, norm(v)) for k, v in self.arguments.items())


def _f1(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
    }


@dataclass
class SpanF1:
    """Micro F1 of exact (start, end, slot type) spans."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def update(self, gold: Iterable[tuple[int, int, str]], predicted: Iterable[tuple[int, int, str]]) -> None:
        g, p = Counter(gold), Counter(predicted)
        tp = sum((g & p).values())
        self.tp += tp
        self.fp += sum(p.values()) - tp
        self.fn += sum(g.values()) - tp

    def compute(self) -> float:
        return _f1(self.tp, self.fp, self.fn)["f1"] if self.tp + self.fp + self.fn else 1.0


def dialogue_acts(template: ResponseTemplate | None, action: PredictedAction) -> set[tuple[str, str]]:
    """What a system action does as (dialog act, argument name) pairs, without its template or
    values: a response's act with each argument it shows and each one it asks for (the act alone
    when it has none); an API call is ("call:<api>", argument) pairs. Schema-guided benchmarks
    score system actions this way, so ``act_f1`` is comparable with their system-action F1."""
    if action.kind == AnnotatedActionKind.WAIT:
        return set()  # every turn ends waiting: counting it would only inflate the figure
    call = action.kind == AnnotatedActionKind.API
    if call or template is None:
        act = f"call:{action.name}" if call else f"unknown:{action.name}"
        names = set(action.arguments)
    else:
        act = template.act.value
        names = {x.name for x in template.arguments} | set(template.requested)
    return {(act, name) for name in names} or {(act, "")}


@dataclass
class ActF1:
    """Micro F1 of a turn's (dialog act, argument name) pairs: see ``dialogue_acts``."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def update(self, gold: Iterable[tuple[str, str]], predicted: Iterable[tuple[str, str]]) -> None:
        g, p = set(gold), set(predicted)
        self.tp += len(g & p)
        self.fp += len(p - g)
        self.fn += len(g - p)

    def compute(self) -> float:
        return _f1(self.tp, self.fp, self.fn)["f1"] if self.tp + self.fp + self.fn else 1.0


@dataclass
class FallbackMetrics:
    """How the manager handles turns its skill does not handle (gold answers them with the fallback).

    * ``fallback_recall``: of the gold fallback turns, those answered with the fallback and nothing
      else (no call, no other response); None when gold has none;
    * ``false_fallback_rate``: of the other turns, those the manager answered with the fallback.
    """

    fallback: str
    gold: int = 0
    caught: int = 0
    in_scope: int = 0
    wrongly: int = 0

    def update(self, gold: Sequence[PredictedAction], predicted: Sequence[PredictedAction]) -> None:
        said = [a.name for a in predicted if a.kind != AnnotatedActionKind.WAIT]
        if gold and gold[0].name == self.fallback:
            self.gold += 1
            self.caught += said == [self.fallback]
        else:
            self.in_scope += 1
            self.wrongly += bool(said) and said[0] == self.fallback

    def compute(self) -> dict[str, float | None]:
        return {
            "fallback_recall": round(self.caught / self.gold, 4) if self.gold else None,
            "false_fallback_rate": round(self.wrongly / self.in_scope, 4) if self.in_scope else 0.0,
        }


@dataclass
class TurnMetrics:
    """Action, argument, signature, API-call and dialogue metrics over system turns.

    * ``action_accuracy``: turns whose action-name sequence equals gold;
    * ``argument_accuracy``: over turns with the right names, the arguments (of gold or
      prediction, per aligned action) whose value equals gold's;
    * ``action_signature_accuracy``: turns whose names and every argument value equal gold;
    * ``api_call_f1``: F1 of API calls (name and all values) against gold's, per turn;
    * ``dialogue_accuracy``: dialogues whose every system turn is signature-correct.
    """

    turns: int = 0
    names_right: int = 0
    signatures_right: int = 0
    args_total: int = 0
    args_right: int = 0
    call_tp: int = 0
    call_fp: int = 0
    call_fn: int = 0
    dialogues: int = 0
    dialogues_right: int = 0
    _dialogue_ok: bool = True
    per_action: dict[str, list[int]] = field(default_factory=dict)  # name -> [tp, fp, fn]

    def update(self, gold: Sequence[PredictedAction], predicted: Sequence[PredictedAction]) -> bool:
        """Score one system turn; returns whether its signature is right."""
        self.turns += 1
        names_ok = [a.name for a in gold] == [a.name for a in predicted]
        sig_ok = names_ok and all(g.signature() == p.signature() for g, p in zip(gold, predicted, strict=True))
        self.names_right += names_ok
        self.signatures_right += sig_ok
        if names_ok:
            for g, p in zip(gold, predicted, strict=True):
                gv = {k: norm(v) for k, v in g.arguments.items()}
                pv = {k: norm(v) for k, v in p.arguments.items()}
                for k in gv.keys() | pv.keys():
                    self.args_total += 1
                    self.args_right += k in gv and k in pv and gv[k] == pv[k]
        gc = Counter(a.signature() for a in gold if a.kind == AnnotatedActionKind.API)
        pc = Counter(a.signature() for a in predicted if a.kind == AnnotatedActionKind.API)
        tp = sum((gc & pc).values())
        self.call_tp += tp
        self.call_fp += sum(pc.values()) - tp
        self.call_fn += sum(gc.values()) - tp
        gn, pn = Counter(a.name for a in gold), Counter(a.name for a in predicted)
        for name in gn.keys() | pn.keys():
            row = self.per_action.setdefault(name, [0, 0, 0])
            both = min(gn[name], pn[name])
            row[0] += both
            row[1] += pn[name] - both
            row[2] += gn[name] - both
        self._dialogue_ok = self._dialogue_ok and sig_ok
        return sig_ok

    def end_dialogue(self) -> None:
        self.dialogues += 1
        self.dialogues_right += self._dialogue_ok
        self._dialogue_ok = True

    def compute(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float:
            return round(a / b, 4) if b else 0.0

        return {
            "action_accuracy": ratio(self.names_right, self.turns),
            "argument_accuracy": ratio(self.args_right, self.args_total) if self.args_total else 1.0,
            "action_signature_accuracy": ratio(self.signatures_right, self.turns),
            "api_call_f1": _f1(self.call_tp, self.call_fp, self.call_fn)["f1"]
            if self.call_tp + self.call_fp + self.call_fn
            else 1.0,
            "dialogue_accuracy": ratio(self.dialogues_right, self.dialogues),
            "dialogues": self.dialogues,
            "turns": self.turns,
            "per_action": {
                name: {**_f1(*row), "support": row[0] + row[2]} for name, row in sorted(self.per_action.items())
            },
        }
