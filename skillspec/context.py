"""A dialogue's context: the entities its turns introduce, and the ids they go by.

Every layer keeps a dialogue's context: the spec's validation of sample dialogues, the
simulator's agents and checker, the SGD importer, the models' tracker and the studio's
correction form. They share one idea of it, here:

* an entity is a value in the context, with the slot type it has, the turn that
  introduced it and where it came from (:class:`EntitySource`): a span of what the user
  said, or a field of an API call's result (:class:`ContextEntity`);
* a span's id is ``e<n>``, an API call's ``c<n>`` and a field of its result
  ``c<n>.<field>`` (:func:`span_id`, :func:`call_id`, :func:`result_id`); a new id is the
  lowest number not yet taken (:class:`EntityIds`), so ids given by an annotation and
  ids handed out later never collide.

Layers that know more about an entity (the models' embeddings of a span, the importer's
source slot) subclass :class:`ContextEntity`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from .index import by_name
from .models import ActionKind, SampleDialogue, Skill, UserTurn


class EntitySource(StrEnum):
    """Where an entity of the context came from."""

    SPAN = "span"  # words of a user turn
    RESULT = "result"  # a field of an API call's result


def span_id(n: int) -> str:
    """The id of a dialogue's ``n``-th user span (from 1)."""
    return f"e{n}"


def call_id(n: int) -> str:
    """The id of a dialogue's ``n``-th API call (from 1)."""
    return f"c{n}"


def result_id(call: str, field: str) -> str:
    """The id of ``field`` of the result of the call ``call``."""
    return f"{call}.{field}"


def base_id(entity: str) -> str:
    """The id an entity's id starts with: its call's for a result (``c2`` of ``c2.price``), its own for a span."""
    return entity.partition(".")[0]


def result_field(entity: str) -> str:
    """The field of a result's id (``price`` of ``c2.price``); empty for a span's."""
    return entity.partition(".")[2]


def split_result_id(entity: str) -> tuple[str, str] | None:
    """``(call id, field)`` of a result entity's id; None for a span's."""
    call, dot, field = entity.partition(".")
    return (call, field) if dot else None


class EntityIds:
    """Hands out a dialogue's span and call ids, each the lowest number not yet taken.

    Ids the dialogue already uses (from an annotation, a correction, an earlier turn) are
    :meth:`take`-n, so a new one never repeats them; a result id takes its call's id.
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken: set[str] = set()
        # The numbers below these are all taken: ids are never given back.
        self._spans = 0
        self._calls = 0
        for entity in taken:
            self.take(entity)

    def __contains__(self, entity: object) -> bool:
        """Whether ``entity`` (a span, call or result id) is taken."""
        if not isinstance(entity, str):
            return False
        return base_id(entity) in self._taken

    def take(self, entity: str) -> None:
        """Mark ``entity`` (a span, call or result id) as used."""
        self._taken.add(base_id(entity))

    def copy(self) -> EntityIds:
        """An allocator in this one's state (to go back to: a tracker's checkpoint)."""
        other = EntityIds()
        other._taken, other._spans, other._calls = set(self._taken), self._spans, self._calls
        return other

    def span(self) -> str:
        """A new span id, now taken."""
        self._spans = self._next(self._spans, span_id)
        return span_id(self._spans)

    def call(self) -> str:
        """A new call id, now taken."""
        self._calls = self._next(self._calls, call_id)
        return call_id(self._calls)

    def _next(self, n: int, make: Callable[[int], str]) -> int:
        n += 1
        while make(n) in self._taken:
            n += 1
        self._taken.add(make(n))
        return n


@dataclass(frozen=True)
class ContextEntity:
    """A value in a dialogue's context: a user span or a field of an API call's result."""

    id: str
    slot_type: str
    turn: int  # the index of the turn that introduced it
    source: EntitySource
    value: str = ""  # the canonical value ("" where the layer does not know it)
    text: str = ""  # the user's words (spans) or the value as returned (results)
    action: int | None = None  # results: index of the producing API action in its turn


def dialogue_entities(skill: Skill, dialogue: SampleDialogue) -> list[ContextEntity]:
    """Every entity a sample dialogue introduces, in order of appearance."""
    apis = by_name(skill.apis)
    out: list[ContextEntity] = []
    for t, turn in enumerate(dialogue.turns):
        if isinstance(turn, UserTurn):
            out.extend(
                ContextEntity(s.id, s.slot_type, t, EntitySource.SPAN, s.value or s.text, s.text) for s in turn.spans
            )
        else:
            for a, action in enumerate(turn.actions):
                api = apis.get(action.name)
                if action.kind is ActionKind.API and action.id and api:
                    out.extend(
                        ContextEntity(result_id(action.id, r.name), r.slot_type, t, EntitySource.RESULT, action=a)
                        for r in api.returns
                    )
    return out


def available_entities(
    skill: Skill, dialogue: SampleDialogue, turn: int, action: int | None = None
) -> list[ContextEntity]:
    """Entities that the ``action``-th action of system turn ``turn`` may be bound to.

    These are spans of earlier user turns (the current one included) and results
    of API calls made earlier: in earlier turns, or before ``action`` in this one.
    ``action=None`` means after every action of the turn.
    """
    return [
        e
        for e in dialogue_entities(skill, dialogue)
        if e.turn < turn or (e.turn == turn and e.action is not None and (action is None or e.action < action))
    ]
