"""Renaming a slot type, API or response template together with every reference to it."""

from __future__ import annotations

from typing import Any

from .models import ActionKind, Skill


def rename(skill: Skill, field: str, old: str, new: str) -> Skill:
    """A copy of ``skill`` in which references to ``field``'s item ``old`` say ``new``.

    ``field`` is ``"slot_types"``, ``"apis"`` or ``"response_templates"``; other
    components are not referred to by name, so renaming them changes nothing else.
    """
    data: dict[str, Any] = skill.model_dump(mode="json")
    if field == "slot_types":
        for section in ("apis", "response_templates", "utterance_sets"):
            for item in data[section]:
                for part in ("arguments", "returns"):
                    for arg in item.get(part, []):
                        if arg["slot_type"] == old:
                            arg["slot_type"] = new
        for dialogue in data["sample_dialogues"]:
            for turn in dialogue["turns"]:
                for span in turn.get("spans", []):
                    if span["slot_type"] == old:
                        span["slot_type"] = new
    elif field in ("apis", "response_templates"):
        action_kind = ActionKind.API if field == "apis" else ActionKind.RESPONSE
        if field == "apis":
            for section in ("response_templates", "utterance_sets"):
                for item in data[section]:
                    if item.get("api") == old:
                        item["api"] = new
        for dialogue in data["sample_dialogues"]:
            for turn in dialogue["turns"]:
                for action in turn.get("actions", []):
                    if action["kind"] == action_kind and action["name"] == old:
                        action["name"] = new
    else:
        return skill
    return Skill.model_validate(data)
