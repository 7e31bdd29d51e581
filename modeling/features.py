"""What the models see: the skill's label spaces and the dialogue state, as numbers.

:class:`SkillVocab` fixes every label space of a skill (slot types, BIO tags, the action
space, argument and result-field keys). :class:`DialogueTracker` holds one dialogue's
state (turns, entities, calls, bindings) and turns it into model inputs; training, the
runtime and evaluation all drive the same tracker, so the features a model is trained on
are the features it is served with.

(Over 500 lines on purpose: the tracker's state and the features read from it stay side
by side, so a feature cannot read state the runtime does not keep.)
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skillspec import ContextEntity, DialogAct, EntityIds, EntitySource, Skill, result_id
from skillspec.annotated import WAIT, AnnotatedActionKind
from skillspec.catalogue import Catalogue
from skillspec.fallback import fallback_template, response_templates
from skillspec.index import by_name

from .encoder import Encoded

MAX_RANK = 5


@dataclass(frozen=True)
class SkillVocab:
    """Every label space of one skill, in a fixed order (saved with the artifact)."""

    slot_types: tuple[str, ...]
    apis: tuple[str, ...]
    templates: tuple[str, ...]
    arg_keys: tuple[str, ...]  # "<action>.<argument>" for every API and template argument
    result_fields: tuple[str, ...]  # index 0 is a user span; then "<api>.<field>"

    @classmethod
    def from_skill(cls, skill: Skill) -> SkillVocab:
        arg_keys = [f"{a.name}.{x.name}" for a in skill.apis for x in a.arguments]
        arg_keys += [f"{t.name}.{x.name}" for t in response_templates(skill) for x in t.arguments]
        return cls(
            slot_types=tuple(s.name for s in skill.slot_types),
            apis=tuple(a.name for a in skill.apis),
            templates=tuple(t.name for t in response_templates(skill)),
            arg_keys=tuple(arg_keys),
            result_fields=("<user>", *(f"{a.name}.{r.name}" for a in skill.apis for r in a.returns)),
        )

    @property
    def actions(self) -> tuple[str, ...]:
        """The action space: "wait for user", every API, every response template."""
        return (WAIT, *self.apis, *self.templates)

    @property
    def bio(self) -> tuple[str, ...]:
        return ("O", *(f"{p}-{s}" for s in self.slot_types for p in ("B", "I")))

    def to_json(self) -> dict[str, Any]:
        return {
            "slot_types": list(self.slot_types),
            "apis": list(self.apis),
            "templates": list(self.templates),
            "arg_keys": list(self.arg_keys),
            "result_fields": list(self.result_fields),
            "actions": list(self.actions),
            "bio": list(self.bio),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SkillVocab:
        return cls(
            slot_types=tuple(data["slot_types"]),
            apis=tuple(data["apis"]),
            templates=tuple(data["templates"]),
            arg_keys=tuple(data["arg_keys"]),
            result_fields=tuple(data["result_fields"]),
        )


@dataclass(frozen=True, eq=False)  # eq=False: identity; the embedding arrays have no truth value
class Entity(ContextEntity):
    """A context entity as the models see it: where it sits, its embedding, how sure NER was."""

    order: int = 0  # position in the dialogue's entity list
    repr: np.ndarray | None = None  # user spans: mean of the span's token embeddings + the token before
    field: int = 0  # result entities: index in SkillVocab.result_fields
    call: int = -1  # result entities: index of the call in the dialogue
    start: int = -1
    end: int = -1
    confidence: float = 1.0


@dataclass
class Call:
    api: str
    key: str
    arguments: dict[str, str]  # argument name -> value
    turn: int
    failed: bool


@dataclass
class _TurnRecord:
    speaker: str
    pooled: np.ndarray | None = None
    slot_types: set[str] = field(default_factory=set)
    actions: list[str] = field(default_factory=list)
    bound: list[dict[str, str]] = field(default_factory=list)  # each action's argument -> entity key
    failed: bool = False


@dataclass(frozen=True)
class Candidates:
    """The type-compatible entities an argument may point at (None: leave it unbound)."""

    entities: list[Entity | None]
    features: np.ndarray  # float32 [C, CANDIDATE_FEATURES]
    reprs: np.ndarray  # float32 [C, 2H]
    fields: np.ndarray  # int64 [C]


CANDIDATE_FEATURES = 14 + MAX_RANK + 1


class SkillIndex:
    """The skill's vocabularies plus the lookups the tracker needs; built once per skill."""

    def __init__(self, skill: Skill, *, hidden: int, today: datetime.date) -> None:
        self.skill = skill
        self.vocab = SkillVocab.from_skill(skill)
        self.hidden = hidden
        self.catalogue = Catalogue(skill, today=today)
        v = self.vocab
        self.action_index = {a: i for i, a in enumerate(v.actions)}
        self.slot_index = {s: i for i, s in enumerate(v.slot_types)}
        self.api_index = {a: i for i, a in enumerate(v.apis)}
        self.template_index = {t: i for i, t in enumerate(v.templates)}
        self.arg_index = {k: i for i, k in enumerate(v.arg_keys)}
        self.field_index = {k: i for i, k in enumerate(v.result_fields)}
        self.bio_index = {t: i for i, t in enumerate(v.bio)}
        self.apis = by_name(skill.apis)
        self.templates = by_name(response_templates(skill))
        self.fallback = fallback_template(skill).name  # said to a turn the skill does not handle
        # Each action's arguments as (name, slot type, required, default).
        self.arguments: dict[str, list[tuple[str, str, bool, str | None]]] = {WAIT: []}
        for a in skill.apis:
            self.arguments[a.name] = [(x.name, x.slot_type, x.required, x.default) for x in a.arguments]
        for t in response_templates(skill):
            self.arguments[t.name] = [(x.name, x.slot_type, True, None) for x in t.arguments]
        self.confirms: dict[str, list[str]] = {}  # API -> its confirm_api templates
        self.requests: dict[str, list[tuple[str, set[str]]]] = {}  # API -> request_args templates and what they ask
        for t in response_templates(skill):
            if t.api is None:
                continue
            if t.act is DialogAct.CONFIRM_API:
                self.confirms.setdefault(t.api, []).append(t.name)
            elif t.act is DialogAct.REQUEST_ARGS:
                self.requests.setdefault(t.api, []).append((t.name, set(t.requested)))
        k, n_act, p, m = len(v.slot_types), len(v.actions), len(v.apis), len(v.templates)
        # What each API (its required arguments without a default) and each template (all its
        # arguments) needs, as slot-type rows: step_features tests them all with one product.
        self.api_needs = np.zeros((p, k), dtype=np.float32)
        self.api_arg_types = [{st for _, st, _, _ in self.arguments[api]} for api in v.apis]
        for i, api in enumerate(v.apis):
            for _, st, req, default in self.arguments[api]:
                if req and default is None and st in self.slot_index:
                    self.api_needs[i, self.slot_index[st]] = 1.0
        self.template_needs = np.zeros((m, k), dtype=np.float32)
        for i, tpl in enumerate(v.templates):
            for _, st, _, _ in self.arguments[tpl]:
                if st in self.slot_index:
                    self.template_needs[i, self.slot_index[st]] = 1.0
        # A need of a type outside the vocabulary can never be met.
        known = self.slot_index
        unknown = [any(st not in known and req and d is None for _, st, req, d in self.arguments[a]) for a in v.apis]
        self.api_unmeetable = np.array(unknown, dtype=bool)
        self.template_unmeetable = np.array(
            [any(st not in known for _, st, _, _ in self.arguments[t]) for t in v.templates], dtype=bool
        )
        self._token_features: dict[str, np.ndarray] = {}
        self.step_size = n_act + (n_act + 1) + n_act + 3 * k + 6 * p + m + 4
        self.turn_size = hidden + k + n_act + 3
        self.token_feature_size = 2 * k + 2

    def kind(self, action: str) -> AnnotatedActionKind:
        if action == WAIT:
            return AnnotatedActionKind.WAIT
        return AnnotatedActionKind.API if action in self.apis else AnnotatedActionKind.RESPONSE

    def token_features(self, text: str, encoded: Encoded) -> np.ndarray:
        """Per word piece: inside/begins a catalogue mention of each slot type; digit; capitalised.

        A function of the text alone (its encoding is the text's): simulated dialogues say the
        same utterance many times over, so each distinct text is computed once (read-only result).
        """
        cached = self._token_features.get(text)
        if cached is not None and len(cached) == len(encoded.offsets):
            return cached
        feats = self._token_features_of(text, encoded)
        feats.flags.writeable = False
        if len(self._token_features) >= 50_000:  # about 1 KB each
            self._token_features.clear()
        self._token_features[text] = feats
        return feats

    def _token_features_of(self, text: str, encoded: Encoded) -> np.ndarray:
        k = len(self.vocab.slot_types)
        feats = np.zeros((len(encoded.offsets), 2 * k + 2), dtype=np.float32)
        matches = self.catalogue.matches(text)
        for t, (s, e) in enumerate(encoded.offsets):
            piece = text[s:e]
            feats[t, 2 * k] = piece[:1].isdigit()
            feats[t, 2 * k + 1] = piece[:1].isupper()
            for ms, me, types in matches:
                if s >= ms and e <= me:
                    for st in types:
                        feats[t, 2 * self.slot_index[st] + (0 if s == ms else 1)] = 1.0
        return feats

    def bio_labels(self, encoded: Encoded, spans: Iterable[tuple[int, int, str]]) -> np.ndarray:
        labels = np.zeros(len(encoded.offsets), dtype=np.int64)
        for start, end, slot_type in spans:
            first = True
            for t, (s, e) in enumerate(encoded.offsets):
                if e > start and s < end:
                    labels[t] = self.bio_index[("B-" if first else "I-") + slot_type]
                    first = False
        return labels

    def decode_bio(
        self, text: str, encoded: Encoded, tags: Sequence[int], confidences: Sequence[float]
    ) -> list[tuple[int, int, str, float]]:
        """Spans (start, end, slot type, confidence) from word-piece tags; a stray I- starts a span."""
        bio = self.vocab.bio
        spans: list[list[Any]] = []  # [start, end, slot type, confidences], extended word piece by word piece
        cur: list[Any] | None = None
        for t, tag in enumerate(tags):
            name = bio[tag]
            s, e = int(encoded.offsets[t][0]), int(encoded.offsets[t][1])
            if name == "O":
                cur = None
                continue
            prefix, slot_type = name[0], name[2:]
            # A word piece that continues a word ("##ton") continues the span whatever its tag.
            continues_word = cur is not None and s == cur[1] and slot_type == cur[2]
            if prefix == "I" and cur is not None and cur[2] == slot_type or continues_word:
                assert cur is not None
                cur[1] = e
                cur[3].append(confidences[t])
            else:
                cur = [s, e, slot_type, [confidences[t]]]
                spans.append(cur)
        out = []
        for s, e, st, conf in spans:
            while s < e and text[s].isspace():
                s += 1
            out.append((s, e, st, float(np.mean(conf))))
        return out


class DialogueTracker:
    """One dialogue's state, as the models see it; fed turn by turn, action by action."""

    def __init__(self, index: SkillIndex) -> None:
        self.index = index
        self.turns: list[_TurnRecord] = []
        self.entities: list[Entity] = []
        self.by_key: dict[str, Entity] = {}
        self.calls: list[Call] = []
        self.bindings: list[tuple[int, str, str, str]] = []  # (turn, action, argument, entity key)
        self.current: _TurnRecord | None = None  # the system turn being built
        self.last_failed: bool | None = None  # the last action of this turn was an API call: did it fail?
        self._ids = EntityIds()  # the dialogue's span and call ids

    # ---------------------------------------------------------------- building the state

    @property
    def turn_index(self) -> int:
        return len(self.turns)

    def next_span_key(self) -> str:
        return self._ids.span()

    def next_call_key(self) -> str:
        return self._ids.call()

    def add_user_turn(
        self, text: str, encoded: Encoded, spans: Sequence[tuple[int, int, str, str, str | None, float]]
    ) -> list[Entity]:
        """A user turn with its spans (start, end, slot type, value, entity key or None, confidence)."""
        assert self.current is None, "end the system turn first"
        t = self.turn_index
        emb = encoded.embeddings.astype(np.float32)
        added = []
        for start, end, slot_type, value, key, conf in spans:
            pieces = [i for i, (s, e) in enumerate(encoded.offsets) if e > start and s < end]
            h = self.index.hidden
            rep = np.zeros(2 * h, dtype=np.float32)
            if pieces:
                rep[:h] = emb[pieces].mean(axis=0)
                if pieces[0] > 0:
                    rep[h:] = emb[pieces[0] - 1]
            ent = Entity(
                id=key or self.next_span_key(),
                slot_type=slot_type,
                value=value,
                turn=t,
                source=EntitySource.SPAN,
                text=text[start:end],
                order=len(self.entities),
                repr=rep,
                start=start,
                end=end,
                confidence=conf,
            )
            self._add_entity(ent)
            added.append(ent)
        self.turns.append(_TurnRecord("user", pooled=encoded.pooled, slot_types={s[2] for s in spans}))
        return added

    def unsay_user_turn(self) -> list[Entity]:
        """Forget what the last user turn said (its entities; its text stays in the context): the
        manager answered it with the fallback, so the dialogue state is what it was before it.
        Only between turns, or in a system turn that has bound nothing yet. Returns the entities."""
        t = max((i for i, r in enumerate(self.turns) if r.speaker == "user"), default=None)
        if t is None:
            return []
        gone = [e for e in self.entities if e.turn == t and e.source is EntitySource.SPAN]
        ids = {e.id for e in gone}
        assert not any(key in ids for *_, key in self.bindings), "the turn's entities are bound"
        for e in gone:
            del self.by_key[e.id]
        self.entities = [e for e in self.entities if e.id not in ids]
        self.turns[t].slot_types = set()
        return gone

    def answered_turn(self) -> int | None:
        """The system turn that the latest user turn answers: the one before it, passing over turns
        the fallback answered (an out-of-scope turn and its fallback change nothing), or None."""
        t = len(self.turns) - 2
        while t >= 0 and self.turns[t].speaker == "system" and self.turns[t].actions[:1] == [self.index.fallback]:
            t -= 2
        return t if t >= 0 and self.turns[t].speaker == "system" else None

    def _add_entity(self, ent: Entity) -> None:
        self.entities.append(ent)
        self.by_key[ent.id] = ent
        self._ids.take(ent.id)

    def begin_system_turn(self) -> None:
        assert self.current is None
        self.current = _TurnRecord("system")
        self.last_failed = None

    def add_action(
        self,
        name: str,
        arguments: dict[str, str],
        *,
        call_key: str | None = None,
        results: Sequence[tuple[str, str, str]] | None = None,
    ) -> list[Entity]:
        """Record an action of the current system turn: arguments map to entity keys.

        For an API call, ``results`` are (field, slot type, value) or None when it failed.
        """
        assert self.current is not None, "begin the system turn first"
        t = self.turn_index
        self.current.actions.append(name)
        self.current.bound.append(dict(arguments))
        for arg, key in arguments.items():
            self.bindings.append((t, name, arg, key))
        added: list[Entity] = []
        if self.index.kind(name) is AnnotatedActionKind.API:
            key = call_key or self.next_call_key()
            self._ids.take(key)
            values = {a: self.by_key[k].value for a, k in arguments.items() if k in self.by_key}
            failed = not results
            self.calls.append(Call(name, key, values, t, failed))
            self.last_failed = failed
            self.current.failed = self.current.failed or failed
            for fld, slot_type, value in results or ():
                ent = Entity(
                    id=result_id(key, fld),
                    slot_type=slot_type,
                    value=value,
                    turn=t,
                    source=EntitySource.RESULT,
                    text=value,
                    order=len(self.entities),
                    field=self.index.field_index.get(f"{name}.{fld}", 0),
                    call=len(self.calls) - 1,
                )
                self._add_entity(ent)
                added.append(ent)
        else:
            self.last_failed = None
        return added

    def checkpoint(self) -> tuple[int, int, int, EntityIds]:
        """A mark to :meth:`rollback` to: taken before a system turn is predicted."""
        return (len(self.entities), len(self.calls), len(self.bindings), self._ids.copy())

    def rollback(self, mark: tuple[int, int, int, EntityIds]) -> None:
        """Forget everything since ``mark``, including the system turn being built."""
        n_entities, n_calls, n_bindings, ids = mark
        for e in self.entities[n_entities:]:
            del self.by_key[e.id]
        del self.entities[n_entities:]
        del self.calls[n_calls:]
        del self.bindings[n_bindings:]
        self._ids = ids.copy()
        self.current = None
        self.last_failed = None

    def end_system_turn(self) -> None:
        assert self.current is not None
        self.turns.append(self.current)
        self.current = None
        self.last_failed = None

    # ---------------------------------------------------------------- features

    def turn_matrix(self, start: int = 0) -> np.ndarray:
        """One row per finished turn (from turn ``start`` on): the hierarchical context LSTM's input.

        A finished turn's row never changes, so the runtime asks only for the new ones."""
        ix = self.index
        k, h = len(ix.vocab.slot_types), ix.hidden
        out = np.zeros((max(0, len(self.turns) - start), ix.turn_size), dtype=np.float32)
        for t, rec in enumerate(self.turns[start:]):
            if rec.speaker == "user":
                if rec.pooled is not None:
                    out[t, :h] = rec.pooled
                for s in rec.slot_types:
                    out[t, h + ix.slot_index[s]] = 1.0
                out[t, -3] = 1.0
            else:
                for a in rec.actions:
                    out[t, h + k + ix.action_index[a]] = 1.0
                out[t, -2] = 1.0
                out[t, -1] = float(rec.failed)
        return out

    def step_features(self) -> np.ndarray:
        """The dialogue state before the next action of the current system turn."""
        assert self.current is not None
        ix = self.index
        v = ix.vocab
        a, k = len(v.actions), len(v.slot_types)
        t = self.turn_index
        f = np.zeros(ix.step_size, dtype=np.float32)
        o = 0
        for name in self.current.actions:
            f[o + ix.action_index[name]] = 1.0
        o += a
        f[o + (ix.action_index[self.current.actions[-1]] if self.current.actions else a)] = 1.0
        o += a + 1
        answered = self.answered_turn()
        prev = self.turns[answered] if answered is not None else None
        for name in prev.actions if prev else ():
            f[o + ix.action_index[name]] = 1.0
        o += a
        types_available: set[str] = set()
        for e in self.entities:
            si = ix.slot_index.get(e.slot_type)
            if si is None:
                continue
            types_available.add(e.slot_type)
            if e.source is EntitySource.SPAN:
                f[o + k + si] = 1.0
                if e.turn == t - 1:
                    f[o + si] = 1.0
            else:
                f[o + 2 * k + si] = 1.0
        o += 3 * k
        p = len(v.apis)
        last_call: dict[str, Call] = {}
        for c in self.calls:
            last_call[c.api] = c
        this_turn = set(self.current.actions)
        prev_actions = set(prev.actions) if prev else set()
        # A need is met when no needed slot type is missing: one product over all APIs/templates.
        missing = np.ones(k, dtype=np.float32)
        for st in types_available:
            missing[ix.slot_index[st]] = 0.0
        f[o : o + p] = ((ix.api_needs @ missing) == 0) & ~ix.api_unmeetable
        for i, api in enumerate(v.apis):
            last = last_call.get(api)
            f[o + p + i] = float(last is not None)
            f[o + 2 * p + i] = float(api in this_turn)
            f[o + 3 * p + i] = float(last is not None and last.failed)
            if last is not None:
                arg_types = ix.api_arg_types[i]
                f[o + 4 * p + i] = float(
                    any(
                        e.source is EntitySource.SPAN and e.turn > last.turn and e.slot_type in arg_types
                        for e in self.entities
                    )
                )
            f[o + 5 * p + i] = float(any(tn in prev_actions for tn in ix.confirms.get(api, ())))
        o += 6 * p
        f[o : o + len(v.templates)] = ((ix.template_needs @ missing) == 0) & ~ix.template_unmeetable
        o += len(v.templates)
        f[o] = float(self.last_failed is False)
        f[o + 1] = float(self.last_failed is True)
        f[o + 2] = min(t, 40) / 20.0
        f[o + 3] = len(self.current.actions) / 5.0
        return f

    def candidates(self, action: str, argument: str) -> Candidates:
        """The entities argument ``argument`` of ``action`` may take, with the pointer's features."""
        ix = self.index
        spec = next(x for x in ix.arguments[action] if x[0] == argument)
        _, slot_type, required, default = spec
        t = self.turn_index
        compatible = [e for e in self.entities if e.slot_type == slot_type]
        compatible.sort(key=lambda e: e.order, reverse=True)  # newest first: the rank feature
        options: list[Entity | None] = list(compatible)
        if not required or default is not None:
            options.append(None)
        h = ix.hidden
        feats = np.zeros((len(options), CANDIDATE_FEATURES), dtype=np.float32)
        reprs = np.zeros((len(options), 2 * h), dtype=np.float32)
        fields = np.zeros(len(options), dtype=np.int64)
        arg_key = f"{action}.{argument}"
        used_name: set[str] = set()
        used_key: set[str] = set()
        latest_for_name: str | None = None
        for _, act, arg, key in self.bindings:
            if arg == argument:
                used_name.add(key)
                latest_for_name = key
            if f"{act}.{arg}" == arg_key:
                used_key.add(key)
        prev_system = t - 2  # candidates are asked for while a system turn is being built
        in_prev_system = {key for (bt, _, _, key) in self.bindings if bt == prev_system}
        confirmed = {
            key
            for (bt, act, arg, key) in self.bindings
            if bt == prev_system and arg == argument and ix.templates.get(act) is not None
        }
        last_call_turn = self.calls[-1].turn if self.calls else -1
        said_since_call = {e.value for e in compatible if e.source is EntitySource.SPAN and e.turn > last_call_turn}
        latest_call = len(self.calls) - 1
        rank_by_type = 0
        for c, e in enumerate(options):
            if e is None:
                feats[c, 2] = 1.0
                continue
            feats[c, 0] = float(e.source is EntitySource.SPAN)
            feats[c, 1] = float(e.source is EntitySource.RESULT)
            feats[c, 3] = min(t - e.turn, 20) / 10.0
            feats[c, 4] = float(e.source is EntitySource.SPAN and e.turn == t - 1)
            feats[c, 5] = float(e.source is EntitySource.RESULT and e.turn == t)
            feats[c, 6] = float(e.id in used_name)
            feats[c, 7] = float(e.id in used_key)
            feats[c, 8] = float(e.id in in_prev_system)
            feats[c, 9] = float(e.id == latest_for_name)
            feats[c, 10] = float(e.id in confirmed)
            feats[c, 11] = float(e.source is EntitySource.RESULT and e.call == latest_call)
            feats[c, 12] = e.confidence
            feats[c, 13] = float(e.source is EntitySource.SPAN and e.value in said_since_call)
            feats[c, 14 + min(rank_by_type, MAX_RANK)] = 1.0
            rank_by_type += 1
            if e.repr is not None:
                reprs[c] = e.repr
            fields[c] = e.field
        return Candidates(options, feats, reprs, fields)
