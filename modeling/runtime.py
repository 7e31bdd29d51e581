"""The runtime dialogue manager: load an artifact once, then answer user turns.

(Just over 500 lines: the manager's loop and the typed turn records it writes and reads
back, ``TurnResult`` and its parts, kept together as the one home of the turn format.)

::

    manager = DialogueManager.load("artifacts/flights")
    session = manager.new_session()
    turn = manager.respond(session, "fly from Boston to Chicago tomorrow", executor=my_api)
    turn.response            # "I found UA 837, departing at 19:30, for $412."
    turn.to_dict()           # spans, actions with probabilities, pointers, consistency decisions

The manager is thread-safe and holds no per-conversation state: a :class:`Session` holds
it (the tracked dialogue, a few kilobytes per turn), and one session serves one
conversation at a time.
"""

from __future__ import annotations

import datetime
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

import skillspec
from skillspec.annotated import WAIT, AnnotatedActionKind

from .artifact import ENCODER_LAYERS, Models, artifact_precision, load_artifact
from .consistency import Decision, check_action, confirmation_bindings
from .context import ContextState, TurnContext
from .data import candidate_tensors, token_tensors
from .encoder import Encoded, TextEncoder, resolve_device
from .features import DialogueTracker, Entity, SkillIndex

Executor = Callable[[str, dict[str, str]], Mapping[str, str] | None]
"""An API executor: ``(api name, argument name -> value)`` to ``return field -> value``, or
None when the call failed. An exception it raises also counts as a failed call."""

MAX_ACTIONS = 8  # actions per system turn before "wait for user" is forced
# The fallback ("I can't help with that") only when the model puts at least this much on it, else its
# next choice: a real in-scope turn in a context the simulation never showed ("sounds good" after an
# unusual answer) must not read as out of scope. More likely than not, fixed a priori.
FALLBACK_MIN_PROBABILITY = 0.5
TOP_ALTERNATIVES = 3


@dataclass(frozen=True)
class SpanPrediction:
    start: int
    end: int
    text: str
    slot_type: str
    value: str
    entity: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpanPrediction:
        """The span :meth:`to_dict` wrote (``entity`` may be empty: not yet in a tracker)."""
        return cls(
            int(data["start"]),
            int(data["end"]),
            str(data["text"]),
            str(data["slot_type"]),
            str(data["value"]),
            str(data.get("entity") or ""),
            float(data.get("confidence", 1.0)),
        )


@dataclass(frozen=True)
class ArgumentPrediction:
    """An argument's pointer: the chosen entity (None: unbound) and the attention over candidates."""

    name: str
    entity: str | None
    value: str | None
    turn: int | None
    attention: list[tuple[str | None, str | None, float]]  # (entity key, value, weight)
    overridden: str | None = None  # why the consistency check changed the pointer's choice

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "entity": self.entity,
            "value": self.value,
            "turn": self.turn,
            "attention": [{"entity": k, "value": v, "weight": round(w, 4)} for k, v, w in self.attention],
            "overridden": self.overridden,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArgumentPrediction:
        """The pointer :meth:`to_dict` wrote."""
        return cls(
            str(data["name"]),
            data.get("entity"),
            data.get("value"),
            data.get("turn"),
            [(a.get("entity"), a.get("value"), float(a["weight"])) for a in data.get("attention", [])],
            data.get("overridden"),
        )


@dataclass
class ActionPrediction:
    kind: AnnotatedActionKind
    name: str
    probability: float
    alternatives: list[tuple[str, float]]
    arguments: list[ArgumentPrediction] = field(default_factory=list)
    call_id: str | None = None
    request: dict[str, str] | None = None  # API calls: the values sent, defaults included
    results: dict[str, str] | None = None  # API calls: the executor's answer (None: failed)
    error: str | None = None
    text: str | None = None  # responses: the rendered text
    decisions: list[Decision] = field(default_factory=list)

    def values(self) -> dict[str, str]:
        return {a.name: a.value for a in self.arguments if a.value is not None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "probability": round(self.probability, 4),
            "alternatives": [{"name": n, "probability": round(p, 4)} for n, p in self.alternatives],
            "arguments": [a.to_dict() for a in self.arguments],
            "id": self.call_id,
            "request": self.request,
            "results": self.results,
            "error": self.error,
            "text": self.text,
            "consistency": [d.to_dict() for d in self.decisions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActionPrediction:
        """The action :meth:`to_dict` wrote."""
        return cls(
            AnnotatedActionKind(data["kind"]),
            str(data["name"]),
            float(data.get("probability", 1.0)),
            [(str(a["name"]), float(a["probability"])) for a in data.get("alternatives", [])],
            [ArgumentPrediction.from_dict(a) for a in data.get("arguments", [])],
            call_id=data.get("id"),
            request=data.get("request"),
            results=data.get("results"),
            error=data.get("error"),
            text=data.get("text"),
            decisions=[Decision.from_dict(d) for d in data.get("consistency", [])],
        )


@dataclass
class TurnResult:
    text: str
    spans: list[SpanPrediction]
    actions: list[ActionPrediction]

    @property
    def response(self) -> str:
        return " ".join(a.text for a in self.actions if a.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "spans": [s.to_dict() for s in self.spans],
            "actions": [a.to_dict() for a in self.actions],
            "response": self.response,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TurnResult:
        """The turn :meth:`to_dict` wrote: the one reader of the stored turn format."""
        return cls(
            str(data["text"]),
            [SpanPrediction.from_dict(s) for s in data.get("spans", [])],
            [ActionPrediction.from_dict(a) for a in data.get("actions", [])],
        )


@dataclass
class Session:
    """One conversation's state."""

    tracker: DialogueTracker
    history: list[TurnResult] = field(default_factory=list)


class DialogueManager:
    """NER, action prediction and argument filling behind one call per user turn."""

    def __init__(
        self,
        *,
        skill: skillspec.Skill,
        models: Models,
        encoder: TextEncoder,
        today: datetime.date | None = None,
        max_actions: int = MAX_ACTIONS,
        fallback_min_probability: float = FALLBACK_MIN_PROBABILITY,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.skill = skill
        self.fallback_min_probability = fallback_min_probability
        self.models = models
        self.encoder = encoder
        self.today = today
        self.max_actions = max_actions
        self.config = config or {}
        self.device = next(models.ap.parameters()).device
        self._index_lock = threading.Lock()
        self._indexes: dict[datetime.date, SkillIndex] = {}
        # Per dialogue (tracker), each model's turn-level LSTM after the turns seen so far: a turn
        # runs the three context LSTMs over its new turns only, not the whole dialogue again.
        self._contexts: weakref.WeakKeyDictionary[DialogueTracker, dict[str, ContextState]] = (
            weakref.WeakKeyDictionary()
        )
        self._contexts_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        device: str = "auto",
        encoder: TextEncoder | None = None,
        today: datetime.date | None = None,
    ) -> DialogueManager:
        """Load an artifact directory. ``today`` fixes what relative dates mean (default: the real today)."""
        device = resolve_device(device)
        config, _, skill, models = load_artifact(Path(path), device=device)
        enc_cfg = config["encoder"]
        if encoder is None:
            enc_path = enc_cfg["path"] if Path(enc_cfg["path"], "config.json").is_file() else None
            encoder = TextEncoder(
                enc_path, device=device, max_length=enc_cfg["max_length"], precision=artifact_precision(config)
            )
        tuned = Path(path) / ENCODER_LAYERS
        if enc_cfg.get("finetuned_layers"):
            # The artifact carries the encoder's fine-tuned top layers: apply them to the base encoder.
            if encoder.base_identity != enc_cfg["base_identity"]:
                raise ValueError(
                    f"{path}: fine-tuned from encoder {enc_cfg['name']} ({enc_cfg['base_identity']}), but the "
                    f"encoder at {encoder.path} is {encoder.base_identity}; point COLLOQUY_ENCODER at it"
                )
            if not tuned.is_file():
                raise FileNotFoundError(f"{tuned}: missing (the artifact was trained with a fine-tuned encoder)")
            if encoder.identity != enc_cfg["identity"]:
                encoder = encoder.adapted(load_file(str(tuned)))
        if encoder.identity != enc_cfg["identity"]:
            raise ValueError(
                f"{path}: trained with encoder {enc_cfg['name']} ({enc_cfg['identity']}), but the encoder at "
                f"{encoder.path} is {encoder.identity}; point COLLOQUY_ENCODER at the training encoder"
            )
        return cls(skill=skill, models=models, encoder=encoder, today=today, config=config)

    def index(self, today: datetime.date | None = None) -> SkillIndex:
        day = today or self.today or datetime.date.today()
        with self._index_lock:
            if day not in self._indexes:
                self._indexes[day] = SkillIndex(self.skill, hidden=self.encoder.hidden_size, today=day)
            return self._indexes[day]

    def new_session(self, *, today: datetime.date | None = None) -> Session:
        return Session(DialogueTracker(self.index(today)))

    def respond(self, session: Session, text: str, *, executor: Executor | None = None) -> TurnResult:
        """Handle one user turn: recognise entities, then act until "wait for user"."""
        tracker = session.tracker
        encoded, spans = self.recognise(tracker, text)
        self.add_user_turn(tracker, text, encoded, spans)
        actions = self.act(tracker, executor or _no_backend)
        tracker.end_system_turn()
        if actions and actions[0].name == tracker.index.fallback:
            # Not handled: what the turn seemed to say is forgotten, the dialogue state stays as it was.
            tracker.unsay_user_turn()
            spans = []
        result = TurnResult(text, spans, actions)
        session.history.append(result)
        return result

    def resume(self, history: Sequence[Mapping[str, Any]], *, today: datetime.date | None = None) -> Session:
        """A session that carries on after ``history``: earlier turns as :meth:`TurnResult.to_dict` gave them.

        Nothing is predicted again: the stored spans, actions, pointers and API results are
        replayed into a new tracker (only the user texts are encoded), so the next turn sees
        exactly the context it would have seen had the session never left memory.
        """
        session = self.new_session(today=today)
        tracker = session.tracker
        for stored in history:
            turn = TurnResult.from_dict(stored)
            added = tracker.add_user_turn(
                turn.text,
                self.encoder.encode(turn.text),
                [(s.start, s.end, s.slot_type, s.value, s.entity or None, s.confidence) for s in turn.spans],
            )
            turn.spans = [
                SpanPrediction(s.start, s.end, s.text, s.slot_type, s.value, e.id, s.confidence)
                for s, e in zip(turn.spans, added, strict=True)
            ]
            tracker.begin_system_turn()
            for a in turn.actions:
                if a.name not in tracker.index.action_index:
                    raise ValueError(f"turn {len(session.history)}: action {a.name!r} is not one of this manager's")
                bound = {g.name: g.entity for g in a.arguments if g.entity}
                results = None
                if a.kind is AnnotatedActionKind.API and a.results is not None:
                    results = [
                        (r.name, r.slot_type, str(a.results[r.name]))
                        for r in tracker.index.apis[a.name].returns
                        if r.name in a.results
                    ] or None
                tracker.add_action(
                    a.name, bound, call_key=a.call_id if a.kind is AnnotatedActionKind.API else None, results=results
                )
            tracker.end_system_turn()
            session.history.append(turn)
        return session

    # ---------------------------------------------------------------- the steps, also used by evaluation

    def recognise(self, tracker: DialogueTracker, text: str) -> tuple[Encoded, list[SpanPrediction]]:
        """NER on a user utterance, in the context of the dialogue so far."""
        index = tracker.index
        encoded = self.encoder.encode(text)
        if len(encoded.offsets) == 0:
            return encoded, []
        batch = {"ner_context_vectors": self._context(tracker, "ner", self.models.ner.context)}
        batch.update(token_tensors([encoded], [index.token_features(text, encoded)], index.hidden))
        tags, conf = self.models.ner.predict(self._dev(batch))
        spans = []
        for start, end, slot_type, c in index.decode_bio(text, encoded, tags[0], conf[0]):
            surface = text[start:end]
            value = index.catalogue.read(slot_type, surface)
            # A date, time or number the normaliser cannot read ("person", ".") is a tagging error:
            # as an entity it would only be pointed at by mistake.
            if value is not None:
                spans.append(SpanPrediction(start, end, surface, slot_type, value, "", c))
        return encoded, spans

    def add_user_turn(
        self, tracker: DialogueTracker, text: str, encoded: Encoded, spans: list[SpanPrediction]
    ) -> list[SpanPrediction]:
        """Add the user turn to the tracker; fills in each span's entity key (in place, returned)."""
        added = tracker.add_user_turn(
            text, encoded, [(s.start, s.end, s.slot_type, s.value, None, s.confidence) for s in spans]
        )
        for i, (s, e) in enumerate(zip(spans, added, strict=True)):
            spans[i] = SpanPrediction(s.start, s.end, s.text, s.slot_type, s.value, e.id, s.confidence)
        return spans

    def act(self, tracker: DialogueTracker, executor: Executor) -> list[ActionPrediction]:
        """Predict, check and take the actions of a system turn (left open: call ``end_system_turn``)."""
        index = tracker.index
        tracker.begin_system_turn()
        # Every step of the turn reads the same dialogue context: the turn-level LSTMs run once.
        ap_context = self._context(tracker, "ap", self.models.ap.context)
        af_context = self._context(tracker, "af", self.models.af.context)
        utterance = self._utterance(tracker)
        actions_space = index.vocab.actions
        taken: list[ActionPrediction] = []
        for step in range(self.max_actions):
            batch = {"ap_context_vectors": ap_context, "ap_utterance": utterance}
            batch["ap_state"] = torch.from_numpy(tracker.step_features()[None, :])
            probs = self.models.ap.predict(self._dev(batch))[0].cpu()
            ranked = [int(i) for i in torch.argsort(probs, descending=True)]
            alternatives = [(actions_space[i], float(probs[i])) for i in ranked[: TOP_ALTERNATIVES + 1]]
            decisions: list[Decision] = []
            if step == self.max_actions - 1:
                decisions.append(Decision(actions_space[ranked[0]], False, f"cap of {self.max_actions} actions", WAIT))
                queue = [index.action_index[WAIT]]
            else:
                queue = list(ranked)
            tried: set[int] = set()
            chosen: tuple[int, list[ArgumentPrediction], dict[str, Entity | None]] | None = None
            while queue:
                a = queue.pop(0)
                if a in tried:
                    continue
                tried.add(a)
                name = actions_space[a]
                if name == index.fallback and float(probs[a]) < self.fallback_min_probability:
                    decisions.append(Decision(name, False, f"fallback at {float(probs[a]):.2f}, below the minimum"))
                    continue
                args, entities = self._fill(tracker, af_context, name)
                verdict = check_action(index, tracker, name, entities)
                if verdict.ok:
                    decisions.append(Decision(name, True, "valid"))
                    chosen = (a, args, entities)
                    break
                decisions.append(Decision(name, False, verdict.reason, verdict.alternative))
                if verdict.alternative is not None:
                    queue.insert(0, index.action_index[verdict.alternative])
            assert chosen is not None, "wait_for_user is always valid"
            a, args, entities = chosen
            name = actions_space[a]
            pred = ActionPrediction(index.kind(name), name, float(probs[a]), alternatives, args, decisions=decisions)
            self._take(tracker, pred, entities, executor)
            taken.append(pred)
            if name == WAIT:
                break
        return taken

    # ---------------------------------------------------------------- internals

    def _fill(
        self, tracker: DialogueTracker, context: torch.Tensor, action: str
    ) -> tuple[list[ArgumentPrediction], dict[str, Entity | None]]:
        index = tracker.index
        spec = index.arguments[action]
        if not spec:
            return [], {}
        cands = [tracker.candidates(action, name) for name, _, _, _ in spec]
        entities: dict[str, Entity | None] = {}
        preds = []
        empty = [i for i, c in enumerate(cands) if not c.entities]
        runnable = [i for i in range(len(spec)) if i not in empty]
        weights: dict[int, list[float]] = {}
        if runnable:
            batch = {
                "af_context_vectors": context.expand(len(runnable), -1),
                "af_action": torch.full((len(runnable),), index.action_index[action]),
                "af_arg": torch.tensor([index.arg_index[f"{action}.{spec[i][0]}"] for i in runnable]),
            }
            batch.update(candidate_tensors([cands[i] for i in runnable], index.hidden))
            att = self.models.af.predict(self._dev(batch)).cpu()
            for row, i in enumerate(runnable):
                weights[i] = att[row, : len(cands[i].entities)].tolist()
        confirmed = (
            confirmation_bindings(index, tracker, action)
            if action in index.apis and index.apis[action].transactional
            else {}
        )
        for i, (name, _, _, _) in enumerate(spec):
            w = weights.get(i, [])
            options = cands[i].entities
            choice = options[max(range(len(w)), key=w.__getitem__)] if w else None
            overridden = None
            shown = tracker.by_key.get(confirmed.get(name, ""))
            if shown is not None and shown in options and shown is not choice:
                choice, overridden = shown, "the value the confirmation showed"
            entities[name] = choice
            attention: list[tuple[str | None, str | None, float]] = [
                (None, None, p) if e is None else (e.id, e.value, p) for e, p in zip(options, w, strict=True)
            ]
            if choice is None:
                preds.append(ArgumentPrediction(name, None, None, None, attention, overridden))
            else:
                preds.append(ArgumentPrediction(name, choice.id, choice.value, choice.turn, attention, overridden))
        return preds, entities

    def _take(
        self, tracker: DialogueTracker, pred: ActionPrediction, entities: dict[str, Entity | None], executor: Executor
    ) -> None:
        index = tracker.index
        bound = {n: e.id for n, e in entities.items() if e is not None}
        if pred.kind is AnnotatedActionKind.API:
            values = pred.values()
            for name, _, _, default in index.arguments[pred.name]:
                if name not in values and default is not None:
                    values[name] = default
            pred.request = dict(values)
            try:
                answer = executor(pred.name, values)
                pred.results = None if answer is None else {str(k): str(v) for k, v in answer.items()}
            except Exception as exc:  # a developer's backend failing is a failed call, not a crash
                pred.results, pred.error = None, f"{type(exc).__name__}: {exc}"
            api = index.apis[pred.name]
            results = None
            if pred.results is not None:
                results = [(r.name, r.slot_type, pred.results[r.name]) for r in api.returns if r.name in pred.results]
            pred.call_id = tracker.next_call_key()
            tracker.add_action(pred.name, bound, call_key=pred.call_id, results=results or None)
            return
        if pred.kind is AnnotatedActionKind.RESPONSE:
            template = index.templates[pred.name]
            surface = {n: e.text for n, e in entities.items() if e is not None}
            # An argument left unfilled shows as its placeholder: the gap is visible, not hidden.
            pred.text = skillspec.render(template.variants[0], surface, keep_missing=True)
        tracker.add_action(pred.name, bound)

    def _context(self, tracker: DialogueTracker, name: str, module: TurnContext) -> torch.Tensor:
        """``module``'s context vector [1, H] after the tracker's finished turns, advanced from
        the state this dialogue's previous turn left (the new turns only)."""
        with self._contexts_lock:
            states = self._contexts.setdefault(tracker, {})
            state = states.get(name)
        if state is not None and state.turns > tracker.turn_index:
            state = None  # not this dialogue's past: start again
        start = state.turns if state is not None else 0
        rows = torch.from_numpy(tracker.turn_matrix(start)).to(self.device)
        state = module.advance(rows, state)
        states[name] = state
        return state.vector

    def _utterance(self, tracker: DialogueTracker) -> torch.Tensor:
        last = tracker.turns[-1] if tracker.turns else None
        pooled = last.pooled if last is not None and last.pooled is not None else None
        if pooled is None:
            return torch.zeros(1, tracker.index.hidden)
        return torch.from_numpy(pooled[None, :].astype("float32"))

    def _dev(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self.device.type == "cpu":
            return batch
        return {k: v.to(self.device) for k, v in batch.items()}


def _no_backend(api: str, arguments: dict[str, str]) -> Mapping[str, str] | None:
    raise RuntimeError(f"no API executor was given to call {api}")
