"""Editing sample dialogues one step at a time, and what the editor shows of them.

Every edit locks the skill, loads the dialogue as stored, changes one thing and
saves through :func:`services.component_update`, which validates the *whole*
skill: an edit that would make it invalid raises
:class:`skillspec.SpecValidationError` and nothing is saved. Issue paths are
relative to the dialogue (``turns[2].spans[0]``) and 0-based, like every spec
path; labels meant for people number turns from 1, as the editor shows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NoReturn

from django.db import transaction

import skillspec
from skillspec import ActionKind, Issue, SpecValidationError, SystemTurn, UserTurn, join_path
from skillspec.catalogue import catalogue_forms, form_key
from skillspec.index import by_name

from . import models, services
from .components import SAMPLE_DIALOGUES
from .selectors import skill_to_spec

# --- Writes -----------------------------------------------------------------


def _fail(path: str, message: str) -> NoReturn:
    raise SpecValidationError([Issue(path, message)])


def _load(dialogue: models.SampleDialogue) -> dict[str, Any]:
    """The stored dialogue as plain data, read under the skill's lock so that edits do not interleave."""
    models.Skill.objects.select_for_update().filter(pk=dialogue.skill_id).first()
    dialogue.refresh_from_db()
    # Round-trip through the spec so that defaults (spans, arguments, ...) are present.
    return skillspec.SampleDialogue.model_validate(dialogue.data).model_dump(mode="json")


def _save(dialogue: models.SampleDialogue, data: dict[str, Any]) -> models.SampleDialogue:
    services.component_update(component=dialogue, data=data)
    return dialogue


def _turn(data: dict[str, Any], turn: int, speaker: str) -> dict[str, Any]:
    turns = data["turns"]
    if not 0 <= turn < len(turns):
        _fail(join_path("turns", turn), "there is no such turn")
    if turns[turn]["speaker"] != speaker:
        _fail(join_path("turns", turn), f"this is not a {speaker} turn")
    found: dict[str, Any] = turns[turn]
    return found


def _used_ids(data: dict[str, Any]) -> set[str]:
    ids: set[str] = set()
    for turn in data["turns"]:
        ids.update(s["id"] for s in turn.get("spans", []))
        ids.update(a["id"] for a in turn.get("actions", []) if a.get("id"))
    return ids


def _next_id(data: dict[str, Any], prefix: str) -> str:
    """The first ``<prefix>N`` (N = 1, 2, ...) that no span or call of the dialogue uses."""
    used = _used_ids(data)
    n = 1
    while f"{prefix}{n}" in used:
        n += 1
    return f"{prefix}{n}"


def _bindings_to(data: dict[str, Any], ids: set[str], *, after: int = -1) -> list[Issue]:
    """One issue per argument of a turn after ``after`` that is bound to one of ``ids`` (or a result of one)."""
    issues = []
    for t, turn in enumerate(data["turns"]):
        if t <= after:
            continue
        for a, action in enumerate(turn.get("actions", [])):
            for arg, ref in action["arguments"].items():
                if ref in ids or skillspec.base_id(ref) in ids:
                    issues.append(
                        Issue(
                            join_path("turns", t, "actions", a, "arguments", arg),
                            f"{action['name']} argument {arg!r} is bound to {ref}",
                        )
                    )
    return issues


def _refuse_if_bound(data: dict[str, Any], ids: set[str], path: str, what: str, *, after: int = -1) -> None:
    uses = _bindings_to(data, ids, after=after)
    if uses:
        raise SpecValidationError([Issue(path, f"{what}; remove the actions that use it first"), *uses])


@transaction.atomic
def dialogue_create(*, skill: models.Skill, name: str, test: bool = False) -> models.SampleDialogue:
    """Add an empty sample dialogue at the end of the skill's list."""
    name = name.strip()
    if not name:
        _fail("name", "a sample dialogue needs a name")
    row = services.component_create(skill=skill, kind=SAMPLE_DIALOGUES, data={"name": name, "test": test, "turns": []})
    assert isinstance(row, models.SampleDialogue)
    return row


@transaction.atomic
def dialogue_update(*, dialogue: models.SampleDialogue, name: str, test: bool) -> models.SampleDialogue:
    """Rename the dialogue and/or mark it as a test conversation (or not)."""
    data = _load(dialogue)
    name = name.strip()
    if not name:
        _fail("name", "a sample dialogue needs a name")
    data.update(name=name, test=test)
    return _save(dialogue, data)


@transaction.atomic
def dialogue_delete(*, dialogue: models.SampleDialogue) -> None:
    services.component_delete(component=dialogue)


@transaction.atomic
def dialogue_add_user_turn(*, dialogue: models.SampleDialogue, text: str) -> models.SampleDialogue:
    """Append a user turn saying ``text`` (without spans)."""
    data = _load(dialogue)
    turns = data["turns"]
    path = join_path("turns", len(turns))
    if turns and turns[-1]["speaker"] == "user":
        _fail(path, "the last turn is a user turn: the system speaks next")
    text = text.strip()
    if not text:
        _fail(join_path(path, "text"), "type what the user says")
    turns.append({"speaker": "user", "text": text, "spans": []})
    return _save(dialogue, data)


def _relocate(text: str, old_start: int, new_text: str, taken: list[tuple[int, int]]) -> int | None:
    """Where ``text`` is in ``new_text``: the free occurrence nearest to where it was, or None."""
    starts = [m.start() for m in re.finditer(f"(?={re.escape(text)})", new_text)]
    free = [s for s in starts if all(s + len(text) <= a or s >= b for a, b in taken)]
    return min(free, key=lambda s: (abs(s - old_start), s)) if free else None


@transaction.atomic
def dialogue_edit_user_turn(*, dialogue: models.SampleDialogue, turn: int, text: str) -> models.SampleDialogue:
    """Replace a user turn's text. Its spans follow their words; a span whose words are gone is an error."""
    data = _load(dialogue)
    user_turn = _turn(data, turn, "user")
    text = text.strip()
    if not text:
        _fail(join_path("turns", turn, "text"), "type what the user says")
    taken: list[tuple[int, int]] = []
    spans = []
    for k, span in sorted(enumerate(user_turn["spans"]), key=lambda ks: ks[1]["start"]):
        start = _relocate(span["text"], span["start"], text, taken)
        if start is None:
            _fail(
                join_path("turns", turn, "spans", k),
                f"span {span['id']} ({span['text']!r}) is not in the new text; keep its words or remove the span first",
            )
        end = start + len(span["text"])
        taken.append((start, end))
        spans.append({**span, "start": start, "end": end})
    user_turn.update(text=text, spans=spans)
    return _save(dialogue, data)


def _catalogue_value(skill: skillspec.Skill, slot_type: str, text: str) -> str | None:
    """The catalogue value that ``text`` is a synonym of, if it is one."""
    st = by_name(skill.slot_types).get(slot_type)
    value = catalogue_forms(st).get(form_key(text)) if st is not None else None
    return None if value is None or form_key(value) == form_key(text) else value


@transaction.atomic
def dialogue_add_span(
    *, dialogue: models.SampleDialogue, turn: int, start: int, end: int, slot_type: str
) -> models.SampleDialogue:
    """Tag ``text[start:end]`` of user turn ``turn`` as a ``slot_type`` entity with the next free id ``eN``.

    Offsets count characters (code points) of the turn's text; spaces at either
    edge of the selection are left out of the span.
    """
    data = _load(dialogue)
    user_turn = _turn(data, turn, "user")
    text = user_turn["text"]
    path = join_path("turns", turn, "spans")
    if not 0 <= start < end <= len(text):
        _fail(path, f"the selection {start}:{end} is not inside the text (0:{len(text)})")
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        _fail(path, "the selection holds only spaces")
    if not slot_type:
        _fail(join_path(path, len(user_turn["spans"]), "slot_type"), "choose a slot type")
    span: dict[str, Any] = {
        "id": _next_id(data, "e"),
        "start": start,
        "end": end,
        "slot_type": slot_type,
        "text": text[start:end],
    }
    value = _catalogue_value(skill_to_spec(skill=dialogue.skill), slot_type, span["text"])
    if value is not None:
        span["value"] = value
    user_turn["spans"] = sorted([*user_turn["spans"], span], key=lambda s: (s["start"], s["end"]))
    return _save(dialogue, data)


@transaction.atomic
def dialogue_remove_span(*, dialogue: models.SampleDialogue, turn: int, span_id: str) -> models.SampleDialogue:
    """Remove a span, unless an action binds its entity."""
    data = _load(dialogue)
    user_turn = _turn(data, turn, "user")
    k = next((k for k, s in enumerate(user_turn["spans"]) if s["id"] == span_id), None)
    if k is None:
        _fail(join_path("turns", turn, "spans"), f"there is no span {span_id!r} in this turn")
    _refuse_if_bound(data, {span_id}, join_path("turns", turn, "spans", k), f"span {span_id} is still bound")
    del user_turn["spans"][k]
    return _save(dialogue, data)


@transaction.atomic
def dialogue_add_action(
    *, dialogue: models.SampleDialogue, kind: str, name: str, arguments: dict[str, str]
) -> models.SampleDialogue:
    """Append an API call or a response to the last system turn, or start one after a user turn.

    ``arguments`` maps argument names to entity ids; empty ids are left out (an
    optional API argument may stay unbound). An API call gets the next free id ``cN``.
    """
    data = _load(dialogue)
    turns = data["turns"]
    if not turns:
        _fail(join_path("turns", 0), "a dialogue starts with a user turn: add what the user says first")
    if turns[-1]["speaker"] == "user":
        turns.append({"speaker": "system", "actions": []})
    t = len(turns) - 1
    path = join_path("turns", t, "actions", len(turns[t]["actions"]))
    if kind not in (ActionKind.API.value, ActionKind.RESPONSE.value) or not name:
        _fail(join_path(path, "name"), "choose an API or a response template")
    action: dict[str, Any] = {"kind": kind, "name": name, "arguments": {k: v for k, v in arguments.items() if v}}
    if kind == ActionKind.API.value:
        action["id"] = _next_id(data, "c")
    turns[t]["actions"].append(action)
    return _save(dialogue, data)


@transaction.atomic
def dialogue_remove_action(*, dialogue: models.SampleDialogue, turn: int, action: int) -> models.SampleDialogue:
    """Remove an action; removing the only action of the last system turn removes the turn.

    Refused while a later action binds a result of this API call.
    """
    data = _load(dialogue)
    system_turn = _turn(data, turn, "system")
    actions = system_turn["actions"]
    path = join_path("turns", turn, "actions", action)
    if not 0 <= action < len(actions):
        _fail(path, "there is no such action")
    call_id = actions[action].get("id")
    if call_id:
        _refuse_if_bound(data, {call_id}, path, f"the results of {call_id} are still bound")
    if len(actions) == 1 and turn != len(data["turns"]) - 1:
        _fail(path, "a system turn that later turns follow needs an action (turns alternate); delete the turn instead")
    del actions[action]
    if not actions:
        data["turns"].pop()
    return _save(dialogue, data)


@transaction.atomic
def dialogue_remove_turn(*, dialogue: models.SampleDialogue, turn: int) -> models.SampleDialogue:
    """Remove turn ``turn``, and the turn after it unless it is the last one, so that turns still alternate.

    Refused while a later turn binds an entity that the removed turns introduce.
    """
    data = _load(dialogue)
    turns = data["turns"]
    if not 0 <= turn < len(turns):
        _fail(join_path("turns", turn), "there is no such turn")
    removed = turns[turn : turn + 2] if turn < len(turns) - 1 else [turns[turn]]
    ids = {s["id"] for t in removed for s in t.get("spans", [])}
    ids |= {a["id"] for t in removed for a in t.get("actions", []) if a.get("id")}
    last_removed = turn + len(removed) - 1
    what = f"{', '.join(sorted(ids))} {'are' if len(ids) > 1 else 'is'} still bound in a later turn"
    _refuse_if_bound(data, ids, join_path("turns", turn), what, after=last_removed)
    del turns[turn : last_removed + 1]
    return _save(dialogue, data)


@transaction.atomic
def dialogue_remove_last_turn(*, dialogue: models.SampleDialogue) -> models.SampleDialogue:
    turns = _load(dialogue)["turns"]
    if not turns:
        _fail("turns", "the dialogue has no turns")
    return dialogue_remove_turn(dialogue=dialogue, turn=len(turns) - 1)


# --- Reads for the editor -----------------------------------------------------


@dataclass(frozen=True)
class EntityOption:
    """An entity that can be bound at some point of a dialogue, with a label for people."""

    id: str
    slot_type: str
    label: str


@dataclass(frozen=True)
class ArgumentOptions:
    """One argument of an action and the type-compatible entities available for it."""

    name: str
    slot_type: str
    required: bool
    default: str | None
    options: list[EntityOption]


def next_action_point(dialogue: skillspec.SampleDialogue) -> tuple[int, int]:
    """(turn, action) where :func:`dialogue_add_action` would put the next action."""
    if dialogue.turns and isinstance(dialogue.turns[-1], SystemTurn):
        return len(dialogue.turns) - 1, len(dialogue.turns[-1].actions)
    return len(dialogue.turns), 0


def entity_label(dialogue: skillspec.SampleDialogue, entity: skillspec.ContextEntity) -> str:
    """``e2 "tomorrow" (date, turn 3)`` or ``c1.flight (result of SearchFlights, turn 4)``."""
    if entity.source is skillspec.EntitySource.SPAN:
        return f'{entity.id} "{entity.text}" ({entity.slot_type}, turn {entity.turn + 1})'
    turn = dialogue.turns[entity.turn]
    api = turn.actions[entity.action].name if isinstance(turn, SystemTurn) and entity.action is not None else "?"
    return f"{entity.id} (result of {api}, turn {entity.turn + 1})"


def dialogue_entity_options(
    *, skill: skillspec.Skill, dialogue: skillspec.SampleDialogue, turn: int, action: int | None
) -> list[EntityOption]:
    """Every entity that action ``action`` of (possibly new) system turn ``turn`` may be bound to."""
    return [
        EntityOption(e.id, e.slot_type, entity_label(dialogue, e))
        for e in skillspec.available_entities(skill, dialogue, turn, action)
    ]


def dialogue_argument_options(
    *, skill: skillspec.Skill, dialogue: skillspec.SampleDialogue, turn: int, action: int | None, kind: str, name: str
) -> list[ArgumentOptions]:
    """Per argument of API / response template ``name``, the entities of its slot type available at the point.

    Raises SpecValidationError when the skill has no such API or template.
    """
    target: skillspec.Api | skillspec.ResponseTemplate | None
    if kind == ActionKind.API.value:
        target = by_name(skill.apis).get(name)
    elif kind == ActionKind.RESPONSE.value:
        target = by_name(skillspec.response_templates(skill)).get(name)
    else:
        target = None
    if target is None:
        what = "API" if kind == ActionKind.API.value else "response template"
        _fail("name", f"unknown {what} {name!r}")
    available = dialogue_entity_options(skill=skill, dialogue=dialogue, turn=turn, action=action)
    out = []
    for arg in target.arguments:
        required = getattr(arg, "required", True)
        default = getattr(arg, "default", None)
        options = [o for o in available if o.slot_type == arg.slot_type]
        out.append(ArgumentOptions(arg.name, arg.slot_type, required and default is None, default, options))
    return out


@dataclass(frozen=True)
class SpanView:
    id: str
    start: int
    end: int
    text: str
    slot_type: str
    value: str | None
    colour: int


@dataclass(frozen=True)
class Segment:
    """A run of a user turn's text: ``start`` is its offset in the original text; ``span`` tags it."""

    start: int
    text: str
    span: SpanView | None


@dataclass(frozen=True)
class BindingView:
    argument: str
    slot_type: str
    entity: str | None
    label: str | None
    required: bool
    default: str | None


@dataclass(frozen=True)
class ActionView:
    index: int
    kind: str
    name: str
    id: str | None
    bindings: list[BindingView]


@dataclass(frozen=True)
class TurnView:
    index: int
    speaker: str
    text: str = ""
    segments: tuple[Segment, ...] = ()
    spans: tuple[SpanView, ...] = ()
    actions: tuple[ActionView, ...] = ()

    @property
    def number(self) -> int:
        return self.index + 1


PALETTE_SIZE = 8


def slot_type_colours(skill: skillspec.Skill) -> dict[str, int]:
    """A palette index per slot type, stable while the slot types keep their order."""
    return {st.name: i % PALETTE_SIZE for i, st in enumerate(skill.slot_types)}


def _segments(text: str, spans: list[SpanView]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    pos = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < pos:  # overlapping spans cannot be stored; never drop text if they were
            continue
        if span.start > pos:
            out.append(Segment(pos, text[pos : span.start], None))
        out.append(Segment(span.start, text[span.start : span.end], span))
        pos = span.end
    if pos < len(text):
        out.append(Segment(pos, text[pos:], None))
    return tuple(out)


def dialogue_transcript(*, skill: skillspec.Skill, dialogue: skillspec.SampleDialogue) -> list[TurnView]:
    """The dialogue as the editor shows it: text split at spans, actions with each argument's binding."""
    colours = slot_type_colours(skill)
    labels = {e.id: entity_label(dialogue, e) for e in skillspec.dialogue_entities(skill, dialogue)}
    apis = by_name(skill.apis)
    templates = by_name(skillspec.response_templates(skill))
    out = []
    for t, turn in enumerate(dialogue.turns):
        if isinstance(turn, UserTurn):
            spans = [
                SpanView(s.id, s.start, s.end, s.text, s.slot_type, s.value, colours.get(s.slot_type, 0))
                for s in sorted(turn.spans, key=lambda s: s.start)
            ]
            out.append(TurnView(t, "user", turn.text, _segments(turn.text, spans), tuple(spans)))
            continue
        actions = []
        for a, action in enumerate(turn.actions):
            target: Any = apis.get(action.name) if action.kind is ActionKind.API else templates.get(action.name)
            params = list(target.arguments) if target else []
            bindings = [
                BindingView(
                    p.name,
                    p.slot_type,
                    action.arguments.get(p.name),
                    labels.get(action.arguments.get(p.name, "")),
                    getattr(p, "required", True),
                    getattr(p, "default", None),
                )
                for p in params
            ]
            actions.append(ActionView(a, action.kind.value, action.name, action.id, bindings))
        out.append(TurnView(t, "system", actions=tuple(actions)))
    return out
