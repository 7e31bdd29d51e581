"""Playing goals out into annotated dialogues, one seeded dialogue at a time."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from skillspec import ActionKind, ContextEntity, Skill, UserAct, fallback_template, render, spec_hash
from skillspec.annotated import FORMAT, WAIT, AnnotatedActionKind
from skillspec.context import result_field

from .agents import AgendaUser, Context, RuleSystem, UserBehaviour
from .backend import MockBackend
from .goals import GoalBehaviour, SampleGoalSampler
from .language import RuleParaphraser, UtteranceBank, ValueSampler
from .language.out_of_scope import out_of_scope_texts
from .protocols import ApiBackend, GoalSampler, Paraphraser, Phenomenon, SystemAction, UserTurnPlan
from .skillindex import SkillIndex
from .text import assemble, speak

MAX_TURNS = 40  # user + system turns; a goal never needs this many
FAILURE_RATE = 0.05  # of mock API calls, so that failure handling is learnt too


class SimulationError(RuntimeError):
    """A dialogue could not be played out (a bug, or a skill the policies cannot serve)."""


@dataclass
class Simulator:
    """Everything needed to simulate dialogues of one skill; build once, call many times."""

    skill: Skill
    index: SkillIndex
    goals: GoalSampler
    bank: UtteranceBank
    paraphraser: Paraphraser
    backend: ApiBackend
    values: ValueSampler
    spec_hash: str
    out_of_scope: tuple[str, ...] = ()  # what the user may say that the skill does not handle

    user_behaviour: UserBehaviour = UserBehaviour()

    @classmethod
    def for_skill(
        cls,
        skill: Skill,
        *,
        paraphraser: Paraphraser | None = None,
        backend: ApiBackend | None = None,
        goal_behaviour: GoalBehaviour | None = None,
        user_behaviour: UserBehaviour | None = None,
    ) -> Simulator:
        """A simulator of ``skill``; each agent's behaviour probabilities are named fields of its config."""
        index = SkillIndex.build(skill)
        values = ValueSampler(skill)
        return cls(
            skill=skill,
            index=index,
            goals=SampleGoalSampler(index, values, goal_behaviour or GoalBehaviour()),
            bank=UtteranceBank(skill),
            paraphraser=paraphraser if paraphraser is not None else RuleParaphraser(),
            backend=backend if backend is not None else MockBackend(skill, failure_rate=FAILURE_RATE),
            values=values,
            spec_hash=spec_hash(skill),
            out_of_scope=tuple(out_of_scope_texts(skill)),
            user_behaviour=user_behaviour or UserBehaviour(),
        )

    def dialogue(self, number: int, seed: int) -> dict[str, Any]:
        """Dialogue ``number`` of the run with ``seed``: the same pair always gives the same dialogue."""
        rng = random.Random(f"{seed}:{number}")
        oos_rng = random.Random(f"{seed}:{number}:out-of-scope")
        goal = self.goals.sample(rng)
        ctx = Context(backend_call=self.backend.call)
        user = AgendaUser(self.index, self.values, self.user_behaviour)
        system = RuleSystem(self.index, ctx)
        user.start(goal)
        system.start()
        turns: list[dict[str, Any]] = []
        system_actions: list[SystemAction] = []
        while True:
            if len(turns) >= MAX_TURNS:
                raise SimulationError(f"dialogue {number} (seed {seed}) did not end within {MAX_TURNS} turns")
            ctx.turn = len(turns)
            # Out of scope: its own random stream, so that the rest of the dialogue is what it would be.
            if self.out_of_scope and oos_rng.random() < self.user_behaviour.out_of_scope:
                turns += self._out_of_scope_turns(ctx, oos_rng)
                ctx.phenomena.add(Phenomenon.OUT_OF_SCOPE)
                continue
            plan = user.respond(system_actions, rng)
            if plan is None:
                break
            turns.append(self._user_turn(plan, ctx, rng))
            ctx.turn = len(turns)
            system_actions = system.act(plan, rng)
            turns.append(self._system_turn(system_actions, ctx, rng))
            if UserAct.GOODBYE in plan.acts:
                break
        phenomena = ctx.phenomena
        if len(goal.tasks) > 1:
            phenomena.add(Phenomenon.MULTI_API)
        return {
            "format": FORMAT,
            "id": f"sim-{seed}-{number:06d}",
            "skill": self.skill.name,
            "spec_hash": self.spec_hash,
            "source": "simulated",
            "test": False,
            "phenomena": sorted(p.value for p in phenomena),
            "turns": turns,
        }

    def _user_turn(self, plan: UserTurnPlan, ctx: Context, rng: random.Random) -> dict[str, Any]:
        segments = self.paraphraser.paraphrase(self.bank.render(plan, rng), plan.acts, rng)
        text, placed = assemble(segments)
        spans = []
        for p in placed:
            v = p.mention.value
            eid = ctx.add_span(v.slot_type, v)
            plan.entities[p.mention.name] = eid
            spans.append({"start": p.start, "end": p.end, "slot_type": v.slot_type, "value": v.value, "entity": eid})
        acts = set(plan.acts)
        if UserAct.CHANGE in acts:
            ctx.phenomena.add(Phenomenon.DENY_CORRECTION if UserAct.DENY in acts else Phenomenon.CHANGE_OF_MIND)
        if UserAct.REQUEST_MORE in acts:
            ctx.phenomena.add(Phenomenon.REQUEST_MORE)
        if plan.ended_early:
            ctx.phenomena.add(Phenomenon.END_EARLY)
        if UserAct.INVOKE in acts and plan.api is not None:
            info = self.index.apis[plan.api]
            if any(a in info.optional for a in plan.mentions):
                ctx.phenomena.add(Phenomenon.OPTIONAL_GIVEN)
        return {"speaker": "user", "text": text, "acts": [a.value for a in plan.acts], "spans": spans}

    def _out_of_scope_turns(self, ctx: Context, rng: random.Random) -> list[dict[str, Any]]:
        """A user turn the skill does not handle and the system's fallback: it calls nothing and
        changes no state, so the user then answers the system's previous turn as if it had not been."""
        text = self.out_of_scope[rng.randrange(len(self.out_of_scope))]
        segments = self.paraphraser.paraphrase([text], (UserAct.OUT_OF_SCOPE,), rng)
        user = {"speaker": "user", "text": assemble(segments)[0], "acts": [UserAct.OUT_OF_SCOPE.value], "spans": []}
        ctx.turn += 1
        fallback = SystemAction(ActionKind.RESPONSE, fallback_template(self.skill).name, {})
        return [user, self._system_turn([fallback], ctx, rng)]

    def _system_turn(self, actions: list[SystemAction], ctx: Context, rng: random.Random) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        texts: list[str] = []
        for action in actions:
            arguments = []
            for name, eid in action.bindings.items():
                e = ctx.entities[eid]
                arguments.append({"name": name, "entity": eid, "turn": e.turn, "value": e.value})
            if action.kind is ActionKind.API:
                results = [
                    {"entity": e.id, "field": result_field(e.id), "slot_type": e.slot_type, "value": e.value}
                    for e in ctx.entities.values()
                    if e.id.startswith(f"{action.call_id}.")
                ]
                out.append(
                    {
                        "kind": AnnotatedActionKind.API,
                        "name": action.name,
                        "id": action.call_id,
                        "arguments": arguments,
                        "results": results,
                    }
                )
            else:
                template = self.index.templates[action.name]
                shown = {
                    name: self._say(ctx.entities[eid].slot_type, ctx.entities[eid])
                    for name, eid in action.bindings.items()
                }
                text = render(template.variants[rng.randrange(len(template.variants))], shown)
                texts.append(text)
                out.append(
                    {"kind": AnnotatedActionKind.RESPONSE, "name": action.name, "arguments": arguments, "text": text}
                )
        out.append({"kind": AnnotatedActionKind.WAIT, "name": WAIT})
        return {"speaker": "system", "text": " ".join(texts), "actions": out}

    def _say(self, slot_type: str, entity: ContextEntity) -> str:
        builtin = self.index.builtin_types.get(slot_type)
        return entity.value if builtin is None else speak(builtin, entity.value)

    def dialogues(self, n: int, seed: int, start: int = 0) -> Iterator[dict[str, Any]]:
        for number in range(start, start + n):
            yield self.dialogue(number, seed)
