"""The five kinds of skill component and how each maps to the skill spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import skillspec

from . import models

# The spec item of any kind of component.
SpecItem: TypeAlias = (
    skillspec.SlotType | skillspec.Api | skillspec.ResponseTemplate | skillspec.UtteranceSet | skillspec.SampleDialogue
)


@dataclass(frozen=True)
class ComponentKind:
    """One kind of component: its URL slug, its row model and its spec item class."""

    slug: str  # URL segment, e.g. "slot-types"
    field: str  # attribute of skillspec.Skill and related name on models.Skill, e.g. "slot_types"
    model: type[models.Component]
    spec: type[SpecItem]
    label: str  # human name, singular
    label_plural: str


SLOT_TYPES = ComponentKind("slot-types", "slot_types", models.SlotType, skillspec.SlotType, "slot type", "slot types")
APIS = ComponentKind("apis", "apis", models.Api, skillspec.Api, "API", "APIs")
RESPONSE_TEMPLATES = ComponentKind(
    "response-templates",
    "response_templates",
    models.ResponseTemplate,
    skillspec.ResponseTemplate,
    "response template",
    "response templates",
)
UTTERANCE_SETS = ComponentKind(
    "utterance-sets", "utterance_sets", models.UtteranceSet, skillspec.UtteranceSet, "utterance set", "utterance sets"
)
SAMPLE_DIALOGUES = ComponentKind(
    "sample-dialogues",
    "sample_dialogues",
    models.SampleDialogue,
    skillspec.SampleDialogue,
    "sample dialogue",
    "sample dialogues",
)

KINDS: tuple[ComponentKind, ...] = (SLOT_TYPES, APIS, RESPONSE_TEMPLATES, UTTERANCE_SETS, SAMPLE_DIALOGUES)
BY_SLUG = {k.slug: k for k in KINDS}
BY_MODEL: dict[type[models.SkillComponent], ComponentKind] = {k.model: k for k in KINDS}


def kind_of(component: models.SkillComponent) -> ComponentKind:
    return BY_MODEL[type(component)]
