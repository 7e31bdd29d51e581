"""Utterance templates: literal text and typed placeholders, parsed from the spec.

:class:`Template` is one way to say a user act, made of literal strings and
:class:`Hole` placeholders (``Part``). ``_parse_variant`` reads an utterance-set variant
into parts and ``_strip_parts`` trims them (also for delexicalised sample turns);
``_words`` and ``_first_word`` read a template's words, checked against the word sets
here (anaphoric words, yes and no words).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

from skillspec import UserAct, template_parts


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


def _words(parts: Sequence[Part]) -> list[str]:
    text = " ".join(p for p in parts if isinstance(p, str)).lower().translate(_STRIP_PUNCT)
    return [w.split("'")[0] for w in text.split()]


def _first_word(parts: Sequence[Part]) -> str:
    if not parts or not isinstance(parts[0], str):
        return ""
    words = parts[0].lower().translate(_STRIP_PUNCT).split()
    return words[0] if words else ""


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
