"""The simulator's moving parts, as small Protocols with an explicit lifecycle.

A :class:`GoalSampler` draws what a simulated user wants; for each dialogue a fresh
:class:`UserPolicy` and :class:`SystemPolicy` are started with that goal and then take
turns until the user is done; a :class:`Paraphraser` varies the user's wording; an
:class:`ApiBackend` answers API calls. Every method that needs randomness receives the
dialogue's own ``random.Random``, so one seed gives one dialogue whatever the process.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from skillspec import ActionKind, UserAct

from .text import Segment, Value


class Outcome(StrEnum):
    """What a system turn showed that a simulated user reacts to with a bare "sounds good" or "thanks"."""

    RESULTS = "results"  # what an API found
    SUCCESS = "success"  # that a transaction went through


class Phenomenon(StrEnum):
    """What a simulated dialogue shows; listed in its ``phenomena`` field."""

    CARRYOVER = "carryover"  # an entity said for one API fills another's argument
    ANAPHORA = "anaphora"  # "book it": an argument filled by reference to what was found or discussed
    CHANGE_OF_MIND = "change_of_mind"
    DENY_CORRECTION = "deny_correction"  # "no" at a confirmation, with the corrected value
    REQUEST_MORE = "request_more"  # the user asks for another result
    PROACTIVE_OFFER = "proactive_offer"  # the system offers the next API
    OPTIONAL_GIVEN = "optional_given"
    END_EARLY = "end_early"  # the user leaves before the goal is done
    API_FAILURE = "api_failure"
    MULTI_API = "multi_api"
    OUT_OF_SCOPE = "out_of_scope"  # the user says something the skill does not handle; the fallback answers


@dataclass
class Task:
    """One API the user wants called, with the values the user has in mind.

    ``values`` are the arguments the user will say. ``carry`` maps an argument to an
    argument of an earlier task whose (same) value it reuses — the system must not ask
    for it again. ``from_result`` maps an argument to ``(task index, return field)``:
    it is filled from that earlier call's result (the user refers to it: "book it").
    """

    api: str
    values: dict[str, Value] = field(default_factory=dict)
    carry: dict[str, tuple[int, str]] = field(default_factory=dict)
    from_result: dict[str, tuple[int, str]] = field(default_factory=dict)


@dataclass
class Goal:
    """What one simulated user wants, and how the conversation will vary."""

    tasks: list[Task]
    # Variations the user policy will play out (each may be None / 0 / False).
    change: tuple[int, str, Value] | None = None  # (task index, argument, new value): change of mind
    deny_confirmation: tuple[int, str, Value] | None = None  # deny at confirm, correct this argument
    request_more: int = 0  # how many times the user asks for another result
    end_early_after: int | None = None  # the user leaves after this many tasks
    overinform: float = 0.3  # chance of saying values not asked for yet


@dataclass(frozen=True)
class Question:
    """A sample user turn that asks about what was found ("Are pets allowed?"), and the
    ``inform`` templates the sample system answered it with, no API called."""

    text: str
    answers: tuple[str, ...]


@dataclass
class UserTurnPlan:
    """What the user does in a turn: acts, the API it is about, the values mentioned."""

    acts: list[UserAct]
    api: str | None = None
    mentions: dict[str, Value] = field(default_factory=dict)
    anaphora: bool = False  # refers to an earlier result ("book it", "that one")
    ended_early: bool = False  # leaves before the goal is done
    question: Question | None = None  # asks this sample question about the results (no acts)
    # A bare reaction (acts [affirm]) to results ("sounds good") or a success ("thanks!").
    reaction: Outcome | None = None
    # Filled by the engine once the turn is rendered: argument name -> entity id of its span.
    entities: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiResult:
    success: bool
    rows: Sequence[Mapping[str, Value]] = ()


class ValueSource(Protocol):
    """Where simulated values come from (``simulator.language.ValueSampler``)."""

    def sample(self, slot_type: str, rng: random.Random, *, exclude: str | None = None) -> Value:
        """A value of ``slot_type`` and how it is said; not the canonical value ``exclude`` if another exists."""
        ...


class GoalSampler(Protocol):
    def sample(self, rng: random.Random) -> Goal: ...


class UserPolicy(Protocol):
    def start(self, goal: Goal) -> None: ...
    def respond(self, system_actions: Sequence[SystemAction], rng: random.Random) -> UserTurnPlan | None:
        """The user's next turn after the system's actions (empty at the start); None when done."""
        ...


class SystemPolicy(Protocol):
    def start(self) -> None: ...
    def act(self, user: UserTurnPlan, rng: random.Random) -> list[SystemAction]: ...


class Paraphraser(Protocol):
    """Varies the wording of a user utterance; must leave every Mention untouched."""

    def paraphrase(self, segments: Sequence[Segment], acts: Sequence[UserAct], rng: random.Random) -> list[Segment]: ...


class ApiBackend(Protocol):
    def call(self, api: str, arguments: Mapping[str, Value], rng: random.Random) -> ApiResult: ...


@dataclass
class SystemAction:
    """An action the system takes: an API call or a response template, with its bindings.

    ``bindings`` maps each argument to the entity id it is filled from.
    """

    kind: ActionKind
    name: str
    bindings: dict[str, str] = field(default_factory=dict)
    call_id: str | None = None  # for an API call: the id its results are known by
