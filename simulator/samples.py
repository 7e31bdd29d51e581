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

0. a turn without spans answered by the fallback response is ``out_of_scope``;
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
from collections.abc import Sequence
from dataclasses import dataclass

from skillspec import (
    ActionKind,
    DialogAct,
    SampleDialogue,
    Skill,
    SystemTurn,
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
from skillspec.context import result_id
from skillspec.fallback import response_templates
from skillspec.index import by_name

from .acts import UserActs
from .backend import MockBackend
from .protocols import ApiResult
from .text import REFERENCE_DATE, Value, choose_variant


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
        self.user_acts = UserActs(skill)
        self.slots = by_name(skill.slot_types)
        self.forms: dict[str, dict[str, str]] = {}
        for st in reversed(skill.slot_types):
            self.forms[st.name] = catalogue_forms(st)
        self.apis = by_name(skill.apis)
        self.templates = by_name(response_templates(skill))

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
                acts = [a.value for a in self.user_acts.acts(d, t)]
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
            entity = result_id(call_id, ret.name)
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


def training_set(
    skill: Skill,
    dialogues: Sequence[AnnotatedDialogue],
    *,
    samples: bool = True,
    today: datetime.date = REFERENCE_DATE,
) -> list[AnnotatedDialogue]:
    """What a build trains on (the recipe of a studio build and of ``modeling train`` alike):
    ``dialogues``, then, with ``samples``, the skill's own sample dialogues that are not among them
    (by id; e.g. the output of ``simulator samples`` is not added twice). The developer's own
    examples are the most faithful data a build has. Test conversations are not added."""
    out = list(dialogues)
    if samples:
        have = {d.id for d in out}
        out += [d for d in samples_to_annotated(skill, today=today) if d.id not in have and not d.test]
    return out
