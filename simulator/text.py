"""Text with mentions: how utterances are built so that span annotations stay exact.

An utterance is built as a list of segments — plain strings and :class:`Mention` s —
and every transformation (template filling, paraphrasing) works on segments. Offsets
are computed only once, by :func:`assemble`, so they cannot drift.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from skillspec import BuiltinType, template_parts
from skillspec.annotated import REFERENCE_DATE  # re-exported: the simulator's modules read it here
from skillspec.builtins import MONTH_NAMES


@dataclass(frozen=True, slots=True)
class Value:
    """A slot value: its slot type, its canonical value and how it is said."""

    slot_type: str
    value: str
    text: str


@dataclass(frozen=True, slots=True)
class Mention:
    """A value mentioned in an utterance, for argument ``name`` (an API/utterance argument)."""

    name: str
    value: Value


Segment = str | Mention


@dataclass(frozen=True, slots=True)
class PlacedMention:
    start: int
    end: int
    mention: Mention


def assemble(segments: Sequence[Segment]) -> tuple[str, list[PlacedMention]]:
    """Join segments into text; each mention's character offsets in it."""
    parts: list[str] = []
    placed: list[PlacedMention] = []
    pos = 0
    for seg in segments:
        if isinstance(seg, str):
            parts.append(seg)
            pos += len(seg)
        else:
            placed.append(PlacedMention(pos, pos + len(seg.value.text), seg))
            parts.append(seg.value.text)
            pos += len(seg.value.text)
    return "".join(parts), placed


def fill(template: str, values: Mapping[str, Value]) -> list[Segment]:
    """Segments of ``template`` with each ``{name}`` replaced by a mention of ``values[name]``.

    Raises KeyError for a placeholder without a value.
    """
    segments: list[Segment] = []
    for literal, field in template_parts(template):
        if literal:
            segments.append(literal)
        if field is not None:
            segments.append(Mention(field, values[field]))
    return segments


def speak(builtin: BuiltinType, value: str) -> str:
    """How the system says a built-in value: "March 3", "7:30 PM", "2" (the canonical value if unparsable)."""
    try:
        if builtin is BuiltinType.DATE:
            year, month, day = (int(x) for x in value.split("-"))
            return f"{MONTH_NAMES[month - 1]} {day}"
        if builtin is BuiltinType.TIME:
            hour, minute = (int(x) for x in value.split(":"))
            suffix = "AM" if hour < 12 else "PM"
            return f"{(hour % 12) or 12}:{minute:02d} {suffix}" if minute else f"{(hour % 12) or 12} {suffix}"
    except (ValueError, IndexError):
        pass
    return value


def choose_variant(variants: Sequence[str], rng: random.Random) -> str:
    return variants[rng.randrange(len(variants))]


__all__ = [
    "REFERENCE_DATE",
    "Mention",
    "PlacedMention",
    "Segment",
    "Value",
    "assemble",
    "choose_variant",
    "fill",
    "speak",
]
