"""The simulated user (agenda-based) and the simulated system (rule-based over the spec)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from skillspec import (
    ActionKind,
    ContextEntity,
    DialogAct,
    EntityIds,
    EntitySource,
    ResponseTemplate,
    UserAct,
    result_id,
)
from skillspec.context import result_field

from .protocols import ApiResult, Goal, Outcome, Phenomenon, Question, SystemAction, Task, UserTurnPlan, ValueSource
from .skillindex import ApiInfo, CallRole, SkillIndex
from .text import Value


@dataclass
class Context:
    """The entities of one dialogue so far, and how API calls are made."""

    backend_call: Callable[[str, dict[str, Value], random.Random], ApiResult]
    entities: dict[str, ContextEntity] = field(default_factory=dict)
    turn: int = 0
    ids: EntityIds = field(default_factory=EntityIds)
    phenomena: set[Phenomenon] = field(default_factory=set)

    def add_span(self, slot_type: str, value: Value) -> str:
        eid = self.ids.span()
        self.entities[eid] = ContextEntity(eid, slot_type, self.turn, EntitySource.SPAN, value.value, value.text)
        return eid

    def call(self, api: str, bindings: dict[str, str], rng: random.Random) -> tuple[str, ApiResult]:
        call = self.ids.call()
        args = {a: Value(e.slot_type, e.value, e.text) for a, e in ((a, self.entities[i]) for a, i in bindings.items())}
        result = self.backend_call(api, args, rng)
        if result.success and result.rows:
            for name, v in result.rows[0].items():
                eid = result_id(call, name)
                self.entities[eid] = ContextEntity(eid, v.slot_type, self.turn, EntitySource.RESULT, v.value, v.text)
        return call, result

    def latest(self, slot_type: str) -> str | None:
        for e in reversed(self.entities.values()):
            if e.slot_type == slot_type:
                return e.id
        return None


@dataclass(frozen=True)
class UserBehaviour:
    """How often the simulated user does each thing it may do (probabilities, per occasion)."""

    retry_after_failure: float = 0.7  # after a failed call: change one value and try again, else leave
    acknowledge: float = 0.5  # results without an offer: a bare "sounds good" before moving on
    accept_offer: float = 0.7  # the next API offered is the next task: "yes" (maybe with a value), else ask anew
    anaphora: float = 0.9  # a task with something earlier to point at: "book it", else the values
    say_ahead: float = 0.15  # mention a value the next task needs ("...and we'll be 3")
    max_questions: int = 3  # questions about results, per dialogue (asked as often as the samples ask)
    # Before a turn: say something the skill does not handle (answered by the fallback response).
    out_of_scope: float = 0.05


def _acts_of(index: SkillIndex, actions: Sequence[SystemAction]) -> list[tuple[DialogAct, ResponseTemplate]]:
    return [(index.templates[a.name].act, index.templates[a.name]) for a in actions if a.kind is ActionKind.RESPONSE]


class Awaiting(Enum):
    """What the simulated system's last turn waits for from the user."""

    CONFIRM = "confirm"  # yes or no to a confirmation of an API call
    REACTION = "reaction"  # a reaction to results (an offer of the next API may wait for it)
    OFFER_API = "offer_api"  # whether to take up the API just offered


class AgendaUser:
    """A user who pursues a :class:`Goal`: reveals values progressively, answers requests,
    confirms or corrects, changes their mind, asks for more, and moves on or leaves."""

    def __init__(self, index: SkillIndex, values: ValueSource, behaviour: UserBehaviour = UserBehaviour()) -> None:
        self.index = index
        self.values = values
        self.behaviour = behaviour

    def start(self, goal: Goal) -> None:
        self.goal = goal
        self.task = 0
        self.told: set[str] = set()
        self.ahead: set[str] = set()  # arguments of the next task already said
        self.changed = False
        self.denied = False
        self.more = goal.request_more
        self.finished_tasks = 0
        self.reacted = False  # the last turn was a bare "sounds good" to results
        # The last turn asked a question about results or a success; what had been offered then.
        self.asking: Outcome | None = None
        self.offered_then: str | None = None
        self.questions_left = self.behaviour.max_questions

    @property
    def current(self) -> Task:
        return self.goal.tasks[self.task]

    def respond(self, system_actions: Sequence[SystemAction], rng: random.Random) -> UserTurnPlan | None:
        reacted, self.reacted = self.reacted, False
        asking, self.asking = self.asking, None
        if not system_actions:
            # Silence after "sounds good" (a skill without "anything else?"): move on.
            return self._next_task(None, rng) if reacted else self._invoke(rng)
        acts = _acts_of(self.index, system_actions)
        kinds = {a for a, _ in acts}
        called = any(a.kind is ActionKind.API for a in system_actions)
        if DialogAct.GOODBYE in kinds:
            return None
        if DialogAct.REQUEST_ARGS in kinds:
            requested = [r for a, t in acts if a is DialogAct.REQUEST_ARGS for r in t.requested]
            return self._inform(requested, rng)
        if DialogAct.CONFIRM_API in kinds or DialogAct.CONFIRM_ARGS in kinds:
            deny = self.goal.deny_confirmation
            if deny is not None and deny[0] == self.task and not self.denied:
                self.denied = True
                _, arg, new = deny
                self.current.values[arg] = new
                return UserTurnPlan([UserAct.DENY, UserAct.CHANGE], mentions={arg: new})
            return UserTurnPlan([UserAct.AFFIRM])
        if DialogAct.NOTIFY_FAILURE in kinds and called:
            candidates = sorted(self.current.values)
            if candidates and rng.random() < self.behaviour.retry_after_failure:
                arg = rng.choice(candidates)
                old = self.current.values[arg]
                new = self.values.sample(old.slot_type, rng, exclude=old.value)
                self.current.values[arg] = new
                return UserTurnPlan([UserAct.CHANGE], mentions={arg: new})
            return UserTurnPlan([UserAct.GOODBYE])
        offered = next((t.api for a, t in acts if a is DialogAct.OFFER_API), None)
        if asking is not None and not called:
            # The system answered the question: carry on as after what it was about.
            seen, offered = asking, self.offered_then
        elif called and DialogAct.NOTIFY_SUCCESS in kinds and DialogAct.REQUEST_MORE not in kinds:
            seen = Outcome.SUCCESS
        elif called and kinds & {DialogAct.OFFER, DialogAct.INFORM}:
            seen = Outcome.RESULTS
        else:
            seen = None
        ask = seen is not None and self.questions_left > 0 and bool(self.index.questions)
        if ask and rng.random() < self.index.question_rate:
            # "Are pets allowed?": as often as the sample users ask, one of their questions.
            self.questions_left -= 1
            self.asking, self.offered_then = seen, offered
            return UserTurnPlan([], question=rng.choice(self.index.questions))
        if seen is Outcome.SUCCESS:
            # Done, and not asked for more: the user says thanks and lets the system go on ("anything else?").
            self.reacted = True
            return UserTurnPlan([UserAct.AFFIRM], reaction=Outcome.SUCCESS)
        if seen is Outcome.RESULTS:
            if self.more > 0:
                self.more -= 1
                return UserTurnPlan([UserAct.REQUEST_MORE])
            change = self.goal.change
            if change is not None and change[0] == self.task and not self.changed:
                self.changed = True
                _, arg, new = change
                self.current.values[arg] = new
                return UserTurnPlan([UserAct.CHANGE], mentions={arg: new})
            if offered is None and rng.random() < self.behaviour.acknowledge:
                # "Sounds good": the user reacts to the results before moving on; a system that
                # offers the next API only then (as the samples show) offers it now.
                self.reacted = True
                return UserTurnPlan([UserAct.AFFIRM], reaction=Outcome.RESULTS)
        return self._next_task(offered, rng)

    def _next_task(self, offered: str | None, rng: random.Random) -> UserTurnPlan:
        self.finished_tasks += 1
        leave = self.goal.end_early_after is not None and self.finished_tasks >= self.goal.end_early_after
        if leave or self.task + 1 >= len(self.goal.tasks):
            if leave and self.task + 1 < len(self.goal.tasks):
                self.task = len(self.goal.tasks) - 1
                return UserTurnPlan([UserAct.GOODBYE], ended_early=True)
            if offered is not None:
                return UserTurnPlan([UserAct.DENY])
            return UserTurnPlan([UserAct.GOODBYE])
        self.task += 1
        self.told, self.ahead = set(self.ahead), set()
        # Accepting an offer: "yes" (and maybe a value), or a reference to what was found ("book it").
        if offered is not None and offered == self.current.api and rng.random() < self.behaviour.accept_offer:
            mentions = self._some(self._unsaid(), rng, at_most=1)
            return UserTurnPlan([UserAct.AFFIRM, UserAct.INFORM] if mentions else [UserAct.AFFIRM], mentions=mentions)
        return self._invoke(rng)

    def _invoke(self, rng: random.Random) -> UserTurnPlan:
        task = self.current
        mentions = self._some(self._unsaid(), rng)
        self._say_ahead(mentions, rng)
        return UserTurnPlan(
            [UserAct.INVOKE],
            api=task.api,
            mentions=mentions,
            # Something earlier to point at ("book it", "order that one"): usually the user does.
            anaphora=bool(task.from_result or task.carry) and rng.random() < self.behaviour.anaphora,
        )

    def _inform(self, requested: list[str], rng: random.Random) -> UserTurnPlan:
        task = self.current
        mentions: dict[str, Value] = {}
        for arg in requested:
            if arg not in task.values:
                # Asked for something the goal left open: the user makes it up now.
                task.values[arg] = self.values.sample(self.index.apis[task.api].slot_types[arg], rng)
            mentions[arg] = task.values[arg]
        extra = [a for a in self._unsaid() if a not in mentions]
        if extra and rng.random() < self.goal.overinform:
            mentions.update(self._some(extra, rng, at_most=2, at_least=1))
        self.told.update(mentions)
        self._say_ahead(mentions, rng)
        return UserTurnPlan([UserAct.INFORM], api=task.api, mentions=mentions)

    def _say_ahead(self, mentions: dict[str, Value], rng: random.Random) -> None:
        """Sometimes mention a value the next task needs ("...and we'll be 3"): it must be carried over."""
        if self.task + 1 >= len(self.goal.tasks) or rng.random() >= self.behaviour.say_ahead:
            return
        current = self.index.apis[self.current.api].slot_types
        upcoming = self.goal.tasks[self.task + 1].values
        candidates = [a for a in upcoming if a not in current and a not in mentions and a not in self.ahead]
        if candidates:
            arg = rng.choice(candidates)
            mentions[arg] = upcoming[arg]
            self.ahead.add(arg)

    def _unsaid(self) -> list[str]:
        return [a for a in self.current.values if a not in self.told]

    def _some(self, args: list[str], rng: random.Random, *, at_most: int = 99, at_least: int = 0) -> dict[str, Value]:
        if not args:
            return {}
        k = min(len(args), at_most, max(at_least, rng.choice((0, 1, 1, 2, 2, 3, len(args)))))
        chosen = sorted(rng.sample(range(len(args)), k))
        picked = {args[i]: self.current.values[args[i]] for i in chosen}
        self.told.update(picked)
        return picked


class RuleSystem:
    """A system that fills an API's required arguments, confirms transactional calls, calls,
    shows results, offers the next API and wraps up — deterministically given the context,
    so that what it does can be learnt from what it has seen."""

    def __init__(self, index: SkillIndex, ctx: Context) -> None:
        self.index = index
        self.ctx = ctx

    def start(self) -> None:
        self.api: str | None = None
        self.bound: dict[str, dict[str, str]] = {}  # api -> argument -> entity
        self.said: dict[str, str] = {}  # argument name -> latest entity the user mentioned for it
        self.confirmed = False
        self.awaiting: Awaiting | None = None
        self.offered: str | None = None
        self.pending_offer: tuple[SystemAction, str] | None = None  # made once the user reacts to results
        self.last_call: dict[str, str] = {}
        self.last_args: dict[str, dict[str, str]] = {}
        self.failed = False

    def act(self, plan: UserTurnPlan, rng: random.Random) -> list[SystemAction]:
        acts = set(plan.acts)
        if UserAct.GOODBYE in acts:
            return self._respond(self.index.goodbyes)
        if plan.question is not None:
            # A question about what was found leaves pending what the system was waiting for.
            return self._answer(plan.question) or self._respond(self.index.request_more)
        awaiting, self.awaiting = self.awaiting, None
        pending, self.pending_offer = self.pending_offer, None
        if awaiting is Awaiting.REACTION and set(plan.acts) == {UserAct.AFFIRM} and not plan.entities:
            # A bare "sounds good" / "thanks" to results or a success: offer what comes next, or ask.
            return self._offer(*pending) if pending is not None else self._respond(self.index.request_more)
        self.said.update(plan.entities)
        current = set(plan.entities.values())
        if UserAct.INVOKE in acts and plan.api is not None:
            if self._focus(plan.api, current) and plan.anaphora:
                self.ctx.phenomena.add(Phenomenon.ANAPHORA)
        elif UserAct.AFFIRM in acts and awaiting is Awaiting.OFFER_API and self.offered is not None:
            self._focus(self.offered, current)
        elif UserAct.DENY in acts and awaiting is Awaiting.OFFER_API:
            return self._respond(self.index.request_more)
        if self.api is None:
            return self._respond(self.index.request_more)
        bound = self.bound[self.api]
        info = self.index.apis[self.api]
        changed_called = False  # a value of an API already called is new or different: call again
        for arg, eid in plan.entities.items():
            if arg in info.slot_types and info.slot_types[arg] == self.ctx.entities[eid].slot_type:
                changed_called |= self.api in self.last_call
                bound[arg] = eid
        if awaiting is Awaiting.CONFIRM:
            self.confirmed = UserAct.AFFIRM in acts and UserAct.DENY not in acts
        recall = UserAct.REQUEST_MORE in acts or (UserAct.CHANGE in acts and (changed_called or self.failed))
        if recall and info.api.transactional:
            self.confirmed = False
        return self._proceed(rng, recall)

    def _focus(self, api: str, current: set[str]) -> bool:
        """Turn to ``api``: bind what earlier turns already settled (results, values said before).

        Returns whether anything was bound from the context.
        """
        referred = False
        self.api = api
        self.confirmed = False
        bound = self.bound.setdefault(api, {})
        info = self.index.apis[api]
        links = self.index.from_result.get(api, {})
        for arg, st in info.slot_types.items():
            if arg in bound:
                continue
            # What the user said before is carried over; else an earlier result is referred to.
            eid = self.said.get(arg)
            if eid is not None and eid not in current and self.ctx.entities[eid].slot_type == st:
                bound[arg] = eid
                self.ctx.phenomena.add(Phenomenon.CARRYOVER)
                referred = True
            elif arg in links and links[arg][0] in self.last_call:
                result = f"{self.last_call[links[arg][0]]}.{links[arg][1]}"
                if result in self.ctx.entities:
                    bound[arg] = result
                    self.ctx.phenomena.add(Phenomenon.ANAPHORA)
                    referred = True
        return referred

    def _proceed(self, rng: random.Random, recall: bool) -> list[SystemAction]:
        assert self.api is not None
        info = self.index.apis[self.api]
        bound = self.bound[self.api]
        missing = [a for a in info.required if a not in bound]
        if missing:
            request = self._request(info, missing)
            return [request] if request is not None else self._respond(self.index.goodbyes)
        if info.api.transactional and not self.confirmed:
            confirm = self._best_bindable(info.confirms)
            if confirm is not None:
                self.awaiting = Awaiting.CONFIRM
                return [confirm]
        if self.api in self.last_call and not recall and not info.api.transactional:
            return self._respond(self.index.request_more)
        again = self.last_args.get(self.api) == bound
        call_id, result = self.ctx.call(self.api, dict(bound), rng)
        self.last_call[self.api] = call_id
        self.last_args[self.api] = dict(bound)
        call = SystemAction(ActionKind.API, self.api, dict(bound), call_id=call_id)
        self.failed = not (result.success and result.rows)
        if self.failed:
            self.ctx.phenomena.add(Phenomenon.API_FAILURE)
            failure = self._best_bindable(info.failures, call_id, CallRole.FAILURE)
            return [call] + ([failure] if failure else self._respond(self.index.request_more))
        if info.api.transactional:
            self.confirmed = False
            success = self._best_bindable(info.successes, call_id, CallRole.SUCCESS)
            if success is not None and not self.index.request_more_with_success:
                # As the samples do: "anything else?" only once the user has reacted ("thanks!").
                self.awaiting = Awaiting.REACTION
                return [call, success]
            return [call, *([success] if success else []), *self._respond(self.index.request_more)]
        shown = self._best_bindable(info.results, call_id, CallRole.MORE_RESULTS if again else CallRole.RESULTS)
        actions = [call, *([shown] if shown else [])]
        for nxt in self.index.followers.get(self.api, []):
            offer = self._best_bindable(self.index.apis[nxt].offers, call_id)
            if offer is not None:
                if self.index.offer_with_results.get(nxt, True):
                    actions.extend(self._offer(offer, nxt))
                else:
                    self.awaiting, self.pending_offer = Awaiting.REACTION, (offer, nxt)
                break
        return actions

    def _request(self, info: ApiInfo, missing: list[str]) -> SystemAction | None:
        """The usable request that asks for the most of what is missing; the first authored among equals.

        Two ways of following the samples were measured worse on a real SGD service
        (docs/benchmarks.md, issue 14): preferring the request they use most (counted without what
        was missing), and drawing how many arguments to ask for from their requests with as many
        missing (0.624 against 0.653 signature accuracy; its ten samples asked one thing at a time
        twice as often as the rest of its dialogues do)."""
        request: SystemAction | None = None
        asked = 0
        for requested, template in info.requests:
            if requested <= set(missing) and len(requested) > asked:
                action = self._bind(template, None)
                if action is not None:
                    request, asked = action, len(requested)
        return request

    def _answer(self, question: Question) -> list[SystemAction]:
        """The question's sample answers, showing the latest results of the fields they name."""
        answers = []
        results = [e for e in reversed(self.ctx.entities.values()) if "." in e.id]
        for name in question.answers:
            template = self.index.templates[name]
            bindings: dict[str, str] = {}
            for arg in template.arguments:
                entity = next(
                    (e for e in results if result_field(e.id) == arg.name and e.slot_type == arg.slot_type), None
                ) or next((e for e in results if e.slot_type == arg.slot_type), None)
                if entity is None:
                    return []
                bindings[arg.name] = entity.id
            answers.append(SystemAction(ActionKind.RESPONSE, name, bindings))
        return answers

    def _offer(self, offer: SystemAction, api: str) -> list[SystemAction]:
        self.awaiting, self.offered = Awaiting.OFFER_API, api
        self.ctx.phenomena.add(Phenomenon.PROACTIVE_OFFER)
        return [offer]

    def _respond(self, templates: list[ResponseTemplate]) -> list[SystemAction]:
        action = self._best_bindable(templates)
        return [action] if action else []

    def _best_bindable(
        self, templates: list[ResponseTemplate], call_id: str | None = None, role: CallRole | None = None
    ) -> SystemAction | None:
        """The usable template the samples use most in this ``role`` of a call (see
        ``SkillIndex.template_uses``), then the one that shows the most (for a success, the one that
        shows the least: a booking is reported plainly unless the user asked about it), then the
        first authored."""
        best: SystemAction | None = None
        best_key = (-1, -(10**6))
        for t in templates:
            action = self._bind(t, call_id)
            if action is None:
                continue
            used = self.index.template_uses[(self.api or "", role, t.name)] if role else 0
            shown = len(action.bindings)
            key = (used, -shown if role is CallRole.SUCCESS else shown)
            if key > best_key:
                best, best_key = action, key
        return best

    def _bind(self, template: ResponseTemplate, call_id: str | None) -> SystemAction | None:
        bindings: dict[str, str] = {}
        bound = self.bound.get(self.api or "", {})
        api = self.index.apis.get(self.api or "")
        for arg in template.arguments:
            eid: str | None = None
            if call_id is not None and api is not None:
                if api.returns.get(arg.name) == arg.slot_type:
                    eid = result_id(call_id, arg.name)
                else:
                    eid = next(
                        (result_id(call_id, f) for f, st in api.returns.items() if st == arg.slot_type),
                        None,
                    )
                if eid is not None and eid not in self.ctx.entities:
                    eid = None
            if eid is None and arg.name in bound and self.ctx.entities[bound[arg.name]].slot_type == arg.slot_type:
                eid = bound[arg.name]
            if eid is None:
                eid = next((e for e in bound.values() if self.ctx.entities[e].slot_type == arg.slot_type), None)
            if eid is None:
                return None
            bindings[arg.name] = eid
        return SystemAction(ActionKind.RESPONSE, template.name, bindings)
