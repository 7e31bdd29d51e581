"""The catalogue of slot values built from the data (``_Catalogue``,
``_build_catalogue``): per slot, the schema's possible values, the ``service_results`` of
every given dialogue and the values said in the samples, one value per spelling (case
aside), with the samples' other surface forms and number words as synonyms; and which
slots are the built-in TIME instead. It also decides whether a span's words can carry a
value (``annotatable``)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from typing import Any

from skillspec import BuiltinType
from skillspec.builtins import normalize, number_words

from .schema import _actions, _frames, _pairs, _Service

DONTCARE = "dontcare"
TIME_VALUE = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
# The day SGD's dialogues take place ("today" is 2019-03-01); times do not depend on it.
SGD_TODAY = datetime.date(2019, 3, 1)


MAX_VALUE = 200  # longest catalogue value the spec allows


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
