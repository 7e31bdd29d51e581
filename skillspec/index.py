"""A skill's components by name: the one lookup every layer uses.

Slot types, APIs, response templates and utterance sets each have their own namespace
(API and template names are also kept apart from each other by validation). Where a name
repeats — only in a skill that validation refuses — the **first** component keeps it, so
a lookup agrees with validation, which reports the later duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def by_name(components: Iterable[N]) -> dict[str, N]:
    """``name -> component``; the first of a repeated name keeps it."""
    out: dict[str, N] = {}
    for c in components:
        out.setdefault(c.name, c)
    return out
