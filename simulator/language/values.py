"""Slot values and the words a simulated user says them with.

:class:`ValueSampler` draws a catalogue value (said as itself or one of its synonyms)
or a built-in DATE/TIME/NUMBER, and says a known value again in another way. The
built-in surface forms (``_date_forms``, ``_time_forms``, ``_number_forms``) are kept
only where they normalise back to the canonical value, so a span's value is always
what its text means. ``DEFAULT_TODAY`` is the date relative dates are said against.
"""

from __future__ import annotations

import datetime
import random

from skillspec import BuiltinType, Skill, normalize, sample_surface
from skillspec.builtins import MONTH_NAMES, number_words

from ..text import REFERENCE_DATE, Value

DEFAULT_TODAY = REFERENCE_DATE

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _date_forms(d: datetime.date, today: datetime.date) -> list[str]:
    delta = (d - today).days
    month, weekday, day = MONTH_NAMES[d.month - 1], _WEEKDAY_NAMES[d.weekday()], _ordinal(d.day)
    forms = {0: ["today"], 1: ["tomorrow"], 2: ["the day after tomorrow"]}.get(delta, [])
    if 2 <= delta <= 30:
        forms += [f"in {delta} days", f"in {number_words(delta)} days"]
    if delta == 7:
        forms.append("in a week")
    if 0 <= delta <= 6:
        forms += [f"this {weekday}", weekday]
    elif 7 <= delta <= 13:
        forms.append(f"next {weekday}")
    forms += [
        f"{month} {day}",
        f"{month} {day}",
        f"{month} {d.day}",
        f"the {day} of {month}",
        f"{day} of {month}",
        f"{month[:3]} {d.day}",
        f"{d.month}/{d.day}",
        f"the {day}",
        f"{month} {day}, {d.year}",
        f"{d.month}/{d.day}/{d.year}",
        d.isoformat(),
    ]
    return forms


def _time_forms(hour: int, minute: int) -> list[str]:
    h12 = hour % 12 or 12
    word = number_words(h12)
    mer = "am" if hour < 12 else "pm"
    clock = f"{h12}" if minute == 0 else f"{h12}:{minute:02d}"
    spoken = word if minute == 0 else f"{word} {number_words(minute) if minute >= 10 else 'oh ' + number_words(minute)}"
    forms = [f"{clock} {mer}", f"{clock} {mer}", f"{clock}{mer}", f"{spoken} {mer}", f"{hour:02d}:{minute:02d}"]
    part = (
        "in the morning"
        if 5 <= hour <= 11
        else "in the afternoon"
        if 12 <= hour <= 16
        else "in the evening"
        if 17 <= hour <= 22
        else None
    )
    if part:
        forms += [f"{clock} {part}", f"{spoken} {part}"]
        if minute == 0:
            forms.append(f"{word} o'clock {part}")
        if minute in (15, 30):
            forms.append(f"{'quarter' if minute == 15 else 'half'} past {word} {part}")
    if minute == 45:
        nxt = (hour + 1) % 24
        forms.append(f"quarter to {number_words(nxt % 12 or 12)} {'am' if nxt < 12 else 'pm'}")
    if (hour, minute) == (12, 0):
        forms += ["noon", "midday"]
    if (hour, minute) == (0, 0):
        forms.append("midnight")
    return forms


def _number_forms(n: int) -> list[str]:
    forms = [str(n), str(n)]
    if 0 <= n < 1000:
        forms.append(number_words(n))
    if n == 12:
        forms.append("a dozen")
    return forms


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
        self._forms: dict[tuple[BuiltinType, str], tuple[str, ...]] = {}

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
            forms = self._builtin_forms(builtin, value)
            return Value(slot_type, value, forms[rng.randrange(len(forms))] if forms else value)
        synonyms = self._synonyms.get(slot_type, {}).get(value)
        if synonyms is None:
            return Value(slot_type, value, value)
        return Value(slot_type, value, self._say(value, synonyms, rng))

    def _say(self, value: str, synonyms: tuple[str, ...], rng: random.Random) -> str:
        if synonyms and rng.random() < self.synonym_rate:
            return synonyms[rng.randrange(len(synonyms))]
        return value

    def _builtin_forms(self, builtin: BuiltinType, value: str) -> tuple[str, ...]:
        key = (builtin, value)
        forms = self._forms.get(key)
        if forms is None:
            candidates: list[str] = []
            try:
                if builtin is BuiltinType.DATE:
                    candidates = _date_forms(datetime.date.fromisoformat(value), self.today)
                elif builtin is BuiltinType.TIME:
                    hh, mm = value.split(":")
                    candidates = _time_forms(int(hh), int(mm))
                else:
                    candidates = _number_forms(int(value))
            except ValueError:
                candidates = []
            # Only forms that read back to the value: the span's value must be what the text means.
            forms = tuple(f for f in candidates if normalize(builtin, f, today=self.today) == value)
            self._forms[key] = forms
        return forms
