"""A skill's catalogues: how a text is compared with catalogue forms, and what value it names.

One reading for every layer: the spec's validation (two values claiming one form), the
simulator's checker and sample converter (is a span's text its value or a synonym?), the
studio's dialogue editor (which value a typed synonym stands for), and the models at run
time (which value a recognised mention names, with partial names, initials and spoken
dates). A form is compared by :func:`form_key`: case and runs of whitespace aside.
"""

from __future__ import annotations

import datetime
import re

from .builtins import normalize
from .models import Skill, SlotType

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STOP = frozenset(["a", "an", "and", "at", "for", "in", "me", "my", "of", "on", "the", "to"])
_WORD = re.compile(r"\w+(?:['’]\w+)?|[^\w\s]")


def form_key(text: str) -> str:
    """How a text is compared with a catalogue's values and synonyms: case and runs of whitespace aside."""
    return " ".join(text.lower().split())


def catalogue_forms(slot_type: SlotType) -> dict[str, str]:
    """:func:`form_key` of each value and synonym of ``slot_type`` -> the value it stands for.

    Where two values claim one form, the first keeps it (validation reports the second).
    """
    forms: dict[str, str] = {}
    for v in slot_type.values:
        for form in (v.value, *v.synonyms):
            forms.setdefault(form_key(form), v.value)
    return forms


class Catalogue:
    """Finds catalogue values and synonyms in text, and resolves a mention to its canonical value.

    Resolution, in order: the value or a synonym (any case); a built-in type's normaliser;
    for a catalogue of ISO dates, a spoken date read against today or the catalogue's first
    date, when that gives a catalogue date ("March 1st" -> "2019-03-01"); a form another slot
    type's catalogue gives one of this catalogue's values ("SFO" a synonym of San Francisco as a
    destination, said of an origin); the one catalogue value that contains the mention's words
    ("Vegas" -> "Las Vegas") or whose initials it is ("SF" -> "San Francisco"); the longest value
    or synonym the mention starts with, before a comma or a qualifier ("Phoenix, AZ" -> "Phoenix",
    "New York City" -> "New York"); else the text itself (a catalogue is open).
    """

    def __init__(self, skill: Skill, *, today: datetime.date) -> None:
        self.today = today
        self.builtin = {s.name: s.builtin for s in skill.slot_types if s.builtin is not None}
        self.lookup: dict[str, dict[str, str]] = {}  # slot type -> form_key of a phrase -> canonical value
        self.phrases: dict[tuple[str, ...], set[str]] = {}  # word tuple -> slot types
        self.partial: dict[str, dict[tuple[str, ...], set[str]]] = {}  # slot type -> words or initials -> values
        self.date_refs: dict[str, tuple[datetime.date, ...]] = {}  # ISO-date catalogues -> reference dates
        self.any_form: dict[str, set[str]] = {}  # form_key of a phrase in any catalogue -> the values it names
        self.values: dict[str, set[str]] = {}  # slot type -> its catalogue values
        self.prefixes: dict[str, dict[tuple[str, ...], str]] = {}  # slot type -> a form's words -> value
        for s in skill.slot_types:
            self.values[s.name] = {v.value for v in s.values}
            for key, value in catalogue_forms(s).items():
                self.any_form.setdefault(key, set()).add(value)
            table = self.lookup.setdefault(s.name, {})
            for key, value in catalogue_forms(s).items():
                table.setdefault(key, value)
            partial = self.partial.setdefault(s.name, {})
            for v in s.values:
                for phrase in (v.value, *v.synonyms):
                    words = tuple(w.lower() for w in _WORD.findall(phrase) if w.isalnum())
                    if not words:
                        continue
                    self.phrases.setdefault(words, set()).add(s.name)
                    self.prefixes.setdefault(s.name, {}).setdefault(words, v.value)
                    for i in range(len(words)):
                        for j in range(i + 1, len(words) + 1):
                            partial.setdefault(words[i:j], set()).add(v.value)
                    if len(words) > 1:
                        partial.setdefault(("".join(w[0] for w in words),), set()).add(v.value)
            dates = [v.value for v in s.values]
            if dates and all(_ISO_DATE.fullmatch(d) for d in dates):
                self.date_refs[s.name] = (today, datetime.date.fromisoformat(min(dates)))
        self.max_words = max((len(w) for w in self.phrases), default=0)

    def canonical(self, slot_type: str, text: str) -> str:
        """The catalogue value ``text`` names, the built-in's normal form, or else the text itself."""
        value = self.read(slot_type, text)
        return text.strip() if value is None else value

    def read(self, slot_type: str, text: str) -> str | None:
        """Like :meth:`canonical`, but None when ``text`` is no value at all: a built-in type's
        normaliser cannot read it. (A catalogue is open: an unknown name may still be a name.)"""
        found = self.lookup.get(slot_type, {}).get(form_key(text))
        if found is not None:
            return found
        builtin = self.builtin.get(slot_type)
        if builtin is not None:
            return normalize(builtin, text, today=self.today)
        catalogue = self.lookup.get(slot_type, {})
        for ref in self.date_refs.get(slot_type, ()):
            value = normalize("DATE", text, today=ref)
            if value is not None and value in catalogue:
                return value
        elsewhere = self.any_form.get(form_key(text), set()) & self.values.get(slot_type, set())
        if len(elsewhere) == 1:
            return next(iter(elsewhere))
        words = tuple(w.lower() for w in _WORD.findall(text) if w.isalnum())
        # A single short or common word ("the", "a") names nothing on its own.
        if words and not (len(words) == 1 and (len(words[0]) < 2 or words[0] in _STOP)):
            values = self.partial.get(slot_type, {}).get(words, set())
            if len(values) == 1:
                return next(iter(values))
            prefixes = self.prefixes.get(slot_type, {})
            for n in range(len(words) - 1, 0, -1):
                value = prefixes.get(words[:n])
                if value is not None and not (n == 1 and (len(words[0]) < 3 or words[0] in _STOP)):
                    return value
        return text.strip()

    def matches(self, text: str) -> list[tuple[int, int, set[str]]]:
        """Longest non-overlapping catalogue mentions: (start, end, slot types)."""
        words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
        out = []
        i = 0
        while i < len(words):
            for n in range(min(self.max_words, len(words) - i), 0, -1):
                types = self.phrases.get(tuple(w for _, _, w in words[i : i + n]))
                if types:
                    out.append((words[i][0], words[i + n - 1][1], types))
                    i += n
                    break
            else:
                i += 1
        return out
