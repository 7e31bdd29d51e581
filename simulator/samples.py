"""A skill's own sample dialogues in the annotated format, without simulation.

Each sample dialogue becomes one :class:`~skillspec.annotated.AnnotatedDialogue`
(``id`` ``sample-<index>``, source ``sample``, ``test`` copied), which passes
:class:`simulator.checker.Checker`:

* user spans get their canonical value: ``span.value`` when the sample gives one,
  otherwise the catalogue value the text spells (value or synonym, any case), or for a
  built-in type what :func:`skillspec.normalize` reads (the text itself if it reads
  nothing, which the checker then reports); entity ids are the sample's own;
* arguments name their entity, the turn that introduced it and its value;
* API calls get results from a :class:`~simulator.backend.MockBackend` (the first row),
  drawn with a per-dialogue ``random.Random`` seeded from ``(seed, dialogue index)``; a
  call is taken to have *failed* (no results) when a ``notify_failure`` response about
  its API follows it in the same turn and nothing binds its results;
* responses are rendered from a variant chosen by that rng, with the span's surface text
  for a user entity and the value for an API result; a system turn's text is its
  responses' texts joined by single spaces.

User acts are inferred by a heuristic, from the turn and the system turns around it:

1. the first user turn is ``invoke``;
2. a turn without spans answered by a ``goodbye`` response is ``goodbye``;
3. after a ``confirm_api``/``confirm_args`` response: ``affirm`` if the next system turn
   calls that API or the turn, without spans, starts with a yes word; ``deny`` otherwise;
4. otherwise, after an ``offer_api`` response: ``affirm`` if the next system turn calls
   that API or asks or confirms anything about it, ``deny`` otherwise;
5. otherwise, without spans, ``request_more`` if the next system turn repeats an earlier
   call with the same bindings;
6. otherwise ``invoke`` if the next system turn calls, asks for or confirms arguments of
   an API that the previous system turn was not about;
7. spans add ``change`` if one of them replaces, in the next system turn, the entity an
   earlier action of the same API (or template) bound to the same argument, else
   ``inform`` (not after ``invoke``, which includes its values);
8. a turn still without an act is ``affirm`` or ``deny`` if it starts with a yes or a
   no word ("sure", "no thanks"), else ``inform``.
"""

from __future__ import annotations

import datetime
import random
import re
from dataclasses import dataclass

from skillspec import (
    ActionKind,
    DialogAct,
    SampleDialogue,
    Skill,
    SystemTurn,
    UserAct,
    UserTurn,
    normalize,
    render,
    spec_hash,
)
from skillspec.annotated import (
    WAIT,
    AAction,
    AArgument,
    AnnotatedActionKind,
    AnnotatedDialogue,
    AResult,
    ASpan,
    ASystemTurn,
    ATurn,
    AUserTurn,
    Source,
)
from skillspec.catalogue import catalogue_forms, form_key
from skillspec.index import by_name

from .backend import MockBackend
from .protocols import ApiResult
from .text import REFERENCE_DATE, Value, choose_variant

_YES = re.compile(
    r"(yes|yeah|yep|yup|sure|ok|okay|correct|right|that's right|sounds good|go ahead|please do|do it|great|perfect"
    r"|absolutely|definitely|of course)\b",
    re.IGNORECASE,
)
_NO = re.compile(r"(no|nope|nah|not|don't|cancel)\b", re.IGNORECASE)
_HANDLING = frozenset({DialogAct.REQUEST_ARGS, DialogAct.CONFIRM_ARGS, DialogAct.CONFIRM_API})


@dataclass(frozen=True)
class _Known:
    turn: int
    value: Value


def samples_to_annotated(
    skill: Skill,
    *,
    seed: int = 0,
    today: datetime.date = REFERENCE_DATE,
    backend: MockBackend | None = None,
) -> list[AnnotatedDialogue]:
    """The skill's sample dialogues, converted (see the module docstring for how)."""
    converter = _Converter(skill, today=today, backend=backend or MockBackend(skill, today=today))
    return [
        converter.convert(i, d, random.Random(f"colloquy-samples:{seed}:{i}"))
        for i, d in enumerate(skill.sample_dialogues)
    ]


class _Converter:
    def __init__(self, skill: Skill, *, today: datetime.date, backend: MockBackend):
        self.skill = skill
        self.today = today
        self.backend = backend
        self.hash = spec_hash(skill)
        self.slots = by_name(skill.slot_types)
        self.forms: dict[str, dict[str, str]] = {}
        for st in reversed(skill.slot_types):
            self.forms[st.name] = catalogue_forms(st)
        self.apis = by_name(skill.apis)
        self.templates = by_name(skill.response_templates)

    def span_value(self, slot_type: str, text: str, given: str | None) -> str:
        if given is not None:
            return given
        slot = self.slots.get(slot_type)
        if slot is None:
            return text
        if slot.builtin is not None:
            return normalize(slot.builtin, text, today=self.today) or text
        return self.forms[slot_type].get(form_key(text), text)

    def convert(self, index: int, d: SampleDialogue, rng: random.Random) -> AnnotatedDialogue:
        known: dict[str, _Known] = {}
        turns: list[ATurn] = []
        for t, turn in enumerate(d.turns):
            if isinstance(turn, UserTurn):
                spans = []
                for s in turn.spans:
                    surface = turn.text[s.start : s.end]
                    value = self.span_value(s.slot_type, surface, s.value)
                    known[s.id] = _Known(t, Value(s.slot_type, value, surface))
                    spans.append(ASpan(start=s.start, end=s.end, slot_type=s.slot_type, value=value, entity=s.id))
                acts = [a.value for a in self.infer_acts(d, t)]
                turns.append(AUserTurn(text=turn.text, acts=acts, spans=spans))
            else:
                turns.append(self.system_turn(d, t, turn, known, rng))
        return AnnotatedDialogue(
            id=f"sample-{index}",
            skill=self.skill.name,
            spec_hash=self.hash,
            source=Source.SAMPLE,
            test=d.test,
            turns=turns,
        )

    def system_turn(
        self, d: SampleDialogue, t: int, turn: SystemTurn, known: dict[str, _Known], rng: random.Random
    ) -> ASystemTurn:
        actions: list[AAction] = []
        texts: list[str] = []
        for a, action in enumerate(turn.actions):
            arguments = []
            for name, ref in action.arguments.items():
                entity = known.get(ref)
                if entity is None:
                    raise ValueError(f"sample dialogue {d.name!r}, turn {t}: {ref!r} is not a known entity")
                arguments.append(AArgument(name=name, entity=ref, turn=entity.turn, value=entity.value.value))
            if action.kind is ActionKind.API:
                results = self.results(d, t, a, turn, known, rng)
                actions.append(
                    AAction(
                        kind=AnnotatedActionKind.API,
                        name=action.name,
                        id=action.id,
                        arguments=arguments,
                        results=results,
                    )
                )
            else:
                template = self.templates[action.name]
                values = {name: known[ref].value.text for name, ref in action.arguments.items()}
                text = render(choose_variant(template.variants, rng), values)
                texts.append(text)
                actions.append(
                    AAction(kind=AnnotatedActionKind.RESPONSE, name=action.name, arguments=arguments, text=text)
                )
        actions.append(AAction(kind=AnnotatedActionKind.WAIT, name=WAIT))
        return ASystemTurn(text=" ".join(texts), actions=actions)

    def results(
        self, d: SampleDialogue, t: int, a: int, turn: SystemTurn, known: dict[str, _Known], rng: random.Random
    ) -> list[AResult]:
        action = turn.actions[a]
        api = self.apis[action.name]
        call_id = action.id or ""
        if self.failed(d, turn, a):
            return []
        values = {name: known[ref].value for name, ref in action.arguments.items()}
        result: ApiResult = self.backend.call(api.name, values, rng)
        if not result.success or not result.rows:
            return []
        row = result.rows[0]
        out = []
        for ret in api.returns:
            value = row[ret.name]
            entity = f"{call_id}.{ret.name}"
            # Responses show a result by its value: the annotation keeps no other surface form.
            known[entity] = _Known(t, Value(ret.slot_type, value.value, value.value))
            out.append(AResult(entity=entity, field=ret.name, slot_type=ret.slot_type, value=value.value))
        return out

    def failed(self, d: SampleDialogue, turn: SystemTurn, a: int) -> bool:
        action = turn.actions[a]
        reported = any(
            later.kind is ActionKind.RESPONSE
            and (tpl := self.templates.get(later.name)) is not None
            and tpl.act is DialogAct.NOTIFY_FAILURE
            and tpl.api == action.name
            for later in turn.actions[a + 1 :]
        )
        if not reported:
            return False
        prefix = f"{action.id}."
        return not any(
            ref.startswith(prefix)
            for other in d.turns
            if isinstance(other, SystemTurn)
            for act in other.actions
            for ref in act.arguments.values()
        )

    # ------------------------------------------------------------ user acts

    def about(self, turn: SystemTurn, acts: frozenset[DialogAct] | None = None) -> set[str]:
        """APIs a system turn is about: those it calls and those of its responses (with an act in ``acts``)."""
        out: set[str] = set()
        for action in turn.actions:
            if action.kind is ActionKind.API:
                out.add(action.name)
            elif (
                (tpl := self.templates.get(action.name)) is not None
                and tpl.api is not None
                and (acts is None or tpl.act in acts)
            ):
                out.add(tpl.api)
        return out

    def response_apis(self, turn: SystemTurn, act: DialogAct) -> set[str]:
        return {
            tpl.api
            for action in turn.actions
            if action.kind is ActionKind.RESPONSE
            and (tpl := self.templates.get(action.name)) is not None
            and tpl.act is act
            and tpl.api is not None
        }

    def infer_acts(self, d: SampleDialogue, t: int) -> list[UserAct]:
        turn = d.turns[t]
        assert isinstance(turn, UserTurn)
        if t == 0:
            return [UserAct.INVOKE]
        prev = d.turns[t - 1] if isinstance(d.turns[t - 1], SystemTurn) else None
        nxt = d.turns[t + 1] if t + 1 < len(d.turns) and isinstance(d.turns[t + 1], SystemTurn) else None
        assert prev is None or isinstance(prev, SystemTurn)
        assert nxt is None or isinstance(nxt, SystemTurn)
        if nxt is not None and not turn.spans and self.response_apis_any(nxt, DialogAct.GOODBYE):
            return [UserAct.GOODBYE]
        acts: list[UserAct] = []
        next_calls = {a.name for a in nxt.actions if a.kind is ActionKind.API} if nxt is not None else set()
        handled = self.about(nxt, _HANDLING) if nxt is not None else set()
        confirmed = (
            self.response_apis(prev, DialogAct.CONFIRM_API) | self.response_apis(prev, DialogAct.CONFIRM_ARGS)
            if prev is not None
            else set()
        )
        offered = self.response_apis(prev, DialogAct.OFFER_API) if prev is not None else set()
        if confirmed:
            says_yes = not turn.spans and _YES.match(turn.text.strip()) is not None
            acts.append(UserAct.AFFIRM if confirmed & next_calls or says_yes else UserAct.DENY)
        elif offered:
            acts.append(UserAct.AFFIRM if offered & (handled | next_calls) else UserAct.DENY)
        elif not turn.spans and nxt is not None and self.repeats_a_call(d, t + 1):
            acts.append(UserAct.REQUEST_MORE)
        elif (handled | next_calls) - (self.about(prev) if prev is not None else set()):
            acts.append(UserAct.INVOKE)
        if turn.spans and UserAct.INVOKE not in acts:
            acts.append(UserAct.CHANGE if self.changes(d, t) else UserAct.INFORM)
        if not acts:
            text = turn.text.strip()
            acts.append(UserAct.AFFIRM if _YES.match(text) else UserAct.DENY if _NO.match(text) else UserAct.INFORM)
        return acts

    def response_apis_any(self, turn: SystemTurn, act: DialogAct) -> bool:
        return any(
            action.kind is ActionKind.RESPONSE
            and (tpl := self.templates.get(action.name)) is not None
            and tpl.act is act
            for action in turn.actions
        )

    def _key(self, kind: ActionKind, name: str) -> str:
        """What makes two actions' bindings comparable: the API they are about."""
        if kind is ActionKind.API:
            return name
        tpl = self.templates.get(name)
        return tpl.api if tpl is not None and tpl.api is not None else name

    def repeats_a_call(self, d: SampleDialogue, t: int) -> bool:
        turn = d.turns[t]
        assert isinstance(turn, SystemTurn)
        earlier = [
            (a.name, a.arguments)
            for other in d.turns[:t]
            if isinstance(other, SystemTurn)
            for a in other.actions
            if a.kind is ActionKind.API
        ]
        return any(a.kind is ActionKind.API and (a.name, a.arguments) in earlier for a in turn.actions)

    def changes(self, d: SampleDialogue, t: int) -> bool:
        turn = d.turns[t]
        assert isinstance(turn, UserTurn)
        if t + 1 >= len(d.turns) or not isinstance(nxt := d.turns[t + 1], SystemTurn):
            return False
        mine = {s.id for s in turn.spans}
        before: dict[tuple[str, str], set[str]] = {}
        for other in d.turns[:t]:
            if isinstance(other, SystemTurn):
                for a in other.actions:
                    for name, ref in a.arguments.items():
                        before.setdefault((self._key(a.kind, a.name), name), set()).add(ref)
        for a in nxt.actions:
            for name, ref in a.arguments.items():
                if ref in mine and (before.get((self._key(a.kind, a.name), name), set()) - {ref}):
                    return True
        return False
