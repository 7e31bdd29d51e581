"""Making a template's literal text agree with the values said in it.

Casing (``_lower_first``, ``_upper_first``, ``_recase``), "on" before a date only where
it reads well (``_takes_on``), articles that agree with what follows ("an XL"),
nouns that agree with a number ("1 passenger", "2 passengers"), and words not said
twice ("thin crust", not "thin crust crust"). ``_option`` applies all of them to a
template's parts, with holes renamed to mentions, giving the ``_Option`` the bank
renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from skillspec import BuiltinType, UserAct
from skillspec.builtins import MONTH_NAMES, WEEKDAY_NAMES

from .templates import _AFFIRM_WORDS, _DENY_WORDS, Hole, Part, Template, _first_word

_MONTH_WORDS = frozenset(m.lower() for m in MONTH_NAMES) | frozenset(m[:3].lower() for m in MONTH_NAMES)
_WEEKDAY_WORDS = frozenset(d.lower() for d in WEEKDAY_NAMES)


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
