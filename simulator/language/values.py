"""Slot values and the words a simulated user says them with.

:class:`ValueSampler` draws a catalogue value (said as itself or one of its synonyms)
or a built-in DATE/TIME/NUMBER, and says a known value again in another way. The
built-in value is said by :func:`skillspec.builtins.say`, the one generator of phrasings,
which says only what normalises back to the canonical value, so a span's value is always
what its text means. ``DEFAULT_TODAY`` is the date relative dates are said against.
"""

from __future__ import annotations

import datetime
import random

from skillspec import BuiltinType, Skill, sample_surface
from skillspec.builtins import say

from ..text import REFERENCE_DATE, Value

DEFAULT_TODAY = REFERENCE_DATE


class ValueSampler:
    """Slot values and the words a user says them with.

    Catalogue values are drawn uniformly; their text is the value itself or, with
    probability ``synonym_rate`` when it has synonyms, one of its synonyms. Built-in
    values come from :func:`skillspec.sample_surface`; relative dates are relative
    to ``today``.
    """

    def __init__(self, skill: Skill, *, today: datetime.date = DEFAULT_TODAY, synonym_rate: float = 0.5) -> None:
        self.today = today
        self.synonym_rate = synonym_rate
        self._builtins: dict[str, BuiltinType] = {}
        self._values: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
        self._synonyms: dict[str, dict[str, tuple[str, ...]]] = {}
        for st in reversed(skill.slot_types):  # the first of duplicate names wins, as in validation
            if st.builtin is not None:
                self._builtins[st.name] = st.builtin
                self._values.pop(st.name, None)
            else:
                self._builtins.pop(st.name, None)
                entries = tuple((v.value, tuple(v.synonyms)) for v in st.values)
                self._values[st.name] = entries
                self._synonyms[st.name] = {value: syns for value, syns in reversed(entries)}

    def canonical_values(self, slot_type: str) -> list[str]:
        """The catalogue values of ``slot_type`` (empty for a built-in type)."""
        return [v for v, _ in self._values.get(slot_type, ())]

    def sample(self, slot_type: str, rng: random.Random, *, exclude: str | None = None) -> Value:
        """A random value of ``slot_type`` and a way to say it; not ``exclude`` when there is another.

        Raises KeyError for an unknown slot type and ValueError for an empty catalogue.
        """
        builtin = self._builtins.get(slot_type)
        if builtin is not None:
            for _ in range(20):
                text, value = sample_surface(builtin, rng, today=self.today)
                if value != exclude:
                    break
            return Value(slot_type, value, text)
        entries = self._values[slot_type]
        if not entries:
            raise ValueError(f"slot type {slot_type!r} has no values to sample")
        n = len(entries)
        skip = next((i for i, (v, _) in enumerate(entries) if v == exclude), None) if exclude is not None else None
        if skip is not None and n > 1:
            i = rng.randrange(n - 1)
            i += i >= skip
        else:
            i = rng.randrange(n)
        value, synonyms = entries[i]
        return Value(slot_type, value, self._say(value, synonyms, rng))

    def surface(self, slot_type: str, value: str, rng: random.Random) -> Value:
        """Another way to say canonical ``value`` (e.g. when the user repeats it).

        A value the spec does not know (not in the catalogue, or not a canonical
        built-in value) is said as it is.
        """
        builtin = self._builtins.get(slot_type)
        if builtin is not None:
            return Value(slot_type, value, say(builtin, value, rng, today=self.today))
        synonyms = self._synonyms.get(slot_type, {}).get(value)
        if synonyms is None:
            return Value(slot_type, value, value)
        return Value(slot_type, value, self._say(value, synonyms, rng))

    def _say(self, value: str, synonyms: tuple[str, ...], rng: random.Random) -> str:
        if synonyms and rng.random() < self.synonym_rate:
            return synonyms[rng.randrange(len(synonyms))]
        return value
