"""Import a service of the Schema-Guided Dialogue dataset (SGD) as a skill, with gold data.

:func:`import_sgd` reads the dataset's own files (``schema.json`` and ``dialogues_*.json``)
and returns the skill, the remaining dialogues in the annotated-dialogue format
(``source: "sgd"``, each one passing :class:`simulator.checker.Checker`) and a report of
everything that could not be converted, and why. It knows no service by name: every
decision below is driven by the schema and the dialogues.

The non-sample dialogues are evaluation data, so **nothing of their language enters the
skill**: no value a user says, no wording of a value, no system utterance. What the skill
takes from them is what a developer would know anyway: the provider's database (their
``service_results``) and which responses the system can give (template signatures,
realised from the schema). The checker does not hold ``sgd`` dialogues to the skill's
language (see :mod:`simulator.checker`), so the gold keeps the real words.

How SGD maps onto the skill spec:

* **Slots** become slot types named after the slot (respelled into a valid name when
  needed; the report keeps the mapping). A non-categorical slot whose known values are
  canonical ``HH:MM`` times (all but at most 1%, which then cannot be used) is the
  built-in TIME (it reads "half past 6 in the evening"); every other slot is a
  catalogue. Dates stay catalogues: SGD resolves relative dates differently from the
  DATE type ("next Monday" said on Friday 1 March is 4 March). Catalogue values are the
  schema's possible values, the ``service_results`` of all given dialogues (the
  provider's database) and the values said in the samples; values differing only in case
  are one value. Synonyms are the other surface forms the samples use ("Chi-town" for
  Chicago, "today" for 2019-03-01) and number words for small integers ("two"). An
  evaluation dialogue's span keeps its words and SGD's value even when the catalogue has
  neither (the report counts both: "user wordings that are no catalogue form of their
  value", "user values not in the catalogue").
* **Intents** become APIs: required slots are required arguments, optional slots are
  optional arguments with the schema's default (``dontcare`` included), result slots are
  return fields, ``is_transactional`` is kept. An API after whose calls the system says
  how many results it found (INFORM_COUNT) also returns ``count``, a built-in NUMBER.
* **System turns** become one response template per distinct turn signature: the turn's
  acts with the slots whose values are bound to an entity and found in the text, plus the
  categorical values the text says in words of its own ("they do not serve alcohol"
  makes ``inform_serves_alcohol_false``). SGD gives one utterance per turn, which cannot
  be split per act, so a multi-act turn is one template, named after all its acts, whose
  act is the most telling one (NOTIFY_FAILURE, NOTIFY_SUCCESS, CONFIRM, OFFER_INTENT,
  REQUEST, OFFER, INFORM_COUNT, INFORM, REQ_MORE, GOODBYE in that order): REQUEST ->
  request_args (with ``requested``), CONFIRM -> confirm_api for a transactional intent
  else confirm_args, OFFER -> offer, INFORM and INFORM_COUNT -> inform, NOTIFY_* ->
  notify_* (but a failed transaction that offers another try asks for confirmation:
  confirm_api), OFFER_INTENT -> offer_api (the offered API), REQ_MORE -> request_more,
  GOODBYE -> goodbye. A template's variants are the samples' delexicalised system
  utterances of its signature. A signature that only evaluation dialogues show is still a
  template (the inventory of responses is part of the skill, as a developer would author
  it), with one variant generated from the schema alone: a generic sentence per act, each
  argument a placeholder described by its slot's description (REQUEST: "Could you tell
  me the city in which the restaurant is located?", OFFER: "How about this one? The name
  of the restaurant is {restaurant_name}.", CONFIRM: "Please confirm: ...", INFORM_COUNT:
  "I found {count} results.", OFFER_INTENT and NOTIFY_*: the intent's description, "Would
  you like to reserve a table at a restaurant?"); the report counts these templates. The
  gold response's text is the real utterance. Values a REQUEST suggests ("such as
  Mexican or Italian") and values that cannot be bound (a default date the confirmation
  repeats) stay literal text.
* **User turns** of the samples, delexicalised, become utterance sets grouped by what the
  turn does: INFORM_INTENT -> invoke (the intent's API), INFORM -> inform, or change when
  it replaces a value the user gave before (per active API), REQUEST_ALTS -> request_more,
  THANK_YOU / GOODBYE -> goodbye, NEGATE / NEGATE_INTENT -> deny, AFFIRM / AFFIRM_INTENT
  / SELECT -> affirm. Turns that ask a question (user REQUEST, which no user act models)
  or say a value that is not located in the text are not used.
* **Spans** come from the SGD slot spans; categorical values, which SGD does not locate,
  are searched in the text through the catalogue's forms. A span whose words name
  another catalogue value than SGD's ("Asian Fusion", mapped by SGD to "Sushi") is
  annotated with the value it names.
* **System actions**: an API call where the frame has a ``service_call`` (its results: the
  ``service_results`` row matching the values the system then mentions, else the first),
  then the response template, then the wait. When the system offers another row of an
  earlier call without calling again (the user asked for alternatives), the call is
  repeated with the same arguments and the offered row as its result, so that every
  entity has one value. Every argument is bound to the entity its value came from: a
  user span when the user said the value, else a result field (the latest call's
  results first for offers and informs). An optional argument whose value is not
  located is left out; a required one is bound to an earlier result with that value if
  there is one, and otherwise makes the dialogue unconvertible.

The first ``samples`` dialogues (sorted by ``dialogue_id``, or in a seeded random order)
become the skill's sample dialogues; a candidate that cannot be one is replaced by the
next. Dialogues involving other services, or that cannot be converted, are skipped with
their reason; nothing is dropped silently.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillspec import (
    Action,
    ActionKind,
    Api,
    ApiArgument,
    BuiltinType,
    ContextEntity,
    DialogAct,
    EntityIds,
    EntitySource,
    ResponseTemplate,
    ReturnField,
    SampleDialogue,
    Skill,
    SlotType,
    SlotValue,
    Span,
    SpecValidationError,
    SystemTurn,
    TemplateArgument,
    UserAct,
    UserTurn,
    UtteranceArgument,
    UtteranceSet,
    parse_skill,
    placeholders,
    result_id,
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
    AUserTurn,
    Source,
)
from skillspec.builtins import normalize, number_words

from .checker import Checker

# What each SGD user act is in Colloquy's terms; REQUEST (the user asks for a slot's
# value) has no counterpart.
USER_ACTS: dict[str, UserAct] = {
    "INFORM_INTENT": UserAct.INVOKE,
    "INFORM": UserAct.INFORM,
    "AFFIRM": UserAct.AFFIRM,
    "AFFIRM_INTENT": UserAct.AFFIRM,
    "SELECT": UserAct.AFFIRM,
    "NEGATE": UserAct.DENY,
    "NEGATE_INTENT": UserAct.DENY,
    "REQUEST_ALTS": UserAct.REQUEST_MORE,
    "THANK_YOU": UserAct.GOODBYE,
    "GOODBYE": UserAct.GOODBYE,
}

# The act that names a multi-act system turn's template comes first here.
PRIMARY_ORDER = [
    "NOTIFY_FAILURE",
    "NOTIFY_SUCCESS",
    "CONFIRM",
    "OFFER_INTENT",
    "REQUEST",
    "OFFER",
    "INFORM_COUNT",
    "INFORM",
    "REQ_MORE",
    "GOODBYE",
]
# Reading order of the acts in a template name, e.g. inform_count_offer_restaurant_name.
NAME_ORDER = [
    "NOTIFY_FAILURE",
    "NOTIFY_SUCCESS",
    "INFORM_COUNT",
    "OFFER",
    "INFORM",
    "CONFIRM",
    "REQUEST",
    "OFFER_INTENT",
    "REQ_MORE",
    "GOODBYE",
]
SYSTEM_ACTS: dict[str, DialogAct] = {
    "REQUEST": DialogAct.REQUEST_ARGS,
    "OFFER": DialogAct.OFFER,
    "INFORM": DialogAct.INFORM,
    "INFORM_COUNT": DialogAct.INFORM,
    "NOTIFY_SUCCESS": DialogAct.NOTIFY_SUCCESS,
    "NOTIFY_FAILURE": DialogAct.NOTIFY_FAILURE,
    "OFFER_INTENT": DialogAct.OFFER_API,
    "REQ_MORE": DialogAct.REQUEST_MORE,
    "GOODBYE": DialogAct.GOODBYE,
}
DONTCARE = "dontcare"
TIME_VALUE = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
# The day SGD's dialogues take place ("today" is 2019-03-01); times do not depend on it.
SGD_TODAY = datetime.date(2019, 3, 1)
COUNT = "#count"  # the key of INFORM_COUNT's value; no SGD slot is spelled like this
MAX_VALUE = 200  # longest catalogue value the spec allows
MAX_VARIANT = 1000
MAX_USER_TEXT = 2000
NAME_MAX = 64
EXAMPLES_KEPT = 5
# A yes/no slot's description ("Boolean flag indicating if pets are allowed"), for the
# schema-generated variants: "whether pets are allowed: no".
FLAG = re.compile(r"(?:boolean )?(?:flag )?(?:indicating |denoting )?(?:if|whether) (.+?)(?: or not)?", re.IGNORECASE)
FLAG_VALUES = {"True": "yes", "False": "no"}


class SgdImportError(ValueError):
    """The input cannot be imported at all (bad files, unknown service); the message says why."""


@dataclass
class SgdReport:
    """What the import did and, above all, what it could not convert, and why."""

    service: str
    dialogues_total: int = 0
    samples: list[str] = field(default_factory=list)
    converted: int = 0
    skipped: int = 0
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    skip_examples: dict[str, list[str]] = field(default_factory=dict)
    values_not_located: int = 0
    not_located_by_reason: Counter[str] = field(default_factory=Counter)
    not_located_by_slot: Counter[str] = field(default_factory=Counter)
    not_located_examples: list[str] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)
    renamed: dict[str, str] = field(default_factory=dict)
    replaced_samples: list[str] = field(default_factory=list)
    builtin_slots: dict[str, str] = field(default_factory=dict)
    slot_types: int = 0
    apis: int = 0
    response_templates: int = 0
    # Templates whose signature no sample shows: their one variant is generated from the schema.
    templates_without_sample_text: int = 0
    utterance_sets: int = 0

    def skip(self, dialogue_id: str, reason: str, detail: str) -> None:
        self.skipped += 1
        self.skipped_by_reason[reason] += 1
        examples = self.skip_examples.setdefault(reason, [])
        if len(examples) < EXAMPLES_KEPT:
            examples.append(f"{dialogue_id}: {detail}" if detail else dialogue_id)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON output)."""
        return {
            "service": self.service,
            "dialogues_total": self.dialogues_total,
            "samples": list(self.samples),
            "converted": self.converted,
            "skipped": self.skipped,
            "skipped_by_reason": dict(self.skipped_by_reason.most_common()),
            "skip_examples": {k: list(v) for k, v in self.skip_examples.items()},
            "values_not_located": self.values_not_located,
            "not_located_by_reason": dict(self.not_located_by_reason.most_common()),
            "not_located_by_slot": dict(self.not_located_by_slot.most_common()),
            "not_located_examples": list(self.not_located_examples),
            "notes": dict(self.notes.most_common()),
            "renamed": dict(self.renamed),
            "replaced_samples": list(self.replaced_samples),
            "builtin_slots": dict(self.builtin_slots),
            "skill": {
                "slot_types": self.slot_types,
                "apis": self.apis,
                "response_templates": self.response_templates,
                "templates_without_sample_text": self.templates_without_sample_text,
                "utterance_sets": self.utterance_sets,
            },
        }

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """A human-readable account, several lines."""
        lines = [
            f"SGD service {self.service}: {self.dialogues_total} dialogues given",
            f"  samples: {len(self.samples)} ({', '.join(self.samples)})" if self.samples else "  samples: 0",
            f"  converted to gold: {self.converted}; skipped: {self.skipped}",
        ]
        for reason, n in self.skipped_by_reason.most_common():
            lines.append(f"    skipped, {reason}: {n} (e.g. {'; '.join(self.skip_examples.get(reason, []))})")
        lines.append(
            f"  skill: {self.slot_types} slot types, {self.apis} APIs, {self.response_templates} response templates"
            f" ({self.templates_without_sample_text} with schema-generated variants: signature not in the samples),"
            f" {self.utterance_sets} utterance sets"
        )
        lines.append(f"  user values not located in the text (not annotated): {self.values_not_located}")
        for reason, n in self.not_located_by_reason.most_common():
            lines.append(f"    {reason}: {n}")
        if self.not_located_by_slot:
            by_slot = ", ".join(f"{s} {n}" for s, n in self.not_located_by_slot.most_common())
            lines.append(f"    by slot: {by_slot}")
        for example in self.not_located_examples:
            lines.append(f"    e.g. {example}")
        for note, n in self.notes.most_common():
            lines.append(f"  {note}: {n}")
        for replaced in self.replaced_samples:
            lines.append(f"  sample candidate replaced: {replaced}")
        if self.builtin_slots:
            lines.append("  built-in slot types: " + ", ".join(f"{k} {v}" for k, v in self.builtin_slots.items()))
        if self.renamed:
            lines.append("  renamed: " + ", ".join(f"{k} -> {v}" for k, v in self.renamed.items()))
        return "\n".join(lines)


@dataclass
class SgdImport:
    """The result of :func:`import_sgd`."""

    skill: Skill
    gold: list[AnnotatedDialogue]
    report: SgdReport


# ---------------------------------------------------------------- names


def valid_name(text: str) -> str:
    """``text`` respelled as a spec name: letters, digits and _, starting with a letter."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text, flags=re.ASCII).strip("_") or "x"
    if not name[0].isalpha():
        name = "x_" + name
    return _fit(name)


def snake(text: str) -> str:
    """``"FindRestaurants" -> "find_restaurants"``, as a valid name."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", text)
    return valid_name(spaced).lower()


def _fit(name: str) -> str:
    if len(name) <= NAME_MAX:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:6]
    return f"{name[: NAME_MAX - 7].rstrip('_')}_{digest}"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate.lower() in taken:
        suffix = f"_{n}"
        candidate = name[: NAME_MAX - len(suffix)] + suffix
        n += 1
    taken.add(candidate.lower())
    return candidate


# ---------------------------------------------------------------- schema


@dataclass
class _Slot:
    sgd: str
    name: str
    description: str
    categorical: bool
    possible_values: list[str]


@dataclass
class _Intent:
    sgd: str
    name: str
    description: str
    transactional: bool
    required: list[str]
    optional: dict[str, str]
    results: list[str]
    counts: bool = False

    @property
    def arguments(self) -> list[str]:
        return [*self.required, *(s for s in self.optional if s not in self.required)]


@dataclass
class _Service:
    name: str
    description: str
    slots: dict[str, _Slot]
    intents: dict[str, _Intent]
    count_type: str
    renamed: dict[str, str]

    def slot_order(self, slot: str) -> int:
        return list(self.slots).index(slot) if slot in self.slots else len(self.slots)


def _read_json(source: Any, what: str) -> Any:
    if isinstance(source, str | Path):
        try:
            with open(source, encoding="utf-8") as f:
                return json.load(f)
        except OSError as exc:
            raise SgdImportError(f"cannot read the {what} {source}: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SgdImportError(f"the {what} {source} is not valid JSON: {exc}") from None
    return source


def load_schema(source: Any) -> list[dict[str, Any]]:
    """The services of an SGD ``schema.json``: a path, a list of services or one service."""
    data = _read_json(source, "schema")
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(s, dict) and "service_name" in s for s in data):
        raise SgdImportError("the schema must be a list of SGD services, each with a service_name")
    return data


def load_dialogues(sources: Iterable[Any]) -> list[dict[str, Any]]:
    """The dialogues of SGD ``dialogues_*.json`` files: each a path or an already parsed list."""
    out: list[dict[str, Any]] = []
    for source in sources:
        data = _read_json(source, "dialogues file")
        label = str(source) if isinstance(source, str | Path) else "dialogues"
        if not isinstance(data, list):
            raise SgdImportError(f"{label}: an SGD dialogues file is a JSON list of dialogues")
        for i, d in enumerate(data):
            if not isinstance(d, dict) or not isinstance(d.get("dialogue_id"), str):
                raise SgdImportError(f"{label}: item {i} is not an SGD dialogue (no dialogue_id)")
        out.extend(data)
    return out


def _service(schema: list[dict[str, Any]], name: str) -> _Service:
    found = [s for s in schema if s.get("service_name") == name]
    if not found:
        known = ", ".join(sorted(str(s.get("service_name")) for s in schema))
        raise SgdImportError(f"service {name!r} is not in the schema; it has: {known}")
    raw = found[0]
    try:
        taken: set[str] = set()
        renamed: dict[str, str] = {}
        slots: dict[str, _Slot] = {}
        for s in raw["slots"]:
            spec = _unique(valid_name(s["name"]), taken)
            if spec != s["name"]:
                renamed[f"slot {s['name']}"] = spec
            slots[s["name"]] = _Slot(
                s["name"],
                spec,
                str(s.get("description", "")),
                bool(s.get("is_categorical", False)),
                [str(v) for v in s.get("possible_values", [])],
            )
        count_type = _unique("count", taken)
        intents: dict[str, _Intent] = {}
        for it in raw["intents"]:
            spec = _unique(valid_name(it["name"]), taken)
            if spec != it["name"]:
                renamed[f"intent {it['name']}"] = spec
            intents[it["name"]] = _Intent(
                it["name"],
                spec,
                str(it.get("description", "")),
                bool(it.get("is_transactional", False)),
                [s for s in it.get("required_slots", []) if s in slots],
                {s: str(v) for s, v in it.get("optional_slots", {}).items() if s in slots},
                [s for s in it.get("result_slots", []) if s in slots],
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise SgdImportError(f"service {name!r} in the schema is malformed: missing or bad {exc}") from None
    return _Service(name, str(raw.get("description", "")), slots, intents, count_type, renamed)


# ---------------------------------------------------------------- catalogues


class _Catalogue:
    """Per slot: values (one per spelling, case aside) and their synonyms."""

    def __init__(self, slots: Iterable[str]):
        self.values: dict[str, list[str]] = {s: [] for s in slots}
        self.synonyms: dict[str, dict[str, list[str]]] = {s: {} for s in self.values}
        self.forms: dict[str, dict[str, str]] = {s: {} for s in self.values}
        self.builtin: dict[str, BuiltinType] = {}
        self.conflicts = 0

    def usable(self, slot: str, value: str) -> str | None:
        """``value`` as a value of ``slot`` (catalogue or not), or None if it cannot be one."""
        if slot not in self.values:
            return None
        value = value.strip()
        if not value or len(value) > MAX_VALUE or value == DONTCARE:
            return None
        if self.builtin.get(slot) is BuiltinType.TIME and not TIME_VALUE.fullmatch(value):
            return None
        return value

    def add(self, slot: str, value: str) -> str | None:
        """The catalogue value standing for ``value``, added if new; None if unusable."""
        usable = self.usable(slot, value)
        if usable is None:
            return None
        value = usable
        key = value.lower()
        known = self.forms[slot].get(key)
        if known is not None:
            return known
        self.values[slot].append(value)
        self.synonyms[slot][value] = []
        self.forms[slot][key] = value
        if re.fullmatch(r"\d{1,2}", value):
            self.add_synonym(slot, number_words(int(value)), value)
        return value

    def lookup(self, slot: str, value: str) -> str | None:
        return self.forms.get(slot, {}).get(value.strip().lower())

    def add_synonym(self, slot: str, form: str, value: str) -> bool:
        """Make ``form`` a synonym of ``value``; False if it already stands for another value."""
        form = form.strip()
        if not form or len(form) > MAX_VALUE:
            return False
        owner = self.forms[slot].setdefault(form.lower(), value)
        if owner != value:
            self.conflicts += 1
            return False
        if form.lower() != value.lower() and form.lower() not in (f.lower() for f in self.synonyms[slot][value]):
            self.synonyms[slot][value].append(form)
        return True

    def annotatable(self, slot: str, surface: str, value: str, *, learn: bool) -> str | None:
        """Why a span saying ``surface`` cannot have ``value``, or None when it can.

        A built-in type must read the text as the value (or not at all). In a catalogue the
        text must not be a form of another value; a new surface form becomes a synonym
        when ``learn`` (a sample), and is left as the real user's words otherwise (an
        evaluation dialogue: its wording is not the skill's to learn).
        """
        builtin = self.builtin.get(slot)
        if builtin is not None:
            meaning = normalize(builtin, surface, today=SGD_TODAY)
            if meaning is not None and meaning != value:
                return f"the built-in {builtin.value} type reads the text as another value"
            return None
        owner = self.lookup(slot, surface)
        if owner == value:
            return None
        if owner is not None or (learn and not self.add_synonym(slot, surface, value)):
            return "the surface form already stands for another catalogue value"
        return None

    def forms_of(self, slot: str, value: str) -> list[str]:
        return [value, *self.synonyms.get(slot, {}).get(value, [])]


def _actions(frame: dict[str, Any]) -> list[dict[str, Any]]:
    actions = frame.get("actions")
    return [a for a in actions if isinstance(a, dict)] if isinstance(actions, list) else []


def _pairs(action: dict[str, Any]) -> list[tuple[str, str]]:
    """(surface value, canonical value) of an action."""
    raw = action.get("values")
    values = [str(v) for v in raw] if isinstance(raw, list) else []
    raw = action.get("canonical_values")
    canonical = [str(v) for v in raw] if isinstance(raw, list) else values
    if len(canonical) != len(values):
        canonical = values
    return list(zip(values, canonical, strict=True))


def _build_catalogue(
    service: _Service, dialogues: Sequence[dict[str, Any]], samples: Sequence[dict[str, Any]]
) -> _Catalogue:
    cat = _Catalogue(service.slots)
    for info in service.slots.values():
        for v in info.possible_values:
            cat.add(info.sgd, v)
    for d in dialogues:
        for frame in _frames(d, service.name):
            rows = frame.get("service_results")
            for row in rows if isinstance(rows, list) else []:
                if isinstance(row, dict):
                    for slot, v in row.items():
                        cat.add(slot, str(v))
    surfaces: list[tuple[str, str, str]] = []
    for d in samples:
        for frame in _frames(d, service.name):
            for action in _actions(frame):
                slot = str(action.get("slot"))
                for surface, canonical in _pairs(action):
                    value = cat.add(slot, canonical)
                    if value is not None:
                        surfaces.append((slot, surface, value))
    # Times are the built-in TIME when the known values are canonical times (bar the odd
    # corrupt one, such as SGD's "-5:06"): TIME reads what people say, a catalogue would
    # need every way of saying each time as a synonym.
    for info in service.slots.values():
        values = cat.values[info.sgd]
        times = sum(1 for v in values if TIME_VALUE.fullmatch(v))
        if not info.categorical and values and times >= 0.99 * len(values):
            cat.builtin[info.sgd] = BuiltinType.TIME
    # Synonyms after every value, so that no value is taken for another value's synonym.
    for slot, surface, value in surfaces:
        if surface != DONTCARE and slot not in cat.builtin:
            cat.add_synonym(slot, surface, value)
    return cat


def _frames(dialogue: dict[str, Any], service: str) -> Iterable[dict[str, Any]]:
    """The frames of ``service`` in a dialogue, passing over whatever is malformed
    (the conversion reports that)."""
    turns = dialogue.get("turns")
    for turn in turns if isinstance(turns, list) else []:
        frames = turn.get("frames") if isinstance(turn, dict) else None
        for frame in frames if isinstance(frames, list) else []:
            if isinstance(frame, dict) and frame.get("service") == service:
                yield frame


# ---------------------------------------------------------------- conversion of one dialogue


class _Skip(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class _Entity(ContextEntity):
    """A context entity of the conversion, with the SGD slot it stands for."""

    slot: str = ""  # SGD slot name, or COUNT
    meant: str | None = None  # SGD's value, when the span's words name another catalogue value


@dataclass
class _State:
    """What a dialogue's conversion knows so far."""

    entities: list[_Entity] = field(default_factory=list)
    informed: dict[str, str] = field(default_factory=dict)  # slot -> the value the user last gave
    said: set[tuple[str, str]] = field(default_factory=set)  # (slot, value) the user ever gave
    ids: EntityIds = field(default_factory=EntityIds)


@dataclass
class _Bind:
    name: str
    entity: _Entity


@dataclass
class _USpan:
    start: int
    end: int
    slot: str
    text: str
    entity: _Entity


@dataclass
class _UTurn:
    text: str
    acts: list[str]
    spans: list[_USpan]
    set_key: tuple[UserAct, str | None] | None
    variant: str | None


@dataclass
class _Call:
    intent: _Intent
    id: str
    binds: list[_Bind]
    rows: list[dict[str, Any]]
    row: int
    results: list[_Entity]


@dataclass(frozen=True)
class _Part:
    """What one SGD act of a system turn contributes to its template."""

    act: str  # the SGD act
    label: str  # its part of the template's name
    arguments: tuple[str, ...] = ()  # the template arguments it says
    literals: tuple[str, ...] = ()  # categorical values said in words of its own, as name parts
    # For the schema-generated variant only (the fields above tell parts apart):
    said: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (SGD slot, value) of the literals
    requested: tuple[str, ...] = field(default=(), compare=False)  # SGD slots a REQUEST asks for
    intent: str | None = field(default=None, compare=False)  # the SGD intent an OFFER_INTENT offers


@dataclass(frozen=True)
class _TemplateKey:
    parts: tuple[_Part, ...]  # in NAME_ORDER
    act: DialogAct
    api: str | None
    requested: tuple[str, ...]
    arguments: tuple[tuple[str, str], ...]  # (argument name, SGD slot or COUNT)


@dataclass
class _STurn:
    text: str
    calls: list[_Call]
    key: _TemplateKey
    binds: list[_Bind]
    variant: str


@dataclass
class _Dialogue:
    id: str
    turns: list[_UTurn | _STurn]
    not_located: list[tuple[str, str, str]]  # (reason, slot, example)
    notes: Counter[str]


def _locate(text: str, forms: Iterable[str], taken: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """Where one of ``forms`` occurs in ``text`` as whole words, not overlapping ``taken``."""
    for form in sorted({f for f in forms if f.strip()}, key=lambda f: (-len(f), f)):
        pattern = r"(?<!\w)" + re.escape(form) + r"(?!\w)"
        for m in re.finditer(pattern, text, flags=re.IGNORECASE):
            if not any(m.start() < e and s < m.end() for s, e in taken):
                return m.start(), m.end()
    return None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and start < len(text) and text[start].isspace():
        start += 1
    while end > start and end <= len(text) and text[end - 1].isspace():
        end -= 1
    return start, end


def _delexicalise(text: str, replacements: Sequence[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for start, end, name in sorted(replacements):
        out.append(text[pos:start].replace("{", "{{").replace("}", "}}"))
        out.append("{" + name + "}")
        pos = end
    out.append(text[pos:].replace("{", "{{").replace("}", "}}"))
    return "".join(out)


class _Converter:
    """Converts dialogues; a sample's values and wordings extend the catalogue, an
    evaluation dialogue's (``evaluation``) never do."""

    def __init__(self, service: _Service, catalogue: _Catalogue, *, evaluation: bool):
        self.service = service
        self.cat = catalogue
        self.evaluation = evaluation

    def _value(self, slot: str, raw: str) -> str | None:
        """The value ``raw`` stands for: the catalogue's spelling when it has it; else, in a
        sample, a new catalogue value, and in an evaluation dialogue ``raw`` itself (what a
        real user says need not be in the provider's database). None if unusable."""
        if self.evaluation:
            return self.cat.lookup(slot, raw) or self.cat.usable(slot, raw)
        return self.cat.add(slot, raw)

    def _known(self, slot: str, raw: str) -> str | None:
        """Like :meth:`_value`, but a sample's value must already be in the catalogue."""
        return self._value(slot, raw) if self.evaluation else self.cat.lookup(slot, raw)

    # -- entities

    def _find(
        self, st: _State, slot: str, value: str, prefer: EntitySource, *, lenient: bool = False
    ) -> _Entity | None:
        """The entity a value came from: the most recent one with that value, from the
        preferred source first; only a user span if the user said the value (unless
        ``lenient``: then an earlier result with that value will do)."""
        said = (slot, value) in st.said and not lenient
        matches = [
            e
            for e in reversed(st.entities)
            if e.slot == slot and value in (e.value, e.meant) and (e.source is EntitySource.SPAN or not said)
        ]
        matches.sort(key=lambda e: e.source != prefer)  # stable: most recent first within each source
        return matches[0] if matches else None

    # -- the whole dialogue

    def convert(self, dialogue: dict[str, Any]) -> _Dialogue:
        try:
            return self._convert(dialogue)
        except _Skip:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise _Skip("malformed SGD dialogue", f"{type(exc).__name__}: {exc}") from None

    def _convert(self, dialogue: dict[str, Any]) -> _Dialogue:
        out = _Dialogue(str(dialogue["dialogue_id"]), [], [], Counter())
        st = _State()
        active: str | None = None
        last_call: _Call | None = None
        turns = dialogue["turns"]
        if not turns:
            raise _Skip("empty dialogue")
        for t, turn in enumerate(turns):
            expected = "USER" if t % 2 == 0 else "SYSTEM"
            if turn["speaker"] != expected:
                raise _Skip("turns do not alternate between user and system", f"turn {t}")
            frames = [f for f in turn["frames"] if f["service"] == self.service.name]
            if len(frames) != len(turn["frames"]):
                raise _Skip("involves other services", f"turn {t}")
            if len(frames) != 1:
                raise _Skip("a turn without exactly one frame of the service", f"turn {t}")
            frame, text = frames[0], str(turn["utterance"])
            if expected == "USER":
                if not self.evaluation and not 0 < len(text.strip()) <= MAX_USER_TEXT:
                    raise _Skip("a user utterance that a sample dialogue cannot hold (empty or too long)", f"turn {t}")
                state = frame.get("state") or {}
                intent = state.get("active_intent")
                active = intent if intent in self.service.intents else active
                out.turns.append(self._user_turn(t, text, frame, active, st, out))
            else:
                sturn, last_call = self._system_turn(t, text, frame, active, st, last_call, out)
                out.turns.append(sturn)
        return out

    # -- user turns

    def _canonical(self, actions: Sequence[dict[str, Any]], slot: str, surface: str) -> str:
        pairs = [p for a in actions if a.get("slot") == slot for p in _pairs(a)]
        for value, canonical in pairs:
            if value == surface:
                return canonical
        for value, canonical in pairs:
            if value.lower() == surface.lower():
                return canonical
        return surface

    def _user_turn(
        self,
        t: int,
        text: str,
        frame: dict[str, Any],
        active: str | None,
        st: _State,
        out: _Dialogue,
    ) -> _UTurn:
        actions = _actions(frame)
        found: list[tuple[int, int, str, str]] = []  # start, end, slot, value
        for s in frame.get("slots", []):
            slot, start, end = s["slot"], int(s["start"]), int(s["exclusive_end"])
            if slot not in self.service.slots:
                out.notes["user spans of slots not in the schema, ignored"] += 1
                continue
            start, end = _trim(text, start, end)
            if not 0 <= start < end <= len(text):
                out.notes["user spans outside the text, ignored"] += 1
                continue
            surface = text[start:end]
            canonical = self._canonical(actions, slot, surface)
            value = self._value(slot, canonical)
            if value is None:
                if canonical != DONTCARE:  # a dontcare is reported with its INFORM act
                    out.not_located.append(("unusable value", slot, f"{slot}={canonical!r} in {text!r}"))
                continue
            found.append((start, end, slot, value))
        unlocated = False
        for a in actions:
            if a.get("act") != "INFORM" or a.get("slot") not in self.service.slots:
                continue
            slot = a["slot"]
            for surface, canonical in _pairs(a):
                if canonical == DONTCARE:
                    out.not_located.append(("'dontcare' (no value to annotate)", slot, f"{surface!r} in {text!r}"))
                    unlocated = True
                    continue
                value = self._value(slot, canonical)
                if value is None:
                    out.not_located.append(("unusable value", slot, f"{canonical!r} in {text!r}"))
                    unlocated = True
                    continue
                if any(f[2] == slot and f[3] == value for f in found):
                    continue
                where = _locate(
                    text, [surface, canonical, *self.cat.forms_of(slot, value)], [(f[0], f[1]) for f in found]
                )
                if where is None:
                    reason = (
                        "categorical value not found in the text"
                        if self.service.slots[slot].categorical
                        else "value without an SGD span and not found in the text"
                    )
                    out.not_located.append((reason, slot, f"{slot}={canonical!r} in {text!r}"))
                    unlocated = True
                else:
                    found.append((where[0], where[1], slot, value))
                    out.notes["user values located in the text through the catalogue"] += 1
        found.sort()
        spans: list[_USpan] = []
        for start, end, slot, value in found:
            if spans and start < spans[-1].end:
                out.notes["overlapping user spans dropped"] += 1
                continue
            meant = None
            why = self.cat.annotatable(slot, text[start:end], value, learn=not self.evaluation)
            named = self.cat.lookup(slot, text[start:end]) if slot not in self.cat.builtin else None
            if why is not None and named is not None:
                # The words name another catalogue value ("Asian Fusion" for SGD's "Sushi"):
                # annotate what was said; bindings that want SGD's value take this span.
                meant, value = value, named
                out.notes["user spans annotated with the catalogue value their words name, not SGD's"] += 1
            elif why is not None:
                out.not_located.append((why, slot, f"{slot}={value!r} said {text[start:end]!r} in {text!r}"))
                unlocated = True
                continue
            if slot not in self.cat.builtin:
                if self.cat.lookup(slot, value) != value:
                    out.notes["user values not in the catalogue (annotated as said; evaluation dialogues)"] += 1
                elif self.cat.lookup(slot, text[start:end]) != value:
                    out.notes["user wordings that are no catalogue form of their value (evaluation dialogues)"] += 1
            said = text[start:end]
            entity = _Entity(
                st.ids.span(), self.service.slots[slot].name, t, EntitySource.SPAN, value, said, slot=slot, meant=meant
            )
            st.entities.append(entity)
            spans.append(_USpan(start, end, slot, text[start:end], entity))

        acts: list[str] = []
        sgd_acts = {str(a.get("act")) for a in actions}
        changed = False
        for a in actions:
            act = USER_ACTS.get(str(a.get("act")))
            if act is UserAct.INFORM and a.get("slot") in self.service.slots:
                for _, canonical in _pairs(a):
                    value = self._known(a["slot"], canonical)
                    if value is not None:
                        if st.informed.get(a["slot"], value) != value:
                            changed = True
                        st.informed[a["slot"]] = value
                        st.said.add((a["slot"], value))
            if act is not None and act.value not in acts:
                acts.append(act.value)
        if changed:
            acts = [UserAct.CHANGE.value if a == UserAct.INFORM.value else a for a in acts]
        if "REQUEST" in sgd_acts:
            out.notes["user turns asking for a slot's value (SGD REQUEST: no Colloquy user act)"] += 1

        set_key = self._set_key(sgd_acts, actions, active, changed)
        variant = None
        if set_key is not None and not unlocated and "REQUEST" not in sgd_acts:
            variant = _delexicalise(text, [(s.start, s.end, self.service.slots[s.slot].name) for s in spans])
        return _UTurn(text, acts, spans, set_key, variant)

    def _set_key(
        self, sgd_acts: set[str], actions: Sequence[dict[str, Any]], active: str | None, changed: bool
    ) -> tuple[UserAct, str | None] | None:
        api = self.service.intents[active].name if active in self.service.intents else None
        if "INFORM_INTENT" in sgd_acts:
            intents = [
                v for a in actions if a.get("act") == "INFORM_INTENT" for v, _ in _pairs(a) if v in self.service.intents
            ]
            return (UserAct.INVOKE, self.service.intents[intents[0]].name) if intents else None
        if "INFORM" in sgd_acts:
            return (UserAct.CHANGE if changed else UserAct.INFORM, api)
        for sgd, act in (
            ("REQUEST_ALTS", UserAct.REQUEST_MORE),
            ("GOODBYE", UserAct.GOODBYE),
            ("THANK_YOU", UserAct.GOODBYE),
            ("NEGATE", UserAct.DENY),
            ("NEGATE_INTENT", UserAct.DENY),
            ("AFFIRM", UserAct.AFFIRM),
            ("AFFIRM_INTENT", UserAct.AFFIRM),
            ("SELECT", UserAct.AFFIRM),
        ):
            if sgd in sgd_acts:
                return (act, None)
        return None

    # -- system turns

    def _mentioned(self, actions: Sequence[dict[str, Any]]) -> dict[str, str]:
        """Catalogue values the system mentions (not suggests), by slot."""
        out: dict[str, str] = {}
        for a in actions:
            if a.get("act") in ("REQUEST", "OFFER_INTENT", "INFORM_COUNT") or a.get("slot") not in self.service.slots:
                continue
            for _, canonical in _pairs(a):
                value = self._known(a["slot"], canonical)
                if value is not None:
                    out.setdefault(a["slot"], value)
        return out

    def _matches(self, row: dict[str, Any], wanted: dict[str, str]) -> int:
        return sum(1 for s, v in wanted.items() if s in row and self.cat.lookup(s, str(row[s])) == v)

    def _results(self, call_id: str, intent: _Intent, rows: list[dict[str, Any]], row: int, t: int) -> list[_Entity]:
        """The entities of a call's result row: every return field, or none when nothing was found."""
        results: list[_Entity] = []
        if not rows:
            return results
        for slot in intent.results:
            raw = rows[row].get(slot)
            # Every given dialogue's service results are in the catalogue already.
            value = self.cat.add(slot, str(raw)) if raw is not None else None
            if value is None:
                raise _Skip("a service result has no usable value for a return field", f"turn {t}: {slot}={raw!r}")
            name = self.service.slots[slot].name
            results.append(_Entity(result_id(call_id, name), name, t, EntitySource.RESULT, value, value, slot=slot))
        if intent.counts:
            count, name = str(len(rows)), self.service.count_type
            results.append(_Entity(result_id(call_id, name), name, t, EntitySource.RESULT, count, count, slot=COUNT))
        return results

    def _call(
        self,
        t: int,
        frame: dict[str, Any],
        wanted: dict[str, str],
        st: _State,
        out: _Dialogue,
    ) -> _Call:
        call = frame["service_call"]
        method = call["method"]
        intent = self.service.intents.get(method)
        if intent is None:
            raise _Skip("service call of an intent not in the schema", str(method))
        params = {str(k): str(v) for k, v in call.get("parameters", {}).items()}
        binds: list[_Bind] = []
        for slot in intent.arguments:
            if slot not in params:
                if slot in intent.required:
                    raise _Skip("service call without a required argument", f"turn {t}: {method}.{slot}")
                continue
            value = self._known(slot, params[slot])
            entity = self._find(st, slot, value, EntitySource.SPAN) if value is not None else None
            if entity is None and value is not None and slot in intent.required:
                entity = self._find(st, slot, value, EntitySource.SPAN, lenient=True)
                if entity is not None:
                    out.notes["required API arguments bound to an earlier result (the user's words not located)"] += 1
            if entity is None:
                if slot in intent.required:
                    raise _Skip(
                        "a required API argument's value is neither said by the user nor returned by an earlier call",
                        f"turn {t}: {method}.{slot}={params[slot]!r}",
                    )
                if params[slot] == intent.optional.get(slot):
                    out.notes["optional API arguments at their default left out"] += 1
                else:
                    out.notes["optional API arguments left out (value not located in the dialogue)"] += 1
                continue
            binds.append(_Bind(self.service.slots[slot].name, entity))
        for slot in params:
            if slot not in intent.arguments:
                out.notes["service call parameters that are no argument of the intent, ignored"] += 1
        raw_rows = frame.get("service_results") or []
        rows = [r for r in raw_rows if isinstance(r, dict)] if isinstance(raw_rows, list) else []
        row = max(range(len(rows)), key=lambda i: (self._matches(rows[i], wanted), -i)) if rows else 0
        call_id = st.ids.call()
        results = self._results(call_id, intent, rows, row, t)
        st.entities.extend(results)
        return _Call(intent, call_id, binds, rows, row, results)

    def _recall(self, t: int, previous: _Call, wanted: dict[str, str], st: _State) -> _Call | None:
        """The earlier call again, when the system offers another of its rows."""
        if not previous.rows:
            return None
        current = self._matches(previous.rows[previous.row], wanted)
        best = max(range(len(previous.rows)), key=lambda i: (self._matches(previous.rows[i], wanted), -i))
        if self._matches(previous.rows[best], wanted) <= current:
            return None
        call_id = st.ids.call()
        results = self._results(call_id, previous.intent, previous.rows, best, t)
        st.entities.extend(results)
        return _Call(previous.intent, call_id, list(previous.binds), previous.rows, best, results)

    def _system_turn(
        self,
        t: int,
        text: str,
        frame: dict[str, Any],
        active: str | None,
        st: _State,
        last_call: _Call | None,
        out: _Dialogue,
    ) -> tuple[_STurn, _Call | None]:
        actions = _actions(frame)
        by_act: dict[str, list[dict[str, Any]]] = {}
        for a in actions:
            by_act.setdefault(str(a.get("act")), []).append(a)
        if not by_act:
            raise _Skip("a system turn without acts", f"turn {t}")
        unknown = sorted(set(by_act) - set(NAME_ORDER))
        if unknown:
            raise _Skip("unknown SGD system act", f"turn {t}: {', '.join(unknown)}")
        wanted = self._mentioned(actions)
        calls: list[_Call] = []
        if frame.get("service_call"):
            calls.append(self._call(t, frame, wanted, st, out))
        elif "OFFER" in by_act and last_call is not None:
            again = self._recall(t, last_call, wanted, st)
            if again is not None:
                calls.append(again)
                out.notes["API calls repeated for an alternative result offered without a new SGD call"] += 1
        this_call = calls[-1] if calls else None
        if this_call is not None:
            last_call = this_call

        spans = [
            (int(s["start"]), int(s["exclusive_end"]), str(s["slot"]))
            for s in frame.get("slots", [])
            if 0 <= int(s["start"]) < int(s["exclusive_end"]) <= len(text)
        ]
        used: list[tuple[int, int]] = []
        replacements: list[tuple[int, int, str]] = []
        binds: list[_Bind] = []
        arg_names: set[str] = set()
        arguments: list[tuple[str, str]] = []
        parts: list[_Part] = []
        requested: list[str] = []
        offered: str | None = None

        def place(slot: str, surface: str, value: str, entity: _Entity, forms: list[str]) -> bool:
            where = None
            for start, end, s in spans:
                if s == slot and (start, end) not in used:
                    said = text[start:end]
                    if said.lower() == surface.lower() or self.cat.lookup(slot, said) == value:
                        where = (start, end)
                        break
            if where is None:
                where = _locate(text, [surface, *forms], used)
            if where is None:
                return False
            base = self.service.slots[slot].name if slot != COUNT else self.service.count_type
            name = _unique(base, arg_names)
            used.append(where)
            replacements.append((where[0], where[1], name))
            binds.append(_Bind(name, entity))
            arguments.append((name, slot))
            return True

        for act in NAME_ORDER:
            group = by_act.get(act)
            if group is None:
                continue
            before = len(arguments)
            if act == "REQUEST":
                slots = sorted(
                    {str(a.get("slot")) for a in group if a.get("slot") in self.service.slots},
                    key=self.service.slot_order,
                )
                requested = [self.service.slots[s].name for s in slots]
                parts.append(_Part(act, "_".join(["request", *requested]), requested=tuple(slots)))
                continue
            if act == "OFFER_INTENT":
                intents = [v for a in group for v, _ in _pairs(a) if v in self.service.intents]
                offered = intents[0] if intents else None
                label = "offer_" + snake(self.service.intents[offered].name) if offered else "offer_intent"
                parts.append(_Part(act, label, intent=offered))
                continue
            if act == "INFORM_COUNT":
                source = this_call or last_call
                count = next((e for e in (source.results if source else []) if e.slot == COUNT), None)
                for surface, _ in _pairs(group[0])[:1]:
                    forms = [number_words(int(surface))] if surface.isdigit() and int(surface) < 1000 else []
                    if count is None or count.value != surface or not place(COUNT, surface, surface, count, forms):
                        out.notes["system values kept as literal text (not bound or not found)"] += 1
                parts.append(_Part(act, "inform_count"))  # its argument is the one of slot COUNT
                continue
            prefer = EntitySource.SPAN if act == "CONFIRM" else EntitySource.RESULT
            literals: list[str] = []
            said: list[tuple[str, str]] = []
            ordered = sorted(
                (a for a in group if a.get("slot") in self.service.slots),
                key=lambda a: self.service.slot_order(str(a["slot"])),
            )
            for a in ordered:
                slot = str(a["slot"])
                for surface, canonical in _pairs(a):
                    value = self._known(slot, canonical)
                    entity = None
                    if value is not None and this_call is not None:
                        entity = next((e for e in this_call.results if e.slot == slot and e.value == value), None)
                    if value is not None and entity is None:
                        entity = self._find(st, slot, value, prefer)
                    forms = [canonical, *self.cat.forms_of(slot, value)] if value is not None else [canonical]
                    if entity is None or value is None or not place(slot, surface, value, entity, forms):
                        if self.service.slots[slot].categorical:
                            # A categorical value said in words of its own ("they do not serve
                            # alcohol") names the template instead: it stays true to its text.
                            literals.append(valid_name(f"{self.service.slots[slot].name}_{value or canonical}").lower())
                            said.append((slot, value or canonical))
                            out.notes["categorical system values kept in the text (they name the template)"] += 1
                        else:
                            out.notes["system values kept as literal text (not bound or not found)"] += 1
            parts.append(_Part(act, act.lower(), tuple(n for n, _ in arguments[before:]), tuple(literals), tuple(said)))

        primary = next(a for a in PRIMARY_ORDER if a in by_act)
        act, api = self._template_act(primary, t, requested, active, this_call, offered, "OFFER" in by_act)
        key = _TemplateKey(
            tuple(parts),
            act,
            api,
            tuple(requested) if act is DialogAct.REQUEST_ARGS else (),
            tuple(arguments),
        )
        variant = _delexicalise(text, replacements)
        if not variant.strip() or len(variant) > MAX_VARIANT:
            raise _Skip("a system utterance that cannot be a template variant (empty or too long)", f"turn {t}")
        return _STurn(text, calls, key, binds, variant), last_call

    def _template_act(
        self,
        primary: str,
        t: int,
        requested: list[str],
        active: str | None,
        this_call: _Call | None,
        offered: str | None,
        offers: bool,
    ) -> tuple[DialogAct, str | None]:
        active_intent = self.service.intents.get(active) if active is not None else None
        if primary == "REQUEST":

            def has_all(i: _Intent) -> bool:
                return set(requested) <= {self.service.slots[s].name for s in i.arguments}

            candidates = [active_intent] if active_intent is not None else []
            candidates += list(self.service.intents.values())
            intent = next((i for i in candidates if has_all(i)), None) if requested else None
            if intent is None:
                raise _Skip("the system asks for slots that are no API's arguments", f"turn {t}: {requested}")
            return DialogAct.REQUEST_ARGS, intent.name
        if primary == "CONFIRM":
            if active_intent is None:
                raise _Skip("a confirmation without an active intent", f"turn {t}")
            return (
                DialogAct.CONFIRM_API if active_intent.transactional else DialogAct.CONFIRM_ARGS,
                active_intent.name,
            )
        if primary in ("NOTIFY_SUCCESS", "NOTIFY_FAILURE"):
            intent = this_call.intent if this_call is not None else active_intent
            if intent is None:
                raise _Skip("a notification without an API", f"turn {t}")
            if primary == "NOTIFY_FAILURE" and offers and intent.transactional:
                # "That failed; shall I book it for 5 pm instead?": the user's yes is what
                # allows the next call, so this asks for confirmation.
                return DialogAct.CONFIRM_API, intent.name
            return SYSTEM_ACTS[primary], intent.name
        if primary == "OFFER_INTENT":
            if offered is None:
                raise _Skip("an offered intent not in the schema", f"turn {t}")
            return DialogAct.OFFER_API, self.service.intents[offered].name
        return SYSTEM_ACTS[primary], None


def _template_names(keys: Iterable[_TemplateKey], taken: set[str]) -> dict[_TemplateKey, str]:
    """A name for every key, in order of first appearance; the API tells apart keys
    that would otherwise share a name."""
    bases: dict[str, list[_TemplateKey]] = {}
    seen: set[_TemplateKey] = set()
    for key in keys:
        if key not in seen:
            seen.add(key)
            label = "_".join("_".join([p.label, *p.arguments, *p.literals]) for p in key.parts)
            bases.setdefault(valid_name(label).lower(), []).append(key)
    names: dict[_TemplateKey, str] = {}
    for base, group in bases.items():
        for key in group:
            name = f"{base}_{snake(key.api)}" if len(group) > 1 and key.api is not None else base
            names[key] = _unique(_fit(name), taken)
    return names


def _escape(text: str) -> str:
    """``text`` as literal text of a variant."""
    return text.replace("{", "{{").replace("}", "}}")


def _phrase(description: str, fallback: str) -> str:
    """A schema description as a phrase inside a sentence ("Name of the restaurant" ->
    "name of the restaurant"), escaped for a variant."""
    text = " ".join(description.split()).rstrip(".") or fallback
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return _escape(text)


def _listing(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _schema_variant(key: _TemplateKey, service: _Service) -> str:
    """A variant for a template no sample shows, made from the schema alone: one generic
    sentence per act, each argument a placeholder, described by its slot's description
    ("How about this one? The name of the restaurant is {restaurant_name}."); acts
    without arguments say the intent's description ("Would you like to reserve a table at
    a restaurant?")."""
    slot_of = dict(key.arguments)
    intents = {i.name: i for i in service.intents.values()}

    def describe(slot: str) -> str:  # "the <description>", or "whether <clause>" for a yes/no flag
        if slot == COUNT:
            return "the number of results"
        info = service.slots[slot]
        flag = FLAG.fullmatch(" ".join(info.description.split()).rstrip("."))
        if flag is not None:
            return "whether " + _escape(flag.group(1))
        return "the " + _phrase(info.description, info.name.replace("_", " "))

    def item(slot: str, shown: str) -> str:
        what = describe(slot)
        if what.startswith("whether "):
            return f"{what}: {FLAG_VALUES.get(shown, shown)}"
        return f"{what} is {shown}"

    def intent_phrase(intent: _Intent | None) -> str:
        return _phrase(intent.description, "do that") if intent is not None else "do that"

    def details(part: _Part) -> list[str]:
        out = [item(slot_of[name], f"{{{name}}}") for name in part.arguments]
        out += [item(slot, _escape(value)) for slot, value in part.said]
        return out

    api = intents.get(key.api) if key.api is not None else None
    counts = [name for name, slot in key.arguments if slot == COUNT]
    sentences: list[str] = []
    for part in key.parts:
        said = details(part)
        if part.act == "REQUEST":
            wanted = [describe(slot) for slot in part.requested] or ["a few more details"]
            sentences.append(f"Could you tell me {_listing(wanted)}?")
        elif part.act == "OFFER_INTENT":
            offered = service.intents.get(part.intent) if part.intent is not None else None
            sentences.append(f"Would you like to {intent_phrase(offered)}?")
        elif part.act == "INFORM_COUNT":
            found = f"{{{counts[0]}}} results" if counts else "several results"
            sentences.append(f"I found {found}.")
        elif part.act == "NOTIFY_SUCCESS":
            sentences.append(f"All set: I was able to {intent_phrase(api)}.")
        elif part.act == "NOTIFY_FAILURE":
            sentences.append(f"Sorry, I was not able to {intent_phrase(api)}.")
        elif part.act == "REQ_MORE":
            sentences.append("Is there anything else I can help you with?")
        elif part.act == "GOODBYE":
            sentences.append("Have a good day. Goodbye!")
        elif part.act == "OFFER":
            sentences.append("How about this one?" + (f" {_sentence(_listing(said))}." if said else ""))
            said = []
        elif part.act == "CONFIRM":
            sentences.append("Please confirm" + (f": {_listing(said)}." if said else "."))
            said = []
        elif not said:  # INFORM without arguments
            sentences.append("Here is what you asked for.")
        if said:  # INFORM, or an act that also names values
            sentences.append(f"{_sentence(_listing(said))}.")
    text = " ".join(sentences)
    if len(text) > MAX_VARIANT or sorted(placeholders(text)) != sorted(name for name, _ in key.arguments):
        # Very long descriptions (or an argument no act says, which no turn makes): the
        # placeholders alone, so that the template stays valid.
        text = "Here you go: " + ", ".join(f"{{{name}}}" for name, _ in key.arguments) + "."
    return text


def _utterance_sets(samples: Sequence[_Dialogue], service: _Service, taken: set[str]) -> list[UtteranceSet]:
    grouped: dict[tuple[UserAct, str | None], list[str]] = {}
    for d in samples:
        for turn in d.turns:
            if not isinstance(turn, _UTurn) or turn.set_key is None or turn.variant is None:
                continue
            if turn.variant.strip() and len(turn.variant) <= MAX_VARIANT:
                variants = grouped.setdefault(turn.set_key, [])
                if turn.variant not in variants:
                    variants.append(turn.variant)
    by_spec = {s.name: s for s in service.slots.values()}
    order = [UserAct.INVOKE, UserAct.INFORM, UserAct.CHANGE, UserAct.AFFIRM, UserAct.DENY]
    order += [UserAct.REQUEST_MORE, UserAct.GOODBYE]
    api_order = [i.name for i in service.intents.values()]
    out: list[UtteranceSet] = []
    for (act, api), variants in sorted(
        grouped.items(), key=lambda kv: (order.index(kv[0][0]), api_order.index(kv[0][1]) if kv[0][1] else -1)
    ):
        used: list[str] = []
        for v in variants:
            for name in placeholders(v):
                if name not in used:
                    used.append(name)
        used.sort(key=lambda n: service.slot_order(by_spec[n].sgd))
        if act is UserAct.INVOKE and api is not None:
            base = snake(api)
        else:
            base = act.value + (f"_{snake(api)}" if api else "")
        out.append(
            UtteranceSet(
                name=_unique(_fit(base), taken),
                act=act,
                api=api,
                arguments=[UtteranceArgument(name=n, slot_type=n) for n in used],
                variants=variants,
            )
        )
    return out


def _sample(d: _Dialogue, service: _Service, names: dict[_TemplateKey, str]) -> SampleDialogue:
    turns: list[UserTurn | SystemTurn] = []
    for turn in d.turns:
        if isinstance(turn, _UTurn):
            turns.append(
                UserTurn(
                    text=turn.text,
                    spans=[
                        Span(
                            id=s.entity.id,
                            start=s.start,
                            end=s.end,
                            slot_type=service.slots[s.slot].name,
                            text=s.text,
                            value=None if s.text == s.entity.value else s.entity.value,
                        )
                        for s in turn.spans
                    ],
                )
            )
        else:
            actions = [
                Action(
                    kind=ActionKind.API,
                    name=c.intent.name,
                    id=c.id,
                    arguments={b.name: b.entity.id for b in c.binds},
                )
                for c in turn.calls
            ]
            actions.append(
                Action(
                    kind=ActionKind.RESPONSE, name=names[turn.key], arguments={b.name: b.entity.id for b in turn.binds}
                )
            )
            turns.append(SystemTurn(actions=actions))
    return SampleDialogue(name=d.id, turns=turns)


def _argument(b: _Bind) -> AArgument:
    return AArgument(name=b.name, entity=b.entity.id, turn=b.entity.turn, value=b.entity.value)


def _gold(
    d: _Dialogue, service: _Service, names: dict[_TemplateKey, str], skill: Skill, digest: str
) -> AnnotatedDialogue:
    turns: list[AUserTurn | ASystemTurn] = []
    for turn in d.turns:
        if isinstance(turn, _UTurn):
            turns.append(
                AUserTurn(
                    text=turn.text,
                    acts=turn.acts,
                    spans=[
                        ASpan(
                            start=s.start,
                            end=s.end,
                            slot_type=service.slots[s.slot].name,
                            value=s.entity.value,
                            entity=s.entity.id,
                        )
                        for s in turn.spans
                    ],
                )
            )
        else:
            actions = []
            for c in turn.calls:
                actions.append(
                    AAction(
                        kind=AnnotatedActionKind.API,
                        name=c.intent.name,
                        id=c.id,
                        arguments=[_argument(b) for b in c.binds],
                        results=[
                            AResult(
                                entity=e.id,
                                field=e.id.split(".", 1)[1],
                                slot_type=e.slot_type,
                                value=e.value,
                            )
                            for e in c.results
                        ],
                    )
                )
            actions.append(
                AAction(
                    kind=AnnotatedActionKind.RESPONSE,
                    name=names[turn.key],
                    arguments=[_argument(b) for b in turn.binds],
                    text=turn.text,
                )
            )
            actions.append(AAction(kind=AnnotatedActionKind.WAIT, name=WAIT))
            turns.append(ASystemTurn(text=turn.text, actions=actions))
    return AnnotatedDialogue(id=f"sgd-{d.id}", skill=skill.name, spec_hash=digest, source=Source.SGD, turns=turns)


def _skill(
    service: _Service,
    cat: _Catalogue,
    samples: Sequence[_Dialogue],
    everything: Sequence[_Dialogue],
    report: SgdReport,
) -> tuple[Skill, dict[_TemplateKey, str]]:
    taken = {s.name.lower() for s in service.slots.values()} | {i.name.lower() for i in service.intents.values()}
    taken.add(service.count_type.lower())
    slot_types = [
        SlotType(name=s.name, description=s.description, builtin=cat.builtin[s.sgd])
        if s.sgd in cat.builtin
        else SlotType(
            name=s.name,
            description=s.description,
            values=[SlotValue(value=v, synonyms=cat.synonyms[s.sgd][v]) for v in cat.values[s.sgd]],
        )
        for s in service.slots.values()
    ]
    counting = any(i.counts for i in service.intents.values())
    if counting:
        slot_types.append(
            SlotType(name=service.count_type, description="How many results an API found.", builtin=BuiltinType.NUMBER)
        )
    apis = []
    for i in service.intents.values():
        arguments = [ApiArgument(name=service.slots[s].name, slot_type=service.slots[s].name) for s in i.required]
        arguments += [
            ApiArgument(name=service.slots[s].name, slot_type=service.slots[s].name, required=False, default=v)
            for s, v in i.optional.items()
            if s not in i.required
        ]
        returns = [ReturnField(name=service.slots[s].name, slot_type=service.slots[s].name) for s in i.results]
        if i.counts:
            returns.append(ReturnField(name=service.count_type, slot_type=service.count_type))
        apis.append(
            Api(
                name=i.name,
                description=i.description,
                arguments=arguments,
                returns=returns,
                transactional=i.transactional,
            )
        )

    # Every signature is a template (the samples' first), but only the samples' utterances
    # are variants: the others get a variant generated from the schema, so that no
    # evaluation text enters the skill.
    keys = [turn.key for d in [*samples, *everything] for turn in d.turns if isinstance(turn, _STurn)]
    names = _template_names(keys, taken)
    variants: dict[_TemplateKey, list[str]] = {}
    for d in samples:
        for turn in d.turns:
            if isinstance(turn, _STurn):
                texts = variants.setdefault(turn.key, [])
                if turn.variant not in texts:
                    texts.append(turn.variant)
    report.templates_without_sample_text = sum(1 for key in names if key not in variants)
    templates = []
    for key, name in names.items():
        texts = variants.get(key) or [_schema_variant(key, service)]
        templates.append(
            ResponseTemplate(
                name=name,
                act=key.act,
                api=key.api,
                requested=list(key.requested),
                arguments=[
                    TemplateArgument(name=n, slot_type=service.count_type if s == COUNT else service.slots[s].name)
                    for n, s in key.arguments
                ],
                variants=texts,
            )
        )
    sets = _utterance_sets(samples, service, set())
    skill = Skill(
        name=service.name,
        description=(service.description + " " if service.description else "")
        + "(Imported from the Schema-Guided Dialogue dataset.)",
        slot_types=slot_types,
        apis=apis,
        response_templates=templates,
        utterance_sets=sets,
        sample_dialogues=[_sample(d, service, names) for d in samples],
    )
    return skill, names


# ---------------------------------------------------------------- entry point


def _eligible(dialogues: Sequence[dict[str, Any]], service: str, report: SgdReport) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for d in dialogues:
        did = d["dialogue_id"]
        services = d.get("services")
        if did in seen:
            report.skip(did, "duplicate dialogue_id", "")
            continue
        seen.add(did)
        if not isinstance(services, list) or service not in services:
            report.skip(did, "does not involve the service", f"services {services}")
        elif len(services) > 1:
            others = ", ".join(str(s) for s in services if s != service)
            report.skip(did, "involves other services", others)
        else:
            out.append(d)
    return sorted(out, key=lambda d: str(d["dialogue_id"]))


def _mark_counting(service: _Service, dialogues: Sequence[dict[str, Any]]) -> None:
    for d in dialogues:
        for frame in _frames(d, service.name):
            call = frame.get("service_call")
            if isinstance(call, dict) and any(a.get("act") == "INFORM_COUNT" for a in _actions(frame)):
                intent = service.intents.get(str(call.get("method")))
                if intent is not None:
                    intent.counts = True


def import_sgd(
    schema_path_or_data: Any,
    dialogue_files: Sequence[Any],
    service: str,
    samples: int = 10,
    seed: int | None = None,
) -> SgdImport:
    """Import SGD service ``service`` as a skill whose sample dialogues are ``samples`` of
    the given dialogues; the other dialogues become gold annotated dialogues.

    ``schema_path_or_data`` is the path of ``schema.json`` or its parsed content;
    ``dialogue_files`` are paths of ``dialogues_*.json`` files or their parsed contents.
    The samples are the first dialogues by ``dialogue_id``, or, with ``seed``, the first
    of a seeded random order. Raises :class:`SgdImportError` when nothing can be imported.
    """
    if samples < 0:
        raise SgdImportError("the number of samples cannot be negative")
    svc = _service(load_schema(schema_path_or_data), service)
    dialogues = load_dialogues(dialogue_files)
    report = SgdReport(service=service, dialogues_total=len(dialogues), renamed=dict(svc.renamed))
    eligible = _eligible(dialogues, service, report)
    if not eligible:
        raise SgdImportError(f"none of the {len(dialogues)} given dialogues is a single-service dialogue of {service}")
    _mark_counting(svc, eligible)
    candidates = list(eligible)
    if seed is not None:
        random.Random(seed).shuffle(candidates)
    excluded: dict[str, _Skip] = {}
    while True:
        chosen = [d for d in candidates if d["dialogue_id"] not in excluded][:samples]
        cat = _build_catalogue(svc, eligible, chosen)
        sample_out: list[_Dialogue] = []
        failed = False
        for d in chosen:
            try:
                sample_out.append(_Converter(svc, cat, evaluation=False).convert(d))
            except _Skip as skip:
                excluded[d["dialogue_id"]] = skip
                failed = True
        if failed:
            continue
        chosen_ids = {d["dialogue_id"] for d in chosen}
        rest: list[tuple[str, _Dialogue | _Skip]] = []
        converter = _Converter(svc, cat, evaluation=True)
        for d in eligible:
            if d["dialogue_id"] in chosen_ids:
                continue
            try:
                rest.append((d["dialogue_id"], converter.convert(d)))
            except _Skip as skip:
                rest.append((d["dialogue_id"], skip))
        converted = [r for _, r in rest if isinstance(r, _Dialogue)]
        by_id = {d.id: d for d in [*sample_out, *converted]}
        everything = [by_id[str(d["dialogue_id"])] for d in eligible if str(d["dialogue_id"]) in by_id]
        local = SgdReport(service=service)
        skill, names = _skill(svc, cat, sample_out, everything, local)
        try:
            skill = parse_skill(skill.model_dump(mode="json"))
        except SpecValidationError as exc:
            bad = _bad_samples(exc, sample_out)
            if not bad:
                raise SgdImportError(f"internal error: the imported skill is not valid:\n{exc}") from None
            for i, issue in bad:
                excluded[sample_out[i].id] = _Skip("not valid as a sample dialogue", str(issue))
            continue
        break

    report.samples = [d.id for d in sample_out]
    report.replaced_samples = [f"{did}: {why.reason} ({why.detail})" for did, why in excluded.items()]
    report.builtin_slots = {svc.slots[s].name: b.value for s, b in cat.builtin.items()}
    report.templates_without_sample_text = local.templates_without_sample_text
    digest = spec_hash(skill)
    checker = Checker(skill)
    gold: list[AnnotatedDialogue] = []
    for did, result in rest:
        if isinstance(result, _Skip):
            report.skip(did, result.reason, result.detail)
            continue
        record = _gold(result, svc, names, skill, digest)
        issues = checker.check(record)
        if issues:
            # Never expected; reported rather than written, so that the gold always checks.
            report.skip(did, "fails the checker: " + _issue_kind(issues[0].message), str(issues[0]))
            continue
        gold.append(record)
        report.converted += 1
    for done in [*sample_out, *converted]:
        report.notes.update(done.notes)
        for reason, slot, example in done.not_located:
            report.values_not_located += 1
            report.not_located_by_reason[reason] += 1
            report.not_located_by_slot[svc.slots[slot].name if slot in svc.slots else slot] += 1
            if len(report.not_located_examples) < 2 * EXAMPLES_KEPT:
                report.not_located_examples.append(f"{done.id}: {example}")
    if cat.conflicts:
        report.notes["surface forms dropped as synonyms (they stand for several values)"] = cat.conflicts
    report.slot_types = len(skill.slot_types)
    report.apis = len(skill.apis)
    report.response_templates = len(skill.response_templates)
    report.utterance_sets = len(skill.utterance_sets)
    if samples > len(report.samples):
        report.notes[f"fewer samples than asked ({samples}): not enough convertible dialogues"] = 1
    return SgdImport(skill=skill, gold=gold, report=report)


def _issue_kind(message: str) -> str:
    """A checker message without its particulars, to count issues of one kind together."""
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'|\"[^\"]*\"", "…", message))


def _bad_samples(exc: SpecValidationError, samples: Sequence[_Dialogue]) -> list[tuple[int, str]]:
    """(sample index, issue) when every issue lies inside a sample dialogue; else []."""
    out: list[tuple[int, str]] = []
    for issue in exc.issues:
        m = re.match(r"sample_dialogues\[(\d+)\]", issue.path)
        if m is None or int(m.group(1)) >= len(samples):
            return []
        out.append((int(m.group(1)), str(issue)))
    return out
