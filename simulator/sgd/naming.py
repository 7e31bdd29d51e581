"""Names in the imported skill: SGD names respelled as valid spec names
(:func:`valid_name`, :func:`snake`), shortened to the spec's length limit with a digest
(``_fit``) and made unique among the names already taken (``_unique``), and the names of
the response templates, one per template signature (``_template_names``)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # turns imports schema, which imports this module
    from .turns import _TemplateKey

NAME_MAX = 64


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
