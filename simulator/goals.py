"""Sampling user goals from the sample dialogues and the API signatures."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .protocols import Goal, Task, ValueSource
from .skillindex import SkillIndex


@dataclass(frozen=True)
class GoalBehaviour:
    """How often a sampled goal has each feature (probabilities, per goal unless said)."""

    # The APIs follow a sequence of the samples, else a standalone API (any, uniformly). Scaled by the
    # share of the skill's APIs that the samples call: ten samples that only search must not make a
    # manager that has hardly seen a booking (see ``SampleGoalSampler.sequence_rate``).
    sample_sequence: float = 0.8
    follow_up: float = 0.6  # a standalone API is followed by one that takes its result
    optional_value: float = 0.35  # per optional argument: the user has a value in mind
    change_of_mind: float = 0.25  # one value said changes after the results
    deny_confirmation: float = 0.3  # a transactional goal: one value is corrected at the confirmation
    request_more: float = 0.2  # the user asks for other results...
    more_requests: tuple[int, ...] = (1, 1, 2)  # ...this many times (drawn from these)
    end_early: float = 0.1  # a goal of several APIs: the user leaves before the last
    overinform: tuple[float, ...] = (0.0, 0.2, 0.5)  # Goal.overinform, drawn from these


class SampleGoalSampler:
    """Goals whose API sequences follow the sample dialogues (and, less often, the signatures).

    Argument values are drawn fresh from catalogues and built-in types. Arguments that an
    earlier task already has (same name and slot type) are carried over; arguments that an
    earlier call returns (``SkillIndex.from_result``) come from that result.
    """

    def __init__(self, index: SkillIndex, values: ValueSource, behaviour: GoalBehaviour = GoalBehaviour()) -> None:
        self.index = index
        self.values = values
        self.behaviour = behaviour
        self.sequences = sorted(index.sample_sequences.items())
        # A user can start an API whose required values users say (in the samples or utterance sets)
        # or the skill asks them for (a request_args template): samples that never reach an API must
        # not keep it out of the simulation.
        sayable = set(index.user_slot_types) | {
            info.slot_types[a] for info in index.apis.values() for asked, _ in info.requests for a in asked
        }
        standalone = [
            name for name, info in index.apis.items() if all(info.slot_types[a] in sayable for a in info.required)
        ]
        self.standalone = standalone or list(index.apis)
        shown = {api for seq in index.sample_sequences for api in seq}
        #: How often a goal follows a sample's sequence: ``sample_sequence`` times the share of APIs shown.
        self.sequence_rate = behaviour.sample_sequence * len(shown & set(index.apis)) / max(len(index.apis), 1)

    def _sequence(self, rng: random.Random) -> list[str]:
        if self.sequences and rng.random() < self.sequence_rate:
            seqs, weights = zip(*self.sequences, strict=True)
            return list(rng.choices(seqs, weights=weights)[0])
        seq = [rng.choice(self.standalone)]
        followers = [b for b, links in self.index.from_result.items() if any(a == seq[0] for a, _ in links.values())]
        if followers and rng.random() < self.behaviour.follow_up:
            seq.append(rng.choice(sorted(followers)))
        return seq

    def sample(self, rng: random.Random) -> Goal:
        tasks: list[Task] = []
        for api in self._sequence(rng):
            info = self.index.apis[api]
            task = Task(api=api)
            links = self.index.from_result.get(api, {})
            for arg, st in info.slot_types.items():
                earlier = next(
                    (
                        i
                        for i, t in enumerate(tasks)
                        if self.index.apis[t.api].slot_types.get(arg) == st and (arg in t.values or arg in t.carry)
                    ),
                    None,
                )
                # A value the user already said is carried over; a value only a result has is referred to.
                if earlier is not None and st in self.index.user_slot_types:
                    task.carry[arg] = (earlier, arg)
                elif arg in links and any(t.api == links[arg][0] for t in tasks):
                    producer = max(i for i, t in enumerate(tasks) if t.api == links[arg][0])
                    task.from_result[arg] = (producer, links[arg][1])
                elif earlier is not None:
                    task.carry[arg] = (earlier, arg)
                elif arg in info.required or rng.random() < self.behaviour.optional_value:
                    task.values[arg] = self.values.sample(st, rng)
            tasks.append(task)
        goal = Goal(tasks=tasks)
        self._variations(goal, rng)
        return goal

    def _variations(self, goal: Goal, rng: random.Random) -> None:
        said = [(i, arg) for i, t in enumerate(goal.tasks) for arg in t.values]
        b = self.behaviour
        if said and rng.random() < b.change_of_mind:
            i, arg = rng.choice(said)
            old = goal.tasks[i].values[arg]
            goal.change = (i, arg, self.values.sample(old.slot_type, rng, exclude=old.value))
        # At a confirmation the user may correct a value said for this API or carried over to it.
        confirmable = [
            (i, arg, t.values[arg] if arg in t.values else goal.tasks[t.carry[arg][0]].values[t.carry[arg][1]])
            for i, t in enumerate(goal.tasks)
            if self.index.apis[t.api].api.transactional
            for arg in [*t.values, *(a for a, (j, b) in t.carry.items() if b in goal.tasks[j].values)]
        ]
        if confirmable and rng.random() < b.deny_confirmation:
            i, arg, old = rng.choice(confirmable)
            goal.deny_confirmation = (i, arg, self.values.sample(old.slot_type, rng, exclude=old.value))
        if rng.random() < b.request_more:
            goal.request_more = rng.choice(b.more_requests)
        if len(goal.tasks) > 1 and rng.random() < b.end_early:
            goal.end_early_after = rng.randrange(1, len(goal.tasks))
        goal.overinform = rng.choice(b.overinform)
