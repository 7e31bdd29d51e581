"""What the simulator needs to know about a skill, computed once per skill."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from skillspec import Action, ActionKind, Api, BuiltinType, DialogAct, ResponseTemplate, Skill, SystemTurn, UserTurn
from skillspec.fallback import response_templates
from skillspec.index import by_name

from .protocols import Question


class CallRole(StrEnum):
    """What a response does for the API call before it (``SkillIndex.template_uses``)."""

    RESULTS = "results"  # shows what the call found
    MORE_RESULTS = "more_results"  # shows more of it: the same arguments again ("anything else?")
    SUCCESS = "success"  # says a transaction went through
    FAILURE = "failure"  # says the call failed


@dataclass
class ApiInfo:
    api: Api
    required: list[str]  # arguments without which the API cannot be called
    optional: list[str]
    slot_types: dict[str, str]  # argument -> slot type
    returns: dict[str, str]  # return field -> slot type
    requests: list[tuple[frozenset[str], ResponseTemplate]] = field(default_factory=list)
    confirms: list[ResponseTemplate] = field(default_factory=list)  # confirm_api templates
    results: list[ResponseTemplate] = field(default_factory=list)  # offer/inform after a successful call
    successes: list[ResponseTemplate] = field(default_factory=list)  # notify_success
    failures: list[ResponseTemplate] = field(default_factory=list)  # notify_failure
    offers: list[ResponseTemplate] = field(default_factory=list)  # offer_api templates proposing this API


@dataclass
class SkillIndex:
    """Per-skill lookups for goal sampling and the system policy."""

    skill: Skill
    apis: dict[str, ApiInfo]
    templates: dict[str, ResponseTemplate]
    request_more: list[ResponseTemplate]  # "anything else?"
    goodbyes: list[ResponseTemplate]
    builtin_types: dict[str, BuiltinType]  # slot type name -> its built-in type
    # API sequences seen in the sample dialogues, with how often.
    sample_sequences: Counter[tuple[str, ...]]
    # For API b: argument -> (earlier API a, its return field) that can fill it ("book it").
    from_result: dict[str, dict[str, tuple[str, str]]]
    # Slot types the user says in the samples or utterance sets (values a user can provide).
    user_slot_types: frozenset[str]
    # API -> APIs that may follow it (after it in a sample dialogue, or filled from its results).
    followers: dict[str, list[str]] = field(default_factory=dict)
    # Offered API -> whether the samples offer it in the turn that shows the results it follows
    # (True) or in a later turn, once the user has reacted to them ("sounds good") (False).
    offer_with_results: dict[str, bool] = field(default_factory=dict)
    # (API, role, template) -> how often the samples answer a call of the API with the template,
    # role (CallRole). The system prefers what the samples do ("I found 10..." first, not on the next one).
    template_uses: Counter[tuple[str, CallRole, str]] = field(default_factory=Counter)
    # Whether the samples ask "anything else?" in the turn that reports a transaction's success
    # (True) or only after the user has reacted to it (False).
    request_more_with_success: bool = True
    # Questions the sample users ask about results, and how often a user who has just seen
    # results, a success or an answer asks one (of those turns in the samples).
    questions: list[Question] = field(default_factory=list)
    question_rate: float = 0.0

    @classmethod
    def build(cls, skill: Skill) -> SkillIndex:
        apis: dict[str, ApiInfo] = {}
        for api in skill.apis:
            if api.name in apis:
                continue
            apis[api.name] = ApiInfo(
                api=api,
                required=[a.name for a in api.arguments if a.required and a.default is None],
                optional=[a.name for a in api.arguments if not (a.required and a.default is None)],
                slot_types={a.name: a.slot_type for a in api.arguments},
                returns={r.name: r.slot_type for r in api.returns},
            )
        request_more, goodbyes = [], []
        for t in response_templates(skill):
            info = apis.get(t.api) if t.api else None
            if t.act is DialogAct.REQUEST_ARGS and info is not None:
                info.requests.append((frozenset(t.requested), t))
            elif t.act is DialogAct.CONFIRM_API and info is not None:
                info.confirms.append(t)
            elif t.act is DialogAct.NOTIFY_SUCCESS and info is not None:
                info.successes.append(t)
            elif t.act is DialogAct.NOTIFY_FAILURE and info is not None:
                info.failures.append(t)
            elif t.act is DialogAct.OFFER_API and info is not None:
                info.offers.append(t)
            elif t.act in (DialogAct.OFFER, DialogAct.INFORM):
                # A result template belongs to its API, or to every API whose results it can show.
                targets = [info] if info is not None else list(apis.values())
                for target in targets:
                    if any(a.name in target.returns or a.slot_type in target.returns.values() for a in t.arguments):
                        target.results.append(t)
            elif t.act is DialogAct.REQUEST_MORE:
                request_more.append(t)
            elif t.act is DialogAct.GOODBYE:
                goodbyes.append(t)

        sequences: Counter[tuple[str, ...]] = Counter()
        user_types: set[str] = set()
        for d in skill.sample_dialogues:
            seq: list[str] = []
            for turn in d.turns:
                if isinstance(turn, UserTurn):
                    user_types.update(s.slot_type for s in turn.spans)
                elif isinstance(turn, SystemTurn):
                    for action in turn.actions:
                        if action.kind is ActionKind.API and action.name in apis and action.name not in seq:
                            seq.append(action.name)
            if seq and not d.test:
                sequences[tuple(seq)] += 1
        for u in skill.utterance_sets:
            user_types.update(a.slot_type for a in u.arguments)
        offer_with_results = _offer_placement(skill, apis)
        template_uses = _template_uses(skill, apis)
        request_more_with_success = _request_more_with_success(skill)
        questions, question_rate = _sample_questions(skill)
        questions += _generated_questions(skill, apis, questions)

        from_result: dict[str, dict[str, tuple[str, str]]] = {}
        for b in apis.values():
            links: dict[str, tuple[str, str]] = {}
            # Producers that return more of b's required arguments first, a search before a booking:
            # a round trip is booked from the round-trip search, not from whichever API came first.
            covered = {
                a.api.name: sum(_field(a, r, b.slot_types[r]) is not None for r in b.required)
                for a in apis.values()
                if a is not b
            }
            producers = sorted(
                (a for a in apis.values() if a is not b),
                key=lambda a: (a.api.transactional, -covered[a.api.name]),
            )
            # A transaction whose every required value one API returns acts on what that API found
            # ("book that flight"): all of them come from its result, said by users or not.
            whole = next(
                (a for a in producers if b.api.transactional and covered[a.api.name] == len(b.required)),
                None,
            )
            for arg, st in b.slot_types.items():
                # An optional argument takes what the user asks for, not a value a result happens to
                # show: real systems book a flight without passing on the search's "not refundable".
                if arg not in b.required:
                    continue
                if whole is not None:
                    links[arg] = (whole.api.name, _field(whole, arg, st) or "")
                    continue
                for a in producers:
                    field_ = _field(a, arg, st)
                    if field_ is not None and (st not in user_types or f"{a.api.name}" in _producers(sequences, b)):
                        links[arg] = (a.api.name, field_)
                        break
            from_result[b.api.name] = links
        followers: dict[str, list[str]] = {name: [] for name in apis}
        for sequence in sorted(sequences):
            for first, then in zip(sequence, sequence[1:], strict=False):
                if then not in followers[first]:
                    followers[first].append(then)
        for consumer, links in sorted(from_result.items()):
            for producer, _ in links.values():
                if consumer not in followers[producer]:
                    followers[producer].append(consumer)
        return cls(
            followers=followers,
            offer_with_results=offer_with_results,
            template_uses=template_uses,
            request_more_with_success=request_more_with_success,
            questions=questions,
            question_rate=question_rate,
            skill=skill,
            apis=apis,
            templates=by_name(response_templates(skill)),
            request_more=request_more,
            goodbyes=goodbyes,
            builtin_types={s.name: s.builtin for s in skill.slot_types if s.builtin is not None},
            sample_sequences=sequences,
            from_result=from_result,
            user_slot_types=frozenset(user_types),
        )


def _field(a: ApiInfo, arg: str, slot_type: str) -> str | None:
    """The return field of ``a`` that can fill ``arg``: the one of its name and slot type, else the
    first of its slot type."""
    if a.returns.get(arg) == slot_type:
        return arg
    return next((f for f, fst in a.returns.items() if fst == slot_type), None)


def _producers(sequences: Counter[tuple[str, ...]], b: ApiInfo) -> set[str]:
    """APIs that come before ``b`` in some sample dialogue."""
    out: set[str] = set()
    for seq in sequences:
        if b.api.name in seq:
            out.update(seq[: seq.index(b.api.name)])
    return out


def _offer_placement(skill: Skill, apis: dict[str, ApiInfo]) -> dict[str, bool]:
    """Per offered API, where the sample dialogues put its ``offer_api`` response.

    The majority wins; on a tie, or with no sample offer, the offer goes with the results.
    """
    with_results: Counter[str] = Counter()
    later: Counter[str] = Counter()
    templates = by_name(response_templates(skill))
    for d in skill.sample_dialogues:
        if d.test:
            continue
        for turn in d.turns:
            if not isinstance(turn, SystemTurn):
                continue
            called = any(a.kind is ActionKind.API for a in turn.actions)
            for a in turn.actions:
                t = templates.get(a.name) if a.kind is ActionKind.RESPONSE else None
                if t is not None and t.act is DialogAct.OFFER_API and t.api in apis:
                    (with_results if called else later)[t.api] += 1
    return {name: with_results[name] >= later[name] for name in apis}


def _request_more_with_success(skill: Skill) -> bool:
    """Majority of the samples' success turns (ties: with). Samples without a success go by how
    they ask "anything else?" at all: in a turn that also says something else, or on its own after
    the user's reaction ("thanks") — this skill's habit, which its bookings will follow too."""
    templates = {t.name: t.act for t in response_templates(skill)}
    votes: Counter[bool] = Counter()
    habit: Counter[bool] = Counter()
    for d in skill.sample_dialogues:
        if d.test:
            continue
        for turn in d.turns:
            if isinstance(turn, SystemTurn):
                acts = [templates.get(a.name) for a in turn.actions if a.kind is ActionKind.RESPONSE]
                if DialogAct.NOTIFY_SUCCESS in acts:
                    votes[DialogAct.REQUEST_MORE in acts] += 1
                if DialogAct.REQUEST_MORE in acts:
                    habit[len(acts) > 1] += 1
    if not votes:
        votes = habit
    return votes[True] >= votes[False]


def _sample_questions(skill: Skill) -> tuple[list[Question], float]:
    """The samples' questions about results, and the share of chances the users took to ask.

    A question is a user turn without spans after which the system, calling nothing, only
    informs (SGD: "What's the phone number?" -> ``inform_phone_number``). A chance is a user
    turn after a system turn that showed results, reported a success or answered a question.
    """
    templates = by_name(response_templates(skill))
    questions: dict[Question, None] = {}  # ordered set: same samples, same list
    chances = asked = 0
    for d in skill.sample_dialogues:
        if d.test:
            continue
        turns = d.turns
        for i, turn in enumerate(turns[1:-1], 1):
            before, after = turns[i - 1], turns[i + 1]
            if not (isinstance(turn, UserTurn) and isinstance(before, SystemTurn) and isinstance(after, SystemTurn)):
                continue
            shown = {templates[a.name].act for a in before.actions if _is_response(a, templates)}
            if not shown & {DialogAct.OFFER, DialogAct.INFORM, DialogAct.NOTIFY_SUCCESS}:
                continue
            chances += 1
            answers = list(after.actions)
            if (
                not turn.spans
                and answers
                and all(_is_response(a, templates) and templates[a.name].act is DialogAct.INFORM for a in answers)
            ):
                asked += 1
                questions[Question(turn.text, tuple(a.name for a in answers))] = None
    return list(questions), asked / chances if chances else 0.0


_ASK = (
    ("What is the {0}?", "What's the {0} and the {1}?"),
    ("Can you tell me the {0}?", "Can you tell me the {0} and the {1}?"),
    ("What about the {0}?", "And the {0} and {1}?"),
)


def _generated_questions(skill: Skill, apis: dict[str, ApiInfo], sample: list[Question]) -> list[Question]:
    """Questions about results that the samples never ask, one per ``inform`` template that shows
    only result fields (by name) and that no sample question is answered with: "What is the
    phone number?" -> ``inform_phone_number``. Users ask about what was found far more often
    than ten samples can show; a template without arguments (its value written into the text)
    answers no question, since which of its kind applies depends on a value it does not show."""
    answered = {name for q in sample for name in q.answers}
    fields = {f for info in apis.values() for f in info.returns}
    # Of templates that show the same fields, the shortest: the others say something more in
    # words ("...and it is furnished"), which this question does not ask about.
    plain: dict[tuple[str, ...], ResponseTemplate] = {}
    for t in response_templates(skill):
        names = tuple(a.name for a in t.arguments)
        if t.act is DialogAct.INFORM and names and len(names) <= 2 and set(names) <= fields:
            size = sum(map(len, t.variants)) / len(t.variants)
            best = plain.get(names)
            if best is None or size < sum(map(len, best.variants)) / len(best.variants):
                plain[names] = t
    out: list[Question] = []
    for names, t in plain.items():
        if t.name in answered:
            continue
        words = [n.replace("_", " ") for n in names]
        for one, two in _ASK:
            out.append(Question((one if len(words) == 1 else two).format(*words), (t.name,)))
    return out


def _is_response(action: Action, templates: dict[str, ResponseTemplate]) -> bool:
    return action.kind is ActionKind.RESPONSE and action.name in templates


_ROLES = {
    DialogAct.OFFER: CallRole.RESULTS,
    DialogAct.INFORM: CallRole.RESULTS,
    DialogAct.NOTIFY_SUCCESS: CallRole.SUCCESS,
    DialogAct.NOTIFY_FAILURE: CallRole.FAILURE,
}


def _template_uses(skill: Skill, apis: dict[str, ApiInfo]) -> Counter[tuple[str, CallRole, str]]:
    """How the sample dialogues answer each API call: (API, role, template) -> count."""
    uses: Counter[tuple[str, CallRole, str]] = Counter()
    templates = by_name(response_templates(skill))
    for d in skill.sample_dialogues:
        if d.test:
            continue
        last: dict[str, dict[str, str]] = {}  # API -> arguments of its last call
        for turn in d.turns:
            if not isinstance(turn, SystemTurn):
                continue
            api, again = None, False
            for a in turn.actions:
                if a.kind is ActionKind.API:
                    api, again = a.name, last.get(a.name) == a.arguments
                    last[a.name] = dict(a.arguments)
                    continue
                t = templates.get(a.name)
                role = _ROLES.get(t.act) if t is not None and api in apis else None
                if api is not None and role is not None:
                    role = CallRole.MORE_RESULTS if again and role is CallRole.RESULTS else role
                    uses[(api, role, a.name)] += 1
    return uses
