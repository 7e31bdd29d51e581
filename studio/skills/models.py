"""Storage of skills. Each component row keeps its skill-spec item as JSON.

The spec (``skillspec``) is the single definition of what a component is, so
rows store the spec item verbatim in ``data`` and only lift out what the
database must index or constrain (the name, the order). See docs/adr/0002.
"""

from typing import TypeAlias

from django.conf import settings
from django.db import models


class Skill(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skills")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.name


class SkillComponent(models.Model):
    """A named part of a skill; ``data`` holds the matching skillspec item as JSON."""

    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    data = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SlotType(SkillComponent):
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="slot_types")

    class Meta(SkillComponent.Meta):
        constraints = [models.UniqueConstraint(fields=["skill", "name"], name="unique_slot_type_name")]


class Api(SkillComponent):
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="apis")

    class Meta(SkillComponent.Meta):
        verbose_name = "API"
        constraints = [models.UniqueConstraint(fields=["skill", "name"], name="unique_api_name")]


class ResponseTemplate(SkillComponent):
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="response_templates")

    class Meta(SkillComponent.Meta):
        constraints = [models.UniqueConstraint(fields=["skill", "name"], name="unique_response_template_name")]


class UtteranceSet(SkillComponent):
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="utterance_sets")

    class Meta(SkillComponent.Meta):
        constraints = [models.UniqueConstraint(fields=["skill", "name"], name="unique_utterance_set_name")]


class SampleDialogue(SkillComponent):
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="sample_dialogues")

    class Meta(SkillComponent.Meta):
        constraints = [models.UniqueConstraint(fields=["skill", "name"], name="unique_sample_dialogue_name")]


# One component row of any kind. The abstract base has no ``skill`` key or manager (each kind declares its own,
# for its related name), so code that needs them takes this union of the concrete models.
Component: TypeAlias = SlotType | Api | ResponseTemplate | UtteranceSet | SampleDialogue
