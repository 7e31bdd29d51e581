"""Template text: the one reading of ``{name}`` placeholders, and rendering.

Response templates, utterance templates and the importers' generated variants all use it:
``{name}`` is a placeholder (a Python identifier), ``{{`` and ``}}`` are literal braces,
and nothing else is allowed (no positional ``{}``, format specs or conversions). The
validator, the simulator, the checker and the runtime read templates only through here,
so they cannot disagree on what a template says.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

_FORMATTER = string.Formatter()


def template_parts(text: str) -> list[tuple[str, str | None]]:
    """``text`` as (literal text, the placeholder after it or None) pairs, in order.

    Braces are unescaped in the literals (``{{`` reads as ``{``; a literal may end at one,
    with the rest in the next pair, as ``string.Formatter`` reads it). Raises ValueError for
    malformed braces, positional ``{}``, format specs or conversions.
    """
    parts: list[tuple[str, str | None]] = []
    for literal, field, spec, conversion in _FORMATTER.parse(text):
        if field is not None and (field == "" or not field.isidentifier() or spec or conversion):
            raise ValueError(
                f"bad placeholder {{{field}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
            )
        parts.append((literal, field))
    return parts


def placeholders(text: str) -> list[str]:
    """The ``{names}`` used in a template text, in order; ``{{`` and ``}}`` are literal braces.

    Raises ValueError for malformed braces, positional ``{}`` or format specs.
    """
    return [field for _, field in template_parts(text) if field is not None]


def render(text: str, values: Mapping[str, str], *, keep_missing: bool = False) -> str:
    """The template with each placeholder replaced by ``values[name]``.

    A placeholder without a value raises KeyError, or with ``keep_missing`` is written back
    as ``{name}`` (the runtime's response to an argument it could not fill shows the gap).
    """
    out = []
    for literal, field in template_parts(text):
        out.append(literal)
        if field is not None:
            if field in values:
                out.append(values[field])
            elif keep_missing:
                out.append("{" + field + "}")
            else:
                raise KeyError(field)
    return "".join(out)
