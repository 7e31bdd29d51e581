"""Language variation: how simulated users say things, with every span kept exact.

Three pieces, all driven by an injected ``random.Random``:

* :class:`ValueSampler` picks slot values and the words for them: a catalogue value
  or one of its synonyms, or a built-in DATE/TIME/NUMBER said in one of many ways
  (every built-in surface form normalises back to its canonical value).
* :class:`UtteranceBank` turns a :class:`~simulator.protocols.UserTurnPlan` (acts,
  API, values to mention) into segments: plain text and one :class:`Mention` per
  planned value, exactly. Its templates are the skill's utterance sets and the user
  turns of its sample dialogues, delexicalised (see :class:`UtteranceBank`); when no
  single template says exactly the planned values it composes several, and when the
  skill has none for an act it falls back on built-in phrases.
* Paraphrasers vary the wording of the plain text and never touch a mention:
  :class:`RuleParaphraser` (fillers, politeness, hedges, contractions, casing,
  reordering of "from X to Y"), :class:`ChainParaphraser` and :class:`NoParaphraser`.
"""

from __future__ import annotations

import datetime
import random
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from skillspec import (
    ActionKind,
    BuiltinType,
    DialogAct,
    SampleDialogue,
    Skill,
    SystemTurn,
    UserAct,
    UserTurn,
    normalize,
    sample_surface,
    template_parts,
)
from skillspec.builtins import MONTH_NAMES, number_words
from skillspec.models import Action

from .protocols import Outcome, Paraphraser, UserTurnPlan
from .text import REFERENCE_DATE, Mention, Segment, Value

DEFAULT_TODAY = REFERENCE_DATE

# ---------------------------------------------------------------- values

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


# ---------------------------------------------------------------- templates


@dataclass(frozen=True, slots=True)
class Hole:
    """A ``{placeholder}`` in a template; ``on``: say "on" before a date that takes it."""

    name: str
    on: bool = False


Part = str | Hole


@dataclass(frozen=True, slots=True)
class Template:
    """One way to say a user act: literal text and typed placeholders.

    ``slots`` are the placeholders' ``(name, slot_type)`` in order of appearance;
    ``source`` is the spec path it came from (``utterance_sets[2].variants[0]``,
    ``sample_dialogues[1].turns[4]``) or ``builtin``.
    """

    act: UserAct
    api: str | None
    parts: tuple[Part, ...]
    slots: tuple[tuple[str, str], ...]
    source: str
    anaphoric: bool = False

    @property
    def text(self) -> str:
        """The template as ``{placeholder}`` text."""
        return "".join(
            p.replace("{", "{{").replace("}", "}}") if isinstance(p, str) else "{" + p.name + "}" for p in self.parts
        )


_ANAPHORIC_WORDS = frozenset({"it", "that", "this", "them", "those", "these"})
_AFFIRM_WORDS = frozenset({"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "correct", "right"})
_DENY_WORDS = frozenset({"no", "nope", "nah", "not"})
_PUNCT = string.punctuation.replace("'", "")
_STRIP_PUNCT = str.maketrans(_PUNCT, " " * len(_PUNCT))
_MONTH_WORDS = frozenset(m.lower() for m in MONTH_NAMES) | frozenset(m[:3].lower() for m in MONTH_NAMES)
_WEEKDAY_WORDS = frozenset(d.lower() for d in _WEEKDAY_NAMES)


def _words(parts: Sequence[Part]) -> list[str]:
    text = " ".join(p for p in parts if isinstance(p, str)).lower().translate(_STRIP_PUNCT)
    return [w.split("'")[0] for w in text.split()]


def _first_word(parts: Sequence[Part]) -> str:
    if not parts or not isinstance(parts[0], str):
        return ""
    words = parts[0].lower().translate(_STRIP_PUNCT).split()
    return words[0] if words else ""


def _lower_first(s: str) -> str:
    """``s`` with a lowercase first letter, unless it starts with "I" or an acronym."""
    if not s or not s[0].isupper():
        return s
    if s[0] == "I" and (len(s) == 1 or not s[1].isalpha()):
        return s
    if len(s) > 1 and s[1].isupper():
        return s
    return s[0].lower() + s[1:]


def _upper_first(s: str) -> str:
    return s[:1].upper() + s[1:]


def _takes_on(text: str) -> bool:
    """Whether a date said as ``text`` reads well after "on" ("on March 3rd", not "on tomorrow")."""
    first = text.split(" ", 1)[0].lower().rstrip(".,")
    if first[:1].isdigit() or first in _MONTH_WORDS or first in _WEEKDAY_WORDS:
        return True
    return first == "the" and not text.lower().startswith("the day after")


def _parse_variant(text: str) -> tuple[Part, ...] | None:
    parts: list[Part] = []
    try:
        read = template_parts(text)
    except ValueError:
        return None
    for literal, field in read:
        if literal:
            parts.append(literal)
        if field is not None:
            parts.append(Hole(field))
    return _strip_parts(parts)


def _strip_parts(parts: list[Part]) -> tuple[Part, ...]:
    if parts and isinstance(parts[0], str):
        parts[0] = parts[0].lstrip()
    if parts and isinstance(parts[-1], str):
        parts[-1] = parts[-1].rstrip()
    return tuple(p for p in parts if p != "")


@dataclass(frozen=True, slots=True)
class _Article:
    """Literal text ending in "a"/"an" before a mention: the article agrees with what is said."""

    head: str
    capital: bool


@dataclass(frozen=True, slots=True)
class _Agree:
    """Literal text after a number whose first word agrees with it: "1 passenger", "2 passengers"."""

    singular: str
    plural: str
    number: str  # the mention it agrees with


@dataclass(frozen=True, slots=True)
class _Echo:
    """Literal text after a mention that starts with ``word``: dropped when the mention ends with it.

    "{crust} crust" said with "thin crust" is "thin crust", not "thin crust crust".
    """

    text: str
    word: str


_RenderPart = str | Hole | _Article | _Agree | _Echo


def _article_for(text: str) -> str:
    w = text.split(" ", 1)[0].strip("\"'(")
    if not w:
        return "a"
    lw = w.lower()
    if len(w) > 1 and w.isupper() and w.isalpha():  # acronyms are spelled out: "an XL", "a BBQ"
        return "an" if w[0] in "AEFHILMNORSX" else "a"
    if w[0].isdigit():
        return "an" if w[0] == "8" or (w[:2] in ("11", "18") and (len(w) == 2 or not w[2].isdigit())) else "a"
    if lw.startswith(("uni", "use", "usu", "eu", "one", "once")):
        return "a"
    if lw.startswith(("hour", "honest", "honor", "heir")):
        return "an"
    return "an" if lw[0] in "aeiou" else "a"


def _article_split(text: str) -> _Article | None:
    if not text.endswith(" "):
        return None
    core = text[:-1]
    for art in ("an", "a"):
        n = len(art)
        if core[-n:].lower() == art and (len(core) == n or not core[-n - 1].isalnum()):
            return _Article(core[:-n], core[-n].isupper())
    return None


def _plural_word(word: str) -> str | None:
    """The singular of ``word`` if it looks like a plural noun ("seats" -> "seat"), else None."""
    lw = word.lower()
    if lw == "people":
        return word[:-6] + ("Person" if word[0].isupper() else "person")
    if len(lw) > 3 and lw.endswith("s") and not lw.endswith(("ss", "us", "is")):
        if lw.endswith(("sses", "xes", "ches", "shes")):
            return word[:-2]
        return word[:-1]
    return None


def _agreement(text: str, singulars: Mapping[str, str], number: str) -> _Agree | None:
    if not text.startswith(" "):
        return None
    j = 1
    while j < len(text) and text[j].isalpha():
        j += 1
    word, rest = text[1:j], text[j:]
    if not word:
        return None
    singular = _plural_word(word)
    if singular is not None:
        return _Agree(" " + singular + rest, text, number)
    lw = word.lower()
    if lw == "person":
        return _Agree(text, " " + ("People" if word[0].isupper() else "people") + rest, number)
    plural = singulars.get(lw)
    if plural is not None:
        return _Agree(text, " " + plural + rest, number)
    return None


@dataclass(frozen=True, slots=True)
class _Option:
    """A template ready to render for one set of mentions: holes renamed to mention names."""

    parts: tuple[_RenderPart, ...]  # as written
    lower: tuple[_RenderPart, ...]  # first letter lowercased, to follow ", "
    upper: tuple[_RenderPart, ...]  # first letter capitalised, to start a sentence
    stop: bool  # ends a sentence (. ? !)
    opens: UserAct | None  # opens with yes/no words: AFFIRM or DENY
    template: Template | None
    bare: bool = False  # starts with a mention, which cannot be capitalised to start a sentence


def _recase(part: _RenderPart, lower: bool) -> _RenderPart:
    if isinstance(part, str):
        return _lower_first(part) if lower else _upper_first(part)
    if isinstance(part, _Article):
        if part.head:
            return _Article(_lower_first(part.head) if lower else _upper_first(part.head), part.capital)
        return _Article("", not lower)
    return part


def _echo(text: str) -> _Echo | None:
    if not text.startswith(" "):
        return None
    j = 1
    while j < len(text) and text[j].isalpha():
        j += 1
    return _Echo(text, text[1:j].lower()) if j > 1 else None


def _option(
    parts: tuple[Part, ...],
    mapping: Mapping[str, str],
    template: Template | None,
    types: Mapping[str, BuiltinType | None] | None = None,
    singulars: Mapping[str, str] | None = None,
) -> _Option:
    """``parts`` ready to render: holes renamed by ``mapping``, the literals around them made to agree.

    ``types`` gives the built-in type of placeholders: nouns after a NUMBER agree with
    it, and a DATE says "on" only when it reads well ("on March 3rd", "tomorrow").
    """
    types = types or {}
    out: list[_RenderPart] = []
    number: str | None = None  # the last number said, while only spaces and mentions follow it
    for i, p in enumerate(parts):
        if isinstance(p, Hole):
            kind = types.get(p.name)
            on = p.on
            if kind is BuiltinType.DATE and out and isinstance(out[-1], str) and isinstance(parts[i - 1], str):
                before = out[-1]
                if before == " ":  # "{destination} {date}"
                    on = True
                elif before.lower() == "on " or before.endswith(" on "):
                    out[-1] = before[:-3]
                    if not out[-1]:
                        out.pop()
                    on = True
            out.append(Hole(mapping[p.name], on))
            if kind is BuiltinType.NUMBER:
                number = mapping[p.name]
            continue
        item: _RenderPart = p
        if number is not None:
            agree = _agreement(p, singulars or {}, number)
            if agree is not None:
                item = agree
            if agree is not None or p.strip():
                number = None
        if isinstance(item, str) and i > 0 and isinstance(parts[i - 1], Hole):
            item = _echo(item) or item
        if isinstance(item, str) and i + 1 < len(parts) and isinstance(parts[i + 1], Hole):
            item = _article_split(item) or item
        out.append(item)
    rendered = tuple(out)
    lower = upper = rendered
    if rendered:
        lower = (_recase(rendered[0], True), *rendered[1:])
        upper = (_recase(rendered[0], False), *rendered[1:])
    last = rendered[-1] if rendered else ""
    last_text = (
        last
        if isinstance(last, str)
        else last.plural
        if isinstance(last, _Agree)
        else last.text
        if isinstance(last, _Echo)
        else ""
    )
    head = rendered[0] if rendered else ""
    head_text = head if isinstance(head, str) else head.head if isinstance(head, _Article) else ""
    first = _first_word((head_text,))
    opens = UserAct.AFFIRM if first in _AFFIRM_WORDS else UserAct.DENY if first in _DENY_WORDS else None
    stop = last_text.endswith((".", "?", "!"))
    return _Option(rendered, lower, upper, stop, opens, template, bool(rendered) and isinstance(head, Hole))


def _map_slots(
    slots: Sequence[tuple[str, str]], mentions: Mapping[str, str], fixed: frozenset[str] = frozenset()
) -> dict[str, str] | None:
    """Placeholder name -> mention name, or None if the placeholders cannot all be mentioned.

    A placeholder maps to the mention of the same name and slot type; one whose name is
    not in ``fixed`` (the skill's argument names) may instead map to the one mention of
    its slot type, when neither side has another of that type.
    """
    mapping: dict[str, str] = {}
    pending: list[tuple[str, str]] = []
    for name, slot_type in slots:
        if mentions.get(name) == slot_type:
            mapping[name] = name
        elif name in fixed:
            return None
        else:
            pending.append((name, slot_type))
    if pending:
        used = set(mapping.values())
        for name, slot_type in pending:
            if sum(1 for _, t in pending if t == slot_type) != 1:
                return None
            candidates = [m for m, t in mentions.items() if t == slot_type and m not in used]
            if len(candidates) != 1:
                return None
            mapping[name] = candidates[0]
            used.add(candidates[0])
    return mapping


# Built-in phrases for skills that have no utterance set for an act.
_FALLBACKS: dict[UserAct, tuple[str, ...]] = {
    UserAct.AFFIRM: ("Yes", "Yes please", "Sure", "That's right", "Sounds good", "Yeah, go ahead"),
    UserAct.DENY: ("No", "No, that's not right", "Not quite", "Nope"),
    UserAct.REQUEST_MORE: ("Another one?", "Anything else?", "Do you have any other options?", "What else is there?"),
    UserAct.GOODBYE: ("Thanks, bye", "That's all, thanks", "Goodbye", "No, that's it. Bye!"),
}
# Bare reactions when the samples show none (see UserTurnPlan.reaction).
_REACTIONS: dict[Outcome, tuple[str, ...]] = {
    Outcome.RESULTS: (
        "Sounds good.",
        "That sounds nice.",
        "Great.",
        "Okay, that works for me.",
        "That one sounds good.",
    ),
    Outcome.SUCCESS: ("Thank you.", "Thanks!", "Great, thanks.", "Thanks a lot.", "Perfect, thank you."),
}
_RESULT_ACTS = frozenset({DialogAct.OFFER, DialogAct.INFORM})
# System acts that show the user has started on an API.
_ENGAGING = frozenset({DialogAct.REQUEST_ARGS, DialogAct.CONFIRM_ARGS, DialogAct.CONFIRM_API})
_MENTION_ACTS = frozenset({UserAct.INVOKE, UserAct.INFORM, UserAct.CHANGE})

# (joiner, capitalise what follows), with weights: between the parts of one act, and between acts.
_REST_JOINERS: tuple[tuple[str, bool], ...] = ((", ", False), (", and ", False), (". ", True), (" — ", False))
_REST_CUM = (4.0, 6.0, 8.0, 9.0)
_ACT_JOINERS: tuple[tuple[str, bool], ...] = ((", ", False), (". ", True), (" — ", False))
_ACT_CUM = (5.0, 8.0, 9.0)


def _api_words(api: str) -> str:
    words: list[str] = []
    current = ""
    for c in api:
        if c == "_" or (c.isupper() and current and not current[-1].isupper()):
            if current:
                words.append(current)
            current = "" if c == "_" else c
        else:
            current += c
    if current:
        words.append(current)
    return " ".join(w.lower() for w in words) or api


@dataclass(frozen=True, slots=True)
class _Section:
    """What one act of a turn may say: alternatives, each a list of parts, each a choice of options."""

    act: UserAct
    alternatives: tuple[tuple[tuple[_Option, ...], ...], ...]
    cum_weights: tuple[float, ...]


_RecipeKey = tuple[tuple[UserAct, ...], str | None, bool, frozenset[tuple[str, str]]]


def _pick(cum: Sequence[float], rng: random.Random) -> int:
    x = rng.random() * cum[-1]
    for i, c in enumerate(cum):
        if x < c:
            return i
    return len(cum) - 1


def _push(out: list[Segment], s: str) -> None:
    if not s:
        return
    if out:
        last = out[-1]
        if isinstance(last, str):
            out[-1] = last + s
            return
    out.append(s)


class UtteranceBank:
    """Templates for every user act of a skill, and the renderer of user-turn plans.

    Templates come from the skill's utterance sets and from the user turns of its
    sample dialogues (test conversations excluded: they must stay unseen). A sample
    user turn is delexicalised: each span becomes a placeholder named after the one
    argument (of an API or a response template) its entity is bound to in the
    dialogue, or after its slot type when it is bound to none or to several. Its act
    is inferred from the system turns around it:

    * the first user turn invokes the first API the dialogue calls;
    * a turn with spans is a ``change`` when every span's argument was bound to
      another entity before; an ``invoke`` of API X when the next system turn calls,
      confirms or asks for arguments of X and nothing did before (or binds X to a
      result of another API it was not bound to before: "book that one"); otherwise
      an ``inform``;
    * a turn without spans is a ``goodbye`` when the system only says goodbye next;
      a ``request_more`` when the system calls an API again with the same arguments;
      an ``invoke`` as above; an ``affirm`` after a confirmation or offer of API X
      when the system then calls X (or, after an offer, confirms or asks for X's
      arguments), a ``deny`` when it then does nothing with X; otherwise it is not used.

    An ``invoke`` template is *anaphoric* (for plans with ``anaphora``) when it says
    "it", "that", "this", "them", "those" or "these", or when, in its dialogue, the
    invoked API gets an argument from an earlier result.
    """

    def __init__(self, skill: Skill, *, include_samples: bool = True) -> None:
        self.skill = skill
        self._response_templates = {t.name: t for t in reversed(skill.response_templates)}
        self._builtin_types = {s.name: s.builtin for s in reversed(skill.slot_types)}
        self._argument_names = frozenset(arg.name for api in skill.apis for arg in api.arguments)
        seen: set[tuple[UserAct, str | None, tuple[Part, ...]]] = set()
        templates: list[Template] = []
        candidates = list(self._set_templates())
        if include_samples:
            for d, dialogue in enumerate(skill.sample_dialogues):
                if not dialogue.test:
                    candidates.extend(self._sample_templates(d, dialogue))
        for t in candidates:
            key = (t.act, t.api, t.parts)
            if key not in seen:
                seen.add(key)
                templates.append(t)
        self.templates: tuple[Template, ...] = tuple(templates)
        # Bare reactions the sample users give, by what they react to (see UserTurnPlan.reaction).
        self.reactions: dict[Outcome, list[str]] = {}
        if include_samples:
            for dialogue in skill.sample_dialogues:
                if not dialogue.test:
                    for kind, text in self._sample_reactions(dialogue):
                        if text not in self.reactions.setdefault(kind, []):
                            self.reactions[kind].append(text)
        self._pools: dict[tuple[UserAct, str | None], list[Template]] = {}
        for t in templates:
            self._pools.setdefault((t.act, t.api), []).append(t)
        # Singular -> plural of the nouns said after numbers ("passengers"), to make them agree.
        self._singulars: dict[str, str] = {}
        for t in templates:
            numbers = {n for n, st in t.slots if self._builtin_types.get(st) is BuiltinType.NUMBER}
            for i, p in enumerate(t.parts[1:], 1):
                before = t.parts[i - 1]
                if isinstance(p, str) and isinstance(before, Hole) and before.name in numbers:
                    word = p[1:].split(" ", 1)[0].rstrip(",.?!") if p.startswith(" ") else ""
                    singular = _plural_word(word) if word.isalpha() else None
                    if singular is not None:
                        self._singulars.setdefault(singular.lower(), word.lower())
        self._recipes: dict[_RecipeKey, list[_Section]] = {}

    # -------------------------------------------------------- template sources

    def _set_templates(self) -> Iterator[Template]:
        for s, uset in enumerate(self.skill.utterance_sets):
            types = {a.name: a.slot_type for a in reversed(uset.arguments)}
            for v, variant in enumerate(uset.variants):
                parts = _parse_variant(variant)
                if parts is None or not parts:
                    continue
                names = [p.name for p in parts if isinstance(p, Hole)]
                # Unknown or repeated placeholders cannot be mentioned exactly once: skip (validation reports them).
                if any(n not in types for n in names) or len(set(names)) != len(names):
                    continue
                anaphoric = uset.act is UserAct.INVOKE and not _ANAPHORIC_WORDS.isdisjoint(_words(parts))
                yield Template(
                    uset.act,
                    uset.api,
                    parts,
                    tuple((n, types[n]) for n in names),
                    f"utterance_sets[{s}].variants[{v}]",
                    anaphoric,
                )

    def _action_api(self, action: Action) -> str | None:
        if action.kind is ActionKind.API:
            return action.name
        t = self._response_templates.get(action.name)
        return t.api if t is not None else None

    def _action_act(self, action: Action) -> DialogAct | None:
        if action.kind is ActionKind.API:
            return None
        t = self._response_templates.get(action.name)
        return t.act if t is not None else None

    def _sample_templates(self, d: int, dialogue: SampleDialogue) -> Iterator[Template]:
        turns = dialogue.turns
        bound: dict[str, set[str]] = {}
        call_api: dict[str, str] = {}
        first_api: str | None = None
        for turn in turns:
            if isinstance(turn, SystemTurn):
                for action in turn.actions:
                    for arg, entity in action.arguments.items():
                        bound.setdefault(entity, set()).add(arg)
                    if action.kind is ActionKind.API:
                        first_api = first_api or action.name
                        if action.id:
                            call_api[action.id] = action.name
        if first_api is None:
            first_api = next(
                (
                    api
                    for turn in turns
                    if isinstance(turn, SystemTurn)
                    for action in turn.actions
                    if (api := self._action_api(action))
                ),
                None,
            )
        prior: list[Action] = []
        first_user = True
        for i, turn in enumerate(turns):
            if isinstance(turn, SystemTurn):
                prior.extend(turn.actions)
                continue
            nxt = turns[i + 1] if i + 1 < len(turns) else None
            prev = turns[i - 1] if i > 0 else None
            next_actions = list(nxt.actions) if isinstance(nxt, SystemTurn) else []
            prev_actions = list(prev.actions) if isinstance(prev, SystemTurn) else []
            made = self._delexicalise(turn, bound)
            if made is not None:
                act, api = self._infer_act(
                    bool(turn.spans), first_user, first_api, made[1], prior, prev_actions, next_actions, call_api
                )
                if act is not None:
                    parts, slots = made
                    anaphoric = False
                    if act is UserAct.INVOKE and api is not None:
                        mentioned = {n for n, _ in slots}
                        anaphoric = not _ANAPHORIC_WORDS.isdisjoint(_words(parts)) or any(
                            "." in entity and call_api.get(entity.split(".")[0]) != api and arg not in mentioned
                            for a in next_actions
                            if self._action_api(a) == api
                            for arg, entity in a.arguments.items()
                        )
                    yield Template(act, api, parts, slots, f"sample_dialogues[{d}].turns[{i}]", anaphoric)
            first_user = False

    def _sample_reactions(self, dialogue: SampleDialogue) -> Iterator[tuple[Outcome, str]]:
        """``("results", "Sounds good.")``: a user turn without values between results and the
        offer of the next API; ``("success", "Thanks!")``: between a success and "anything else?"."""
        turns = dialogue.turns
        for i, turn in enumerate(turns[1:-1], 1):
            before, after = turns[i - 1], turns[i + 1]
            if not isinstance(turn, UserTurn) or turn.spans:
                continue
            if not (isinstance(before, SystemTurn) and isinstance(after, SystemTurn)):
                continue
            shown = {self._action_act(a) for a in before.actions}
            then = {self._action_act(a) for a in after.actions}
            if then == {DialogAct.OFFER_API} and DialogAct.OFFER_API not in shown and shown & _RESULT_ACTS:
                yield Outcome.RESULTS, turn.text
            elif then == {DialogAct.REQUEST_MORE} and shown & {DialogAct.NOTIFY_SUCCESS, DialogAct.INFORM}:
                yield Outcome.SUCCESS, turn.text

    def _delexicalise(
        self, turn: UserTurn, bound: Mapping[str, set[str]]
    ) -> tuple[tuple[Part, ...], tuple[tuple[str, str], ...]] | None:
        text = turn.text
        parts: list[Part] = []
        slots: list[tuple[str, str]] = []
        pos = 0
        for span in sorted(turn.spans, key=lambda s: s.start):
            if span.start < pos or span.end <= span.start or text[span.start : span.end] != span.text:
                return None  # overlapping or misplaced spans: not a trustworthy template
            args = bound.get(span.id, set())
            name = next(iter(args)) if len(args) == 1 else span.slot_type
            taken = {n for n, _ in slots}
            if name in taken:
                name = span.slot_type
            base, k = name, 2
            while name in taken:
                name, k = f"{base}_{k}", k + 1
            parts.append(text[pos : span.start])
            parts.append(Hole(name))
            slots.append((name, span.slot_type))
            pos = span.end
        parts.append(text[pos:])
        stripped = _strip_parts(parts)
        return (stripped, tuple(slots)) if stripped else None

    def _infer_act(
        self,
        has_spans: bool,
        first_user: bool,
        first_api: str | None,
        slots: Sequence[tuple[str, str]],
        prior: Sequence[Action],
        prev_actions: Sequence[Action],
        next_actions: Sequence[Action],
        call_api: Mapping[str, str],
    ) -> tuple[UserAct | None, str | None]:
        if first_user:
            return (UserAct.INVOKE, first_api) if first_api else (None, None)
        engaged = {a.name for a in prior if a.kind is ActionKind.API} | {
            api for a in prior if self._action_act(a) in _ENGAGING and (api := self._action_api(a))
        }
        new_api = next(
            (
                api
                for a in next_actions
                if (a.kind is ActionKind.API or self._action_act(a) in _ENGAGING)
                and (api := self._action_api(a))
                and api not in engaged
            ),
            None,
        )
        if new_api is None:
            # "Book that one": the API is now bound to another API's result than it was before.
            before: dict[tuple[str, str], set[str]] = {}
            for a in prior:
                api = self._action_api(a)
                if api is not None and (a.kind is ActionKind.API or self._action_act(a) in _ENGAGING):
                    for arg, entity in a.arguments.items():
                        before.setdefault((api, arg), set()).add(entity)
            for a in next_actions:
                api = self._action_api(a)
                if api is None or not (a.kind is ActionKind.API or self._action_act(a) in _ENGAGING):
                    continue
                for arg, entity in a.arguments.items():
                    earlier_entities = before.get((api, arg))
                    if (
                        "." in entity
                        and call_api.get(entity.split(".")[0]) not in (None, api)
                        and earlier_entities is not None
                        and entity not in earlier_entities
                    ):
                        new_api = api
                        break
                if new_api:
                    break
        if has_spans:
            earlier: dict[str, set[str]] = {}
            for a in prior:
                for arg, entity in a.arguments.items():
                    earlier.setdefault(arg, set()).add(entity)
            if slots and all(name in earlier for name, _ in slots):
                return UserAct.CHANGE, None
            if new_api is not None:
                return UserAct.INVOKE, new_api
            return UserAct.INFORM, None
        if next_actions and all(self._action_act(a) is DialogAct.GOODBYE for a in next_actions):
            return UserAct.GOODBYE, None
        last_call: dict[str, dict[str, str]] = {a.name: dict(a.arguments) for a in prior if a.kind is ActionKind.API}
        for a in next_actions:
            if a.kind is ActionKind.API and last_call.get(a.name) == dict(a.arguments):
                return UserAct.REQUEST_MORE, None
        if new_api is not None:
            return UserAct.INVOKE, new_api
        asked = [
            (act, api)
            for a in prev_actions
            if (act := self._action_act(a)) in (DialogAct.CONFIRM_ARGS, DialogAct.CONFIRM_API, DialogAct.OFFER_API)
            and (api := self._action_api(a))
        ]
        if asked:
            act, api = asked[-1]
            if any(a.kind is ActionKind.API and a.name == api for a in next_actions):
                return UserAct.AFFIRM, None
            if act is DialogAct.OFFER_API and any(
                self._action_api(a) == api and self._action_act(a) in (DialogAct.REQUEST_ARGS, DialogAct.CONFIRM_API)
                for a in next_actions
            ):
                return UserAct.AFFIRM, None
            if not any(self._action_api(a) == api for a in next_actions):
                return UserAct.DENY, None
        return None, None

    # -------------------------------------------------------- rendering

    def render(self, plan: UserTurnPlan, rng: random.Random) -> list[Segment]:
        """The segments of a user turn that does ``plan``: each planned value mentioned exactly once.

        Each mention is ``Mention(name, value)`` for ``name, value in plan.mentions.items()``;
        there is no other mention. Raises ValueError for a plan with nothing to say.
        """
        if plan.question is not None:
            return [plan.question.text]
        if plan.reaction is not None and not plan.mentions:
            said = self.reactions.get(plan.reaction) or _REACTIONS[plan.reaction]
            return [said[rng.randrange(len(said))]]
        mentions = plan.mentions
        key: _RecipeKey = (
            tuple(plan.acts),
            plan.api,
            plan.anaphora,
            frozenset([(n, v.slot_type) for n, v in mentions.items()]),
        )
        recipe = self._recipes.get(key)
        if recipe is None:
            recipe = self._recipes[key] = self._recipe(*key)
        chosen: list[tuple[UserAct, list[_Option]]] = []
        for section in recipe:
            alternatives = section.alternatives
            alt = alternatives[0] if len(alternatives) == 1 else alternatives[_pick(section.cum_weights, rng)]
            options = [p[0] if len(p) == 1 else p[rng.randrange(len(p))] for p in alt]
            if len(options) > 2:
                rest = options[1:]
                rng.shuffle(rest)
                options[1:] = rest
            chosen.append((section.act, options))
        out: list[Segment] = []
        previous: _Option | None = None
        for s, (act, options) in enumerate(chosen):
            # "No" before "No, it's 4 passengers" says it twice.
            if (
                act in (UserAct.AFFIRM, UserAct.DENY)
                and s + 1 < len(chosen)
                and chosen[s + 1][1]
                and chosen[s + 1][1][0].opens is act
            ):
                continue
            for k, option in enumerate(options):
                if previous is None:
                    self._emit(out, option.upper, mentions, True)
                else:
                    if previous.stop:
                        joiner, cap = " ", True
                    elif k == 0:
                        joiner, cap = _ACT_JOINERS[_pick(_ACT_CUM, rng)]
                    else:
                        joiner, cap = _REST_JOINERS[_pick(_REST_CUM, rng)]
                    if cap and option.bare and not previous.stop:
                        joiner, cap = ", ", False
                    _push(out, joiner)
                    self._emit(out, option.upper if cap else option.lower, mentions, cap)
                previous = option
        return out

    @staticmethod
    def _emit(out: list[Segment], parts: tuple[_RenderPart, ...], mentions: Mapping[str, Value], cap: bool) -> None:
        said = ""
        for i, p in enumerate(parts):
            if isinstance(p, str):
                _push(out, p)
            elif isinstance(p, Hole):
                value = mentions[p.name]
                said = value.text
                if p.on and _takes_on(said):
                    _push(out, "On " if cap and i == 0 else "on ")
                out.append(Mention(p.name, value))
            elif isinstance(p, _Echo):
                n = len(p.word)
                if said[-n:].lower() == p.word and (len(said) == n or said[-n - 1] == " "):
                    _push(out, p.text[n + 1 :])
                else:
                    _push(out, p.text)
            elif isinstance(p, _Article):
                after = parts[i + 1]
                article = _article_for(mentions[after.name].text) if isinstance(after, Hole) else "a"
                _push(out, p.head + (article.capitalize() if p.capital else article) + " ")
            else:
                _push(out, p.singular if mentions[p.number].value == "1" else p.plural)

    def _recipe(
        self, acts: tuple[UserAct, ...], api: str | None, anaphora: bool, mention_items: frozenset[tuple[str, str]]
    ) -> list[_Section]:
        mentions = dict(sorted(mention_items))
        sections: list[_Section] = []
        carrier_done = False
        for act in acts:
            act = UserAct(act)
            if act in _MENTION_ACTS:
                given = {} if carrier_done else mentions
                carrier_done = True
                if not given and act is not UserAct.INVOKE:
                    continue
                sections.append(self._mention_section(act, api, anaphora, given))
            else:
                options = tuple(self._option(t, {}) for t in self._pool(act, api) if not t.slots)
                if not options:
                    options = tuple(_option((text,), {}, None) for text in _FALLBACKS[act])
                sections.append(_Section(act, ((options,),), (1.0,)))
        if not carrier_done and mentions:
            sections.append(self._mention_section(UserAct.INFORM, api, False, mentions))
        if not sections:
            raise ValueError(f"nothing to say for acts {[str(a) for a in acts]} without mentions")
        return sections

    def _option(self, template: Template, mapping: Mapping[str, str]) -> _Option:
        types = {n: self._builtin_types.get(t) for n, t in template.slots}
        return _option(template.parts, mapping, template, types, self._singulars)

    def _pool(self, act: UserAct, api: str | None) -> list[Template]:
        if act is UserAct.INVOKE:
            return self._pools.get((act, api), []) if api is not None else []
        pool = list(self._pools.get((act, None), []))
        if api is not None:
            pool += self._pools.get((act, api), [])
        return pool

    def _mention_section(self, act: UserAct, api: str | None, anaphora: bool, mentions: Mapping[str, str]) -> _Section:
        pool = self._pool(act, api)
        if act is UserAct.INVOKE:
            pool = [t for t in pool if t.anaphoric == anaphora]
        exact: list[_Option] = []
        groups: dict[frozenset[str], list[_Option]] = {}
        for t in pool:
            if len(t.slots) > len(mentions):
                continue
            mapping = _map_slots(t.slots, mentions, self._argument_names)
            if mapping is None:
                continue
            option = self._option(t, mapping)
            if len(mapping) == len(mentions):
                exact.append(option)
            elif mapping or act is UserAct.INVOKE:
                groups.setdefault(frozenset(mapping.values()), []).append(option)
        if exact:
            return _Section(act, ((tuple(exact),),), (1.0,))
        alternatives: list[tuple[tuple[_Option, ...], ...]] = []
        weights: list[float] = []
        # Larger first parts read better; the few best of them give variety.
        for covered, options in sorted(groups.items(), key=lambda g: -len(g[0]))[:8]:
            rest = {n: t for n, t in mentions.items() if n not in covered}
            alternatives.append((tuple(options), *self._cover(api, rest)))
            weights.append(float((len(covered) + 1) ** 2))
        if not alternatives:
            if act is UserAct.INVOKE:
                primary = self._invoke_fallback(api, anaphora)
                alternatives.append((primary, *self._cover(api, mentions)))
            elif act is UserAct.CHANGE:
                first = next(iter(mentions))
                rest = {n: t for n, t in mentions.items() if n != first}
                alternatives.append((self._carriers(first, mentions[first], change=True), *self._cover(api, rest)))
            else:
                alternatives.append(tuple(self._cover(api, mentions)))
            weights.append(1.0)
        cum: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            cum.append(total)
        return _Section(act, tuple(alternatives), tuple(cum))

    def _cover(self, api: str | None, mentions: Mapping[str, str]) -> list[tuple[_Option, ...]]:
        """Inform parts that together mention exactly ``mentions``: the largest templates first."""
        parts: list[tuple[_Option, ...]] = []
        remaining = dict(mentions)
        pool = [t for t in self._pool(UserAct.INFORM, api) if t.slots]
        while remaining:
            groups: dict[frozenset[str], list[_Option]] = {}
            for t in pool:
                if len(t.slots) > len(remaining):
                    continue
                mapping = _map_slots(t.slots, remaining, self._argument_names)
                if mapping:
                    groups.setdefault(frozenset(mapping.values()), []).append(self._option(t, mapping))
            if not groups:
                for name, slot_type in remaining.items():
                    parts.append(self._carriers(name, slot_type, change=False))
                break
            covered, options = max(groups.items(), key=lambda g: len(g[0]))
            parts.append(tuple(options))
            remaining = {n: t for n, t in remaining.items() if n not in covered}
        return parts

    def _carriers(self, name: str, slot_type: str, *, change: bool) -> tuple[_Option, ...]:
        words = name.replace("_", " ")
        h = Hole(name)
        builtin = self._builtin_types.get(slot_type)
        phrases: list[tuple[Part, ...]]
        if change:
            phrases = [("actually, ", h), ("make it ", h, " instead"), (f"change the {words} to ", h), ("I meant ", h)]
        elif builtin is BuiltinType.DATE:
            phrases = [(Hole(name, on=True),), (h,), (f"the {words} is ", h)]
        elif builtin is BuiltinType.TIME:
            phrases = [("at ", h), ("around ", h), (h,)]
        elif builtin is BuiltinType.NUMBER:
            phrases = [(h,), (f"{words}: ", h)]
        else:
            phrases = [(h,), (h, ", please"), (f"the {words} is ", h)]
        identity = {name: name}
        return tuple(_option(p, identity, None) for p in phrases)

    def _invoke_fallback(self, api: str | None, anaphora: bool) -> tuple[_Option, ...]:
        words = _api_words(api) if api else "get some help"
        if anaphora:
            verb = words.split(" ", 1)[0]
            phrases = [
                f"{verb.capitalize()} it",
                f"{verb.capitalize()} that one",
                "That one works",
                "I'll take that one",
            ]
        else:
            phrases = [f"I'd like to {words}", f"Can you {words}?", f"I want to {words}"]
        return tuple(_option((p,), {}, None) for p in phrases)


# ---------------------------------------------------------------- paraphrasing


def _merged(segments: Sequence[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in segments:
        if isinstance(s, str):
            if s:
                _push(out, s)
        else:
            out.append(s)
    return out


def _replace_word(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new`` where it is a whole word (sequence)."""
    i = text.find(old)
    if i < 0:
        return text
    out: list[str] = []
    start, n = 0, len(old)
    while i >= 0:
        j = i + n
        if (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "'")) and (
            j == len(text) or not (text[j].isalnum() or text[j] == "'")
        ):
            out.append(text[start:i])
            out.append(new)
            start = j
            i = text.find(old, j)
        else:
            i = text.find(old, i + 1)
    out.append(text[start:])
    return "".join(out)


_CONTRACTIONS: tuple[tuple[str, str], ...] = (
    ("I would", "I'd"),
    ("I am", "I'm"),
    ("I will", "I'll"),
    ("do not", "don't"),
    ("Do not", "Don't"),
    ("does not", "doesn't"),
    ("is not", "isn't"),
    ("will not", "won't"),
    ("cannot", "can't"),
    ("it is", "it's"),
    ("It is", "It's"),
    ("that is", "that's"),
    ("That is", "That's"),
    ("what is", "what's"),
    ("What is", "What's"),
    ("there is", "there's"),
    ("There is", "There's"),
    ("we would", "we'd"),
    ("We would", "We'd"),
    ("we will", "we'll"),
    ("We will", "We'll"),
    ("let us", "let's"),
    ("Let us", "Let's"),
)
_EXPANSIONS = tuple((b, a) for a, b in _CONTRACTIONS)
_SLANG: tuple[tuple[str, str], ...] = (("want to", "wanna"), ("going to", "gonna"), ("Want to", "Wanna"))
_IMPERATIVES = frozenset(
    {
        "find",
        "book",
        "show",
        "search",
        "get",
        "reserve",
        "order",
        "send",
        "check",
        "give",
        "tell",
        "make",
        "change",
        "look",
        "help",
        "fly",
        "cancel",
        "add",
        "put",
        "switch",
        "deliver",
    }
)
_FILLERS = ("Um, ", "Uh, ", "So, ", "Well, ", "Hmm, ", "Okay, ")
_GREETINGS = ("Hi, ", "Hello, ", "Hey, ")
_HEDGES = ("I think ", "Maybe ", "I guess ")
_INTERJECTIONS = frozenset({"um", "uh", "hmm", "so", "well", "okay", "oh", "actually", "sorry", "hi", "hello", "hey"})


def _map_literals(segments: list[Segment], table: Sequence[tuple[str, str]]) -> list[Segment]:
    out: list[Segment] = []
    for s in segments:
        if isinstance(s, str):
            for old, new in table:
                if old in s:
                    s = _replace_word(s, old, new)
        out.append(s)
    return out


def _prefix(segments: list[Segment], prefix: str) -> list[Segment]:
    first = segments[0]
    if isinstance(first, str):
        return [prefix + _lower_first(first), *segments[1:]]
    return [prefix, *segments]


def _ends_question(segments: Sequence[Segment]) -> bool:
    last = segments[-1]
    return isinstance(last, str) and last.rstrip().endswith("?")


def _swap_route(segments: list[Segment]) -> list[Segment]:
    """``from {a} to {b}`` <-> ``to {b} from {a}``, only where both are that simple."""
    for i in range(len(segments) - 3):
        head, a, mid, b = segments[i : i + 4]
        if not (isinstance(head, str) and isinstance(a, Mention) and isinstance(b, Mention)):
            continue
        tail = segments[i + 4] if i + 4 < len(segments) else None
        if isinstance(tail, str) and tail[:1].isalnum():
            continue
        for first, second in ((" to ", " from "), (" from ", " to ")):
            word = second.lstrip()
            said = head[-len(word) :]
            if mid == first and said.lower() == word and (len(head) == len(word) or not head[-len(word) - 1].isalnum()):
                replacement = first.lstrip()
                if said[0].isupper():
                    replacement = replacement.capitalize()
                return [*segments[:i], head[: -len(word)] + replacement, b, second, a, *segments[i + 4 :]]
    return segments


@dataclass(frozen=True)
class RuleParaphraser:
    """Varies the plain text of a user turn by rules, each applied with its probability.

    Never changes a mention; ``reorder`` may swap two mentions in "from X to Y".
    """

    filler: float = 0.08
    politeness: float = 0.12
    hedge: float = 0.06
    contraction: float = 0.3
    slang: float = 0.03
    reorder: float = 0.2
    drop_punctuation: float = 0.25
    lowercase: float = 0.15

    def paraphrase(self, segments: Sequence[Segment], acts: Sequence[UserAct], rng: random.Random) -> list[Segment]:
        segs = _merged(segments)
        if not segs:
            return segs
        r = rng.random
        if r() < self.reorder:
            segs = _swap_route(segs)
        if r() < self.contraction:
            segs = _map_literals(segs, _CONTRACTIONS if r() < 0.6 else _EXPANSIONS)
        if r() < self.slang:
            segs = _map_literals(segs, _SLANG)
        informative = UserAct.INVOKE in acts or UserAct.INFORM in acts or UserAct.CHANGE in acts
        if informative and r() < self.politeness:
            segs = self._polite(segs, rng)
        first = segs[0]
        word = first.split(" ", 1)[0].lower().strip(",.!") if isinstance(first, str) else ""
        opener = word in _AFFIRM_WORDS or word in _DENY_WORDS or word in _INTERJECTIONS
        hedged = acts[0] in (UserAct.INFORM, UserAct.CHANGE) if acts else False
        if hedged and r() < self.hedge and not opener and not _ends_question(segs):
            segs = _prefix(segs, _HEDGES[rng.randrange(len(_HEDGES))])
            opener = True
        if r() < self.filler and word not in _INTERJECTIONS:
            fillers = _GREETINGS + _FILLERS if acts and acts[0] is UserAct.INVOKE else _FILLERS
            segs = _prefix(segs, fillers[rng.randrange(len(fillers))])
        if r() < self.drop_punctuation:
            last = segs[-1]
            if isinstance(last, str):
                stripped = last.rstrip(".!?")
                segs = [*segs[:-1], stripped] if stripped else segs[:-1]
        if r() < self.lowercase:
            first = segs[0]
            if isinstance(first, str):
                segs = [_lower_first(first), *segs[1:]]
        return segs

    @staticmethod
    def _polite(segs: list[Segment], rng: random.Random) -> list[Segment]:
        if any(isinstance(s, str) and "please" in s.lower() for s in segs):
            return segs
        first = segs[0]
        word = first.split(" ", 1)[0].lower().strip(",.!") if isinstance(first, str) else ""
        choice = rng.randrange(4) if word in _IMPERATIVES else rng.randrange(2)
        if choice >= 2:  # "Please find me..." / "Could you find me...?"
            if choice == 2:
                return _prefix(segs, "Please ")
            segs = _prefix(segs, "Could you " if rng.random() < 0.5 else "Can you ")
            last = segs[-1]
            if isinstance(last, str):
                return [*segs[:-1], last.rstrip(".!") + ("" if last.endswith("?") else "?")]
            return [*segs, "?"]
        suffix = ", please" if choice == 0 else ", thanks"
        last = segs[-1]
        if isinstance(last, str):
            core = last.rstrip(".!?")
            return [*segs[:-1], core + suffix + last[len(core) :]]
        return [*segs, suffix]


class NoParaphraser:
    """Leaves the wording as it is."""

    def paraphrase(self, segments: Sequence[Segment], acts: Sequence[UserAct], rng: random.Random) -> list[Segment]:
        return list(segments)


class ChainParaphraser:
    """Applies paraphrasers one after the other."""

    def __init__(self, *paraphrasers: Paraphraser) -> None:
        self.paraphrasers = paraphrasers

    def paraphrase(self, segments: Sequence[Segment], acts: Sequence[UserAct], rng: random.Random) -> list[Segment]:
        out = list(segments)
        for p in self.paraphrasers:
            out = p.paraphrase(out, acts, rng)
        return out


__all__ = [
    "DEFAULT_TODAY",
    "ChainParaphraser",
    "Hole",
    "NoParaphraser",
    "RuleParaphraser",
    "Template",
    "UtteranceBank",
    "ValueSampler",
]
