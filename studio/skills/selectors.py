"""Reads. Every read of a skill goes through the owner, so no user reaches another's skill."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, QuerySet
from django.http import Http404

import skillspec

from . import models
from .components import KINDS, ComponentKind


def skill_list(*, user: User | AnonymousUser) -> QuerySet[models.Skill]:
    """The user's skills, newest first, annotated with component counts."""
    if not user.is_authenticated:
        return models.Skill.objects.none()
    # Explicit order_by: Django drops Meta.ordering from GROUP BY (annotated) queries.
    return (
        models.Skill.objects.filter(owner=user)
        .annotate(**{f"{k.field}_count": Count(k.field, distinct=True) for k in KINDS})
        .order_by("-updated_at", "-id")
    )


def skill_get(*, user: User | AnonymousUser, skill_id: int) -> models.Skill:
    """The user's skill ``skill_id``; 404 when it does not exist *or belongs to someone else*."""
    if not user.is_authenticated:
        raise Http404("No such skill")
    try:
        return models.Skill.objects.get(pk=skill_id, owner=user)
    except models.Skill.DoesNotExist:
        raise Http404("No such skill") from None


def component_list(*, skill: models.Skill, kind: ComponentKind) -> QuerySet[models.SkillComponent]:
    return kind.model.objects.filter(skill=skill).order_by("position", "id")


def component_get(*, skill: models.Skill, kind: ComponentKind, pk: int) -> models.Component:
    """A component of ``skill`` (already checked for ownership); 404 when absent."""
    try:
        return kind.model.objects.get(skill=skill, pk=pk)
    except kind.model.DoesNotExist:
        raise Http404(f"No such {kind.label}") from None


def skill_to_spec(*, skill: models.Skill) -> skillspec.Skill:
    """The stored skill as a spec object (rows in their authored order)."""
    parts = {k.field: [k.spec.model_validate(row.data) for row in component_list(skill=skill, kind=k)] for k in KINDS}
    return skillspec.Skill(name=skill.name, description=skill.description, **parts)


def skill_validation(*, skill: models.Skill) -> tuple[list[skillspec.Issue], list[skillspec.Issue]]:
    """(errors, warnings) for the stored skill. Errors should be empty: writes are validated."""
    spec = skill_to_spec(skill=skill)
    return skillspec.validate_skill(spec), skillspec.lint_skill(spec)


def skill_counts(*, skill: models.Skill) -> dict[str, int]:
    return {k.field: k.model.objects.filter(skill=skill).count() for k in KINDS}


def skill_export(*, skill: models.Skill) -> str:
    """The skill as skill-spec JSON text (what ``skill_import`` reads back, losslessly)."""
    return skillspec.dump_skill(skill_to_spec(skill=skill))
