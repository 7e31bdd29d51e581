"""The fallback response: what a manager says to a user turn its skill does not handle.

A skill may author it: a response template whose act is ``fallback`` (the first one is used;
no API, no arguments). A skill that authors none gets :data:`DEFAULT_FALLBACK`, named
``fallback``. Everything that looks templates up by name (validation, the simulator, the
models) goes through :func:`response_templates`, so the default is one of the skill's
responses everywhere without being written into the spec.
"""

from __future__ import annotations

from .models import DialogAct, ResponseTemplate, Skill

FALLBACK_NAME = "fallback"

DEFAULT_FALLBACK = ResponseTemplate(
    name=FALLBACK_NAME,
    act=DialogAct.FALLBACK,
    variants=[
        "Sorry, I can't help with that. Is there something else I can do for you?",
        "I'm afraid that's not something I can do. What else can I help you with?",
        "Sorry, that's outside what I can help with here.",
    ],
)


def fallback_template(skill: Skill) -> ResponseTemplate:
    """The skill's fallback response: its first template of act ``fallback``, else the default."""
    return next((t for t in skill.response_templates if t.act is DialogAct.FALLBACK), DEFAULT_FALLBACK)


def response_templates(skill: Skill) -> list[ResponseTemplate]:
    """The skill's response templates, with the default fallback last when it authors none."""
    templates = list(skill.response_templates)
    if not any(t.act is DialogAct.FALLBACK for t in templates):
        templates.append(DEFAULT_FALLBACK)
    return templates
