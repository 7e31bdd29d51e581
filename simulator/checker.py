"""The validity checker: replays annotated dialogues against a skill spec.

:class:`Checker` precomputes what it needs from the skill once and then checks several
thousand dialogues a second, JSON parsing included; it reports *every* inconsistency it finds as a
:class:`skillspec.Issue` whose path points into the dialogue, e.g.
``turns[3].actions[0].arguments[1].entity``. The rules are listed in
docs/annotated-dialogues.md ("What the checker enforces").

(Over 500 lines on purpose: one replay of a dialogue, in one pass, over one state; the
rules read each other's state, and each is a few lines of it.)

Two judgement calls:

* A built-in span (DATE, TIME, NUMBER) whose text :func:`skillspec.normalize` cannot read
  is accepted if its value has the canonical shape: the grammar covers what the
  simulator generates and the common forms, not everything people say (SGD, hand-made
  samples). A text it *can* read must mean the span's value, with relative dates
  resolved against ``today`` (:data:`REFERENCE_DATE` unless told otherwise).
* A catalogue slot type with no values is *open*: any value is accepted.

One rule set depends on where a dialogue comes from, the **language rules**
(``language_rules = dialogue.source != "sgd"``): a catalogue span's text is its value or
one of its synonyms, a catalogue span's value is a value of the catalogue, and a
response's text is a rendering of one of its template's variants. The simulator and the
sample dialogues speak the skill's language, so they are held to it. Gold dialogues
converted from real conversations (``source: "sgd"``) are not: a real user may name a
value the provider's database never returned, in words no catalogue lists, and the real
system's utterance is the gold text whatever the templates say. Making the skill cover
that wording would mean copying evaluation text into it. Everything structural is
checked for every source: offsets, entity ids, bindings, slot types, values equal to
the entities' values, built-in values, required arguments, the wait, confirmations.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from skillspec import (
    BuiltinType,
    ContextEntity,
    DialogAct,
    EntitySource,
    Issue,
    Skill,
    UserAct,
    join_path,
    normalize,
    spec_hash,
    template_parts,
)
from skillspec.annotated import FORMAT, WAIT, AnnotatedActionKind, AnnotatedDialogue
from skillspec.catalogue import catalogue_forms, form_key
from skillspec.context import result_id
from skillspec.fallback import response_templates

from .text import REFERENCE_DATE

_CANONICAL = {
    BuiltinType.DATE: (re.compile(r"\d{4}-\d{2}-\d{2}"), "YYYY-MM-DD"),
    BuiltinType.TIME: (re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d"), "HH:MM, 24-hour"),
    BuiltinType.NUMBER: (re.compile(r"0|[1-9]\d*"), "a decimal integer"),
}
_USER_ACTS = frozenset(a.value for a in UserAct)
_CACHE_LIMIT = 200_000


# The records of skillspec.annotated as typed dicts. Validating JSON into these is twice as
# fast as building the pydantic records, and the checker reads every field anyway. They
# must accept exactly what the records accept (tests/test_sim_checker.py compares them);
# when they reject a dialogue, the records themselves report why.
_STRICT = ConfigDict(extra="forbid")


@with_config(_STRICT)
class _Span(TypedDict):
    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]
    slot_type: str
    value: str
    entity: str


@with_config(_STRICT)
class _UserTurn(TypedDict):
    speaker: Literal["user"]
    text: str
    acts: Annotated[list[str], Field(default_factory=list)]
    spans: Annotated[list[_Span], Field(default_factory=list)]


@with_config(_STRICT)
class _Argument(TypedDict):
    name: str
    entity: str
    turn: int
    value: str


@with_config(_STRICT)
class _Result(TypedDict):
    entity: str
    field: str
    slot_type: str
    value: str


@with_config(_STRICT)
class _Action(TypedDict):
    kind: AnnotatedActionKind
    name: str
    id: Annotated[str | None, Field(default=None)]
    arguments: Annotated[list[_Argument], Field(default_factory=list)]
    results: Annotated[list[_Result], Field(default_factory=list)]
    text: Annotated[str | None, Field(default=None)]


@with_config(_STRICT)
class _SystemTurn(TypedDict):
    speaker: Literal["system"]
    text: Annotated[str, Field(default="")]
    actions: Annotated[list[_Action], Field(min_length=1)]


@with_config(_STRICT)
class _Dialogue(TypedDict):
    format: Literal["colloquy-dialogue/1"]  # required here: a record must say its format
    id: str
    skill: str
    spec_hash: Annotated[str | None, Field(default=None)]
    source: Annotated[Literal["sample", "simulated", "sgd"], Field(default="simulated")]
    test: Annotated[bool, Field(default=False)]
    phenomena: Annotated[list[str], Field(default_factory=list)]
    turns: Annotated[
        list[Annotated[_UserTurn | _SystemTurn, Field(discriminator="speaker")]], Field(default_factory=list)
    ]


_DIALOGUE: TypeAdapter[_Dialogue] = TypeAdapter(_Dialogue)


def _canonical_shape(builtin: BuiltinType, value: str) -> str | None:
    """Why ``value`` is not a canonical ``builtin`` value, or None if it is one."""
    pattern, shape = _CANONICAL[builtin]
    if not pattern.fullmatch(value):
        return f"{value!r} is not a canonical {builtin.value} value ({shape})"
    if builtin is BuiltinType.DATE:
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a real date"
    return None


def _variant_pattern(variant: str) -> re.Pattern[str]:
    """A regex matching ``variant`` with any non-empty text in each placeholder."""
    parts = []
    for literal, name in template_parts(variant):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append("(.+?)")
    return re.compile("".join(parts), re.DOTALL)


@dataclass(frozen=True)
class _SlotInfo:
    builtin: BuiltinType | None
    forms: dict[str, str]  # form_key of a value or synonym -> canonical value
    values: frozenset[str]


@dataclass(frozen=True)
class _ApiInfo:
    arguments: dict[str, str]  # name -> slot type
    needed: tuple[str, ...]  # required arguments without a default
    returns: dict[str, str]  # field -> slot type
    transactional: bool


@dataclass(frozen=True)
class _TemplateInfo:
    arguments: dict[str, str]
    needed: tuple[str, ...]
    act: DialogAct
    api: str | None
    patterns: tuple[re.Pattern[str], ...]


@dataclass
class _Confirmation:
    turn: int
    values: dict[str, str]  # argument name -> value shown to the user
    affirmed: bool = False


@dataclass
class _State:
    issues: list[Issue] = field(default_factory=list)
    entities: dict[str, ContextEntity] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)  # call id -> number of results
    ids: set[str] = field(default_factory=set)  # span entity ids and call ids
    confirmations: dict[str, _Confirmation] = field(default_factory=dict)  # API -> latest confirmation
    pending: list[str] = field(default_factory=list)  # APIs confirmed in the previous system turn
    dialogue: _Dialogue | None = None
    language_rules: bool = True  # see the module docstring


class Checker:
    """Checks annotated dialogues against one skill; build it once, call :meth:`check` often.

    The language rules (span texts and values in the catalogues, response texts rendering
    their variants) apply to a dialogue only when :func:`language_rules` says so for its
    ``source``: not to gold converted from real dialogues.
    """

    def __init__(self, skill: Skill, *, today: datetime.date = REFERENCE_DATE, check_spec_hash: bool = True):
        self.skill = skill
        self.today = today
        self.spec_hash = spec_hash(skill) if check_spec_hash else None
        self.slots: dict[str, _SlotInfo] = {}
        for st in reversed(skill.slot_types):  # the first of duplicate names wins, as in validate_skill
            forms = catalogue_forms(st)
            self.slots[st.name] = _SlotInfo(st.builtin, forms, frozenset(v.value for v in st.values))
        self.apis: dict[str, _ApiInfo] = {}
        for api in reversed(skill.apis):
            self.apis[api.name] = _ApiInfo(
                arguments={a.name: a.slot_type for a in api.arguments},
                needed=tuple(a.name for a in api.arguments if a.required and a.default is None),
                returns={r.name: r.slot_type for r in api.returns},
                transactional=api.transactional,
            )
        self.templates: dict[str, _TemplateInfo] = {}
        for t in reversed(response_templates(skill)):
            self.templates[t.name] = _TemplateInfo(
                arguments={a.name: a.slot_type for a in t.arguments},
                needed=tuple(a.name for a in t.arguments),
                act=t.act,
                api=t.api,
                patterns=tuple(_variant_pattern(v) for v in t.variants),
            )
        self._normalized: dict[tuple[BuiltinType, str], str | None] = {}
        self._rendered: dict[tuple[str, str], bool] = {}

    # ------------------------------------------------------------ entry points

    def check(self, dialogue: AnnotatedDialogue | Mapping[str, Any] | str | bytes) -> list[Issue]:
        """Every inconsistency of ``dialogue`` (a record, a parsed JSON object or a JSON line)."""
        loaded = _load(dialogue)
        return loaded if isinstance(loaded, list) else self._check(loaded)

    def _check(self, d: _Dialogue) -> list[Issue]:
        st = _State(dialogue=d, language_rules=language_rules(d["source"]))
        if not d["id"]:
            st.issues.append(Issue("id", "must not be empty"))
        if d["skill"] != self.skill.name:
            st.issues.append(Issue("skill", f"written for skill {d['skill']!r}, not {self.skill.name!r}"))
        if self.spec_hash is not None and d["spec_hash"] is not None and d["spec_hash"] != self.spec_hash:
            st.issues.append(
                Issue(
                    "spec_hash",
                    f"written for another version of the skill ({d['spec_hash'][:12]}…, "
                    f"the skill is {self.spec_hash[:12]}…)",
                )
            )
        if not d["turns"]:
            st.issues.append(Issue("turns", "a dialogue has at least one turn"))
        for t, turn in enumerate(d["turns"]):
            expected = "user" if t % 2 == 0 else "system"
            if turn["speaker"] != expected:
                st.issues.append(
                    Issue(
                        f"turns[{t}].speaker",
                        f"turns alternate, starting with the user: turn {t} must be a {expected} turn",
                    )
                )
            if turn["speaker"] == "user":
                self._user_turn(st, t, turn)
            else:
                self._system_turn(st, t, turn)
        return st.issues

    # ------------------------------------------------------------ user turns
    # Paths are built only when there is something to report: most dialogues have no issue.

    def _user_turn(self, st: _State, t: int, turn: _UserTurn) -> None:
        add = st.issues.append
        acts = turn["acts"]
        for k, act in enumerate(acts):
            if act not in _USER_ACTS:
                add(Issue(f"turns[{t}].acts[{k}]", f"unknown user act {act!r}"))
        if st.pending and acts != [UserAct.OUT_OF_SCOPE.value]:
            # A confirmation counts only if the very next user turn affirms it (when acts are annotated);
            # a turn the skill does not handle, answered by the fallback, does not count.
            affirms = not acts or "affirm" in acts
            for api in st.pending:
                st.confirmations[api].affirmed = affirms
            st.pending = []
        spans = turn["spans"]
        if not spans:
            return
        if len(spans) > 1:
            reach = -1  # the span reaching furthest so far, in start order
            for cur in sorted(range(len(spans)), key=lambda k: (spans[k]["start"], spans[k]["end"])):
                span = spans[cur]
                if reach >= 0 and span["start"] < spans[reach]["end"]:
                    other = spans[reach]
                    add(
                        Issue(
                            f"turns[{t}].spans[{cur}]", f"span overlaps span {reach} ({other['start']}:{other['end']})"
                        )
                    )
                if reach < 0 or span["end"] > spans[reach]["end"]:
                    reach = cur
        text = turn["text"]
        entities = st.entities
        for k, span in enumerate(spans):
            surface: str | None = None
            start, end = span["start"], span["end"]
            if end <= start:
                add(Issue(f"turns[{t}].spans[{k}].end", f"span end {end} must be greater than its start {start}"))
            elif end > len(text):
                add(Issue(f"turns[{t}].spans[{k}].end", f"span end {end} is beyond the text's length {len(text)}"))
            else:
                surface = text[start:end]
                if surface[0].isspace() or surface[-1].isspace():
                    add(Issue(f"turns[{t}].spans[{k}]", f"span text {surface!r} has surrounding whitespace"))
            slot = self.slots.get(span["slot_type"])
            if slot is None:
                add(Issue(f"turns[{t}].spans[{k}].slot_type", f"unknown slot type {span['slot_type']!r}"))
            elif surface is not None:
                why = self._span_value(slot, span["slot_type"], surface, span["value"], st.language_rules)
                if why is not None:
                    add(Issue(f"turns[{t}].spans[{k}].value", why))
            entity = span["entity"]
            if entity in st.ids or not entity or "." in entity:
                add(Issue(f"turns[{t}].spans[{k}].entity", self._bad_id(entity)))
                continue
            st.ids.add(entity)
            said = surface or ""
            entities[entity] = ContextEntity(entity, span["slot_type"], t, EntitySource.SPAN, span["value"], said)

    def _span_value(self, slot: _SlotInfo, slot_type: str, surface: str, value: str, language: bool) -> str | None:
        """Why ``value`` is not what ``surface`` means, or None; ``language``: the language rules apply."""
        if slot.builtin is None:
            if not slot.values or not language:
                return None  # an open catalogue, or a real user's words
            if value not in slot.values:
                return f"{value!r} is not a value of slot type {slot_type!r}"
            if slot.forms.get(form_key(surface)) != value:
                return f"span text {surface!r} is neither {value!r} nor one of its synonyms"
            return None
        meaning = self._normalize(slot.builtin, surface)
        if meaning is None:
            return _canonical_shape(slot.builtin, value)
        if meaning != value:
            return f"span text {surface!r} means {meaning!r} (today being {self.today}), not {value!r}"
        return None

    def _normalize(self, builtin: BuiltinType, text: str) -> str | None:
        key = (builtin, text)
        try:
            return self._normalized[key]
        except KeyError:
            pass
        if len(self._normalized) > _CACHE_LIMIT:
            self._normalized.clear()
        meaning = self._normalized[key] = normalize(builtin, text, today=self.today)
        return meaning

    @staticmethod
    def _bad_id(entity: str) -> str:
        if not entity:
            return "an entity id must not be empty"
        if "." in entity:
            return f"entity id {entity!r} contains '.', which only API results' ids do"
        return f"duplicate entity id {entity!r}"

    # ------------------------------------------------------------ system turns

    def _system_turn(self, st: _State, t: int, turn: _SystemTurn) -> None:
        add = st.issues.append
        responses = [self.templates.get(a["name"]) for a in turn["actions"] if a["kind"] == "response"]
        if not (responses and all(r is not None and r.act is DialogAct.FALLBACK for r in responses)):
            st.pending = []  # a fallback turn leaves a confirmation waiting for the user's answer
        texts: list[str] = []
        waits = 0
        last = len(turn["actions"]) - 1
        for a, action in enumerate(turn["actions"]):
            kind = action["kind"]
            if kind == AnnotatedActionKind.RESPONSE:
                self._response(st, t, a, action)
                if action["text"]:
                    texts.append(action["text"])
            elif kind == AnnotatedActionKind.API:
                self._api_call(st, t, a, action)
            else:
                waits += 1
                apath = f"turns[{t}].actions[{a}]"
                if action["name"] != WAIT:
                    add(Issue(f"{apath}.name", f"the wait action is named {WAIT!r}, not {action['name']!r}"))
                if waits > 1:
                    add(Issue(apath, "a system turn has exactly one wait action"))
                elif a != last:
                    add(Issue(apath, "the wait action must be the turn's last action"))
                if action["id"] is not None:
                    add(Issue(f"{apath}.id", "only an API call has an id"))
                if action["arguments"]:
                    add(Issue(f"{apath}.arguments", "the wait action has no arguments"))
                if action["results"]:
                    add(Issue(f"{apath}.results", "only an API call has results"))
                if action["text"] is not None:
                    add(Issue(f"{apath}.text", "only a response has a text"))
        if waits == 0:
            add(Issue(f"turns[{t}].actions", f"a system turn ends with a {WAIT!r} action"))
        expected = " ".join(texts)
        if turn["text"] != expected:
            add(Issue(f"turns[{t}].text", f"must be the responses' texts joined by spaces: {expected!r}"))

    def _api_call(self, st: _State, t: int, a: int, action: _Action) -> None:
        add = st.issues.append
        api = self.apis.get(action["name"])
        if action["text"] is not None:
            add(Issue(f"turns[{t}].actions[{a}].text", "only a response has a text"))
        if api is None:
            add(Issue(f"turns[{t}].actions[{a}].name", f"unknown API {action['name']!r}"))
        else:
            self._arguments(st, t, a, action, api.arguments, api.needed, "required argument")
            if api.transactional:
                self._transaction(st, t, a, action)
        call_id = action["id"]
        if not call_id or call_id in st.ids or "." in call_id:
            if not call_id:
                why = "an API call needs an id so that its results can be referred to"
            else:
                why = f"call id {call_id!r} " + ("contains '.'" if "." in call_id else "is already used")
            add(Issue(f"turns[{t}].actions[{a}].id", why))
            if not call_id or call_id in st.calls or "." in call_id:
                return
        st.ids.add(call_id)
        results = action["results"]
        st.calls[call_id] = len(results)
        if api is None or not results:
            return
        returns = api.returns
        seen: set[str] = set()
        for k, r in enumerate(results):
            name = r["field"]
            slot_type = returns.get(name)
            if slot_type is None or name in seen:
                if slot_type is None:
                    why = f"{action['name']!r} returns no field {name!r}"
                else:
                    why = f"field {name!r} has more than one result"
                add(Issue(f"turns[{t}].actions[{a}].results[{k}].field", why))
                continue
            seen.add(name)
            entity = result_id(call_id, name)
            if r["entity"] != entity:
                add(
                    Issue(
                        f"turns[{t}].actions[{a}].results[{k}].entity",
                        f"the result's entity id is {entity!r}, not {r['entity']!r}",
                    )
                )
            if r["slot_type"] != slot_type:
                add(
                    Issue(
                        f"turns[{t}].actions[{a}].results[{k}].slot_type",
                        f"field {name!r} is a {slot_type}, not a {r['slot_type']}",
                    )
                )
            why_not = self._result_value(slot_type, r["value"])
            if why_not is not None:
                add(Issue(f"turns[{t}].actions[{a}].results[{k}].value", why_not))
            st.entities[entity] = ContextEntity(entity, slot_type, t, EntitySource.RESULT, r["value"], r["value"], a)
        if len(seen) < len(returns):
            for name in returns:
                if name not in seen:
                    add(
                        Issue(
                            f"turns[{t}].actions[{a}].results",
                            f"return field {name!r} has no result (a call returns every field, or none if it failed)",
                        )
                    )

    def _result_value(self, slot_type: str, value: str) -> str | None:
        slot = self.slots.get(slot_type)
        if slot is None:
            return None
        if slot.builtin is not None:
            return _canonical_shape(slot.builtin, value)
        if slot.values and value not in slot.values:
            return f"{value!r} is not a value of slot type {slot_type!r}"
        return None

    def _response(self, st: _State, t: int, a: int, action: _Action) -> None:
        add = st.issues.append
        if action["id"] is not None:
            add(Issue(f"turns[{t}].actions[{a}].id", "only an API call has an id"))
        if action["results"]:
            add(Issue(f"turns[{t}].actions[{a}].results", "only an API call has results"))
        template = self.templates.get(action["name"])
        if template is None:
            add(Issue(f"turns[{t}].actions[{a}].name", f"unknown response template {action['name']!r}"))
        else:
            values = self._arguments(st, t, a, action, template.arguments, template.needed, "argument")
            if template.act is DialogAct.CONFIRM_API and template.api is not None:
                st.confirmations[template.api] = _Confirmation(t, values)
                if template.api not in st.pending:
                    st.pending.append(template.api)
        text = action["text"]
        if text is None:
            add(Issue(f"turns[{t}].actions[{a}].text", "a response needs its text"))
        elif template is not None and st.language_rules and not self._renders(action["name"], template, text):
            add(Issue(f"turns[{t}].actions[{a}].text", f"{text!r} is no variant of template {action['name']!r}"))

    def _renders(self, name: str, template: _TemplateInfo, text: str) -> bool:
        key = (name, text)
        known = self._rendered.get(key)
        if known is None:
            if len(self._rendered) > _CACHE_LIMIT:
                self._rendered.clear()
            known = self._rendered[key] = any(p.fullmatch(text) for p in template.patterns)
        return known

    def _arguments(
        self,
        st: _State,
        t: int,
        a: int,
        action: _Action,
        params: dict[str, str],
        needed: tuple[str, ...],
        what: str,
    ) -> dict[str, str]:
        """Check an action's bindings; the bound values by argument name."""
        values: dict[str, str] = {}
        entities = st.entities
        for k, arg in enumerate(action["arguments"]):
            name = arg["name"]
            slot_type = params.get(name)
            if slot_type is None or name in values:
                if slot_type is None:
                    why = f"{action['name']!r} has no argument {name!r}"
                else:
                    why = f"argument {name!r} is bound more than once"
                st.issues.append(Issue(f"turns[{t}].actions[{a}].arguments[{k}].name", why))
                continue
            values[name] = arg["value"]
            entity = entities.get(arg["entity"])
            if (
                entity is None
                or entity.turn != arg["turn"]
                or entity.value != arg["value"]
                or entity.slot_type != slot_type
            ):
                self._bad_binding(st, t, a, k, arg, entity, slot_type)
        if len(values) < len(needed):
            for name in needed:
                if name not in values:
                    st.issues.append(Issue(f"turns[{t}].actions[{a}].arguments", f"{what} {name!r} is not bound"))
        return values

    @staticmethod
    def _bad_binding(
        st: _State, t: int, a: int, k: int, arg: _Argument, entity: ContextEntity | None, slot_type: str
    ) -> None:
        add = st.issues.append
        bpath = f"turns[{t}].actions[{a}].arguments[{k}]"
        ref = arg["entity"]
        if entity is None:
            call_id, dot, _ = ref.partition(".")
            later = _introduction(st.dialogue, ref) if st.dialogue is not None else None
            if later is not None and later[0] == t and later[1] is not None and later[1] > a:
                why = f"entity {ref!r} is produced by a later action of this turn"
            elif later is not None and later[0] > t:
                why = f"entity {ref!r} is introduced later, in turn {later[0]}"
            elif later is not None:
                why = f"entity {ref!r} comes from an invalid span or API call (turn {later[0]})"
            elif dot and st.calls.get(call_id) == 0:
                why = f"unknown entity {ref!r}: call {call_id!r} returned no results"
            else:
                why = f"unknown entity {ref!r}: no earlier span or API result introduces it"
            add(Issue(f"{bpath}.entity", why))
            return
        if entity.turn != arg["turn"]:
            add(Issue(f"{bpath}.turn", f"entity {ref!r} was introduced in turn {entity.turn}, not {arg['turn']}"))
        if entity.value != arg["value"]:
            add(Issue(f"{bpath}.value", f"entity {ref!r} has the value {entity.value!r}, not {arg['value']!r}"))
        if entity.slot_type != slot_type:
            why = f"entity {ref!r} is a {entity.slot_type}, but {arg['name']!r} takes a {slot_type}"
            add(Issue(f"{bpath}.entity", why))

    def _transaction(self, st: _State, t: int, a: int, action: _Action) -> None:
        confirmation = st.confirmations.pop(action["name"], None)
        if confirmation is None:
            st.issues.append(
                Issue(
                    f"turns[{t}].actions[{a}]",
                    f"transactional API {action['name']!r} is called without a confirm_api response first",
                )
            )
            return
        if confirmation.turn == t or not confirmation.affirmed:
            st.issues.append(
                Issue(
                    f"turns[{t}].actions[{a}]",
                    f"transactional API {action['name']!r} is called, but the user did not affirm "
                    f"its confirmation in turn {confirmation.turn}",
                )
            )
            return
        for k, arg in enumerate(action["arguments"]):
            shown = confirmation.values.get(arg["name"])
            if shown is not None and shown != arg["value"]:
                st.issues.append(
                    Issue(
                        f"turns[{t}].actions[{a}].arguments[{k}].value",
                        f"the user confirmed {arg['name']}={shown!r} in turn {confirmation.turn}, not {arg['value']!r}",
                    )
                )


def language_rules(source: str) -> bool:
    """Whether dialogues of ``source`` are held to the skill's language: their catalogue spans
    say a catalogue value or synonym, and their responses render a template variant.

    Not gold converted from real dialogues (``"sgd"``); see the module docstring.
    """
    return source != "sgd"


def _load(dialogue: AnnotatedDialogue | Mapping[str, Any] | str | bytes) -> _Dialogue | list[Issue]:
    """The dialogue as checked data, or the structural issues that keep it from being a record."""
    if isinstance(dialogue, AnnotatedDialogue):
        dialogue = dialogue.model_dump(mode="json")
    try:
        if isinstance(dialogue, str | bytes):
            return _DIALOGUE.validate_json(dialogue)
        return _DIALOGUE.validate_python(dialogue)
    except pydantic.ValidationError:
        pass
    # Let the records themselves say what is wrong, so that messages are theirs.
    try:
        if isinstance(dialogue, str | bytes):
            record = AnnotatedDialogue.model_validate_json(dialogue)
        else:
            record = AnnotatedDialogue.model_validate(dialogue)
    except pydantic.ValidationError as exc:
        return _structural_issues(exc, dialogue)
    if "format" not in record.model_fields_set:
        return [Issue("format", f"missing; a record starts with the format {FORMAT!r}")]
    # The records accept what the typed dicts do not (which tests rule out): check the record.
    return _DIALOGUE.validate_python(record.model_dump(mode="json"))


def _introduction(d: _Dialogue, ref: str) -> tuple[int, int | None] | None:
    """Where ``ref`` is introduced in the dialogue: (turn, API action or None for a span)."""
    for t, turn in enumerate(d["turns"]):
        if turn["speaker"] == "user":
            if any(s["entity"] == ref for s in turn["spans"]):
                return t, None
        else:
            for a, action in enumerate(turn["actions"]):
                if action["kind"] == AnnotatedActionKind.API and any(r["entity"] == ref for r in action["results"]):
                    return t, a
    return None


def _structural_issues(exc: pydantic.ValidationError, data: Any) -> list[Issue]:
    fmt: Any = None
    if isinstance(data, Mapping):
        fmt = data.get("format")
    elif isinstance(data, str | bytes):
        try:
            obj = json.loads(data)
        except ValueError as bad_json:
            return [Issue("", f"not valid JSON: {bad_json}")]
        fmt = obj.get("format") if isinstance(obj, dict) else None
    if fmt is not None and fmt != FORMAT:
        return [Issue("format", f"unsupported format {fmt!r}; this checker reads {FORMAT!r}")]
    issues = []
    for err in exc.errors():
        loc = err["loc"]
        parts: list[str | int] = []
        for i, part in enumerate(loc):
            # A discriminated union puts the tag ("user"/"system") into the location.
            if part in ("user", "system") and i > 0 and isinstance(loc[i - 1], int):
                continue
            parts.append(part)
        message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        issues.append(Issue(join_path(*parts), message))
    return issues


def check_dialogue(
    skill: Skill, dialogue: AnnotatedDialogue | Mapping[str, Any], *, today: datetime.date = REFERENCE_DATE
) -> list[Issue]:
    """Every inconsistency of one dialogue with ``skill``. For many dialogues, build a :class:`Checker` once."""
    return Checker(skill, today=today).check(dialogue)


def iter_file_issues(
    skill: Skill, path: str | Path, *, today: datetime.date = REFERENCE_DATE, check_spec_hash: bool = True
) -> Iterator[tuple[int, int, list[Issue]]]:
    """For each dialogue of a JSON Lines file: ``(line number, dialogue count so far, its issues)``.

    Blank lines are skipped; a dialogue id used twice in the file is reported at its second use.
    """
    checker = Checker(skill, today=today, check_spec_hash=check_spec_hash)
    first_line: dict[str, int] = {}
    n = 0
    # Bytes, so that a line that is not UTF-8 is reported like any other bad line.
    with open(path, "rb") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            n += 1
            loaded = _load(line)
            if isinstance(loaded, list):
                yield line_no, n, loaded
                continue
            issues = checker._check(loaded)
            first = first_line.setdefault(loaded["id"], line_no)
            if first != line_no:
                issues.append(Issue("id", f"duplicate dialogue id {loaded['id']!r} (first on line {first})"))
            yield line_no, n, issues


def check_file(
    skill: Skill, path: str | Path, *, today: datetime.date = REFERENCE_DATE, check_spec_hash: bool = True
) -> tuple[int, list[tuple[int, Issue]]]:
    """Check a JSON Lines file of annotated dialogues, streaming: ``(number of dialogues, [(line, issue)])``."""
    found: list[tuple[int, Issue]] = []
    count = 0
    for line_no, count, issues in iter_file_issues(  # noqa: B007 (the last count is the total)
        skill, path, today=today, check_spec_hash=check_spec_hash
    ):
        found.extend((line_no, issue) for issue in issues)
    return count, found
