"""Writes. Every change to a skill goes through one of these functions.

Each write builds the whole skill spec as it would be after the change and
validates it; an invalid result raises :class:`skillspec.SpecValidationError`
and nothing is saved. Writes to one skill are serialised by locking its row,
because validity is a property of the whole skill.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Manager

import skillspec

from . import models
from .components import KINDS, SLOT_TYPES, ComponentKind, SpecItem, kind_of
from .selectors import component_list, skill_to_spec

MAX_NAME = 200


def _check_skill_fields(name: str, description: str) -> None:
    issues = []
    for field, value in (("name", name), ("description", description)):
        if "\x00" in value:
            issues.append(skillspec.Issue(field, "must not contain the NUL character"))
    if not name.strip():
        issues.append(skillspec.Issue("name", "a skill needs a name"))
    elif len(name) > MAX_NAME:
        issues.append(skillspec.Issue("name", f"at most {MAX_NAME} characters"))
    if len(description) > 4000:
        issues.append(skillspec.Issue("description", "at most 4000 characters"))
    if issues:
        raise skillspec.SpecValidationError(issues)


@transaction.atomic
def skill_create(*, owner: User, name: str, description: str = "") -> models.Skill:
    _check_skill_fields(name, description)
    return models.Skill.objects.create(owner=owner, name=name.strip(), description=description)


@transaction.atomic
def skill_update(*, skill: models.Skill, name: str, description: str) -> models.Skill:
    _check_skill_fields(name, description)
    skill.name, skill.description = name.strip(), description
    skill.save(update_fields=["name", "description", "updated_at"])
    return skill


@transaction.atomic
def skill_delete(*, skill: models.Skill) -> None:
    skill.delete()


@transaction.atomic
def skill_import(*, owner: User, data: str | bytes | dict[str, Any]) -> models.Skill:
    """Create a new skill of ``owner`` from skill-spec JSON; raises SpecValidationError with every problem."""
    spec = skillspec.parse_skill(data)
    skill = models.Skill.objects.create(owner=owner, name=spec.name, description=spec.description)
    for kind in KINDS:
        # Typed as the base's manager: with kind.model a union, mypy cannot pair each row with its own kind's manager.
        rows: Manager[models.SkillComponent] = kind.model.objects
        rows.bulk_create(
            kind.model(skill=skill, name=item.name, position=i, data=item.model_dump(mode="json"))
            for i, item in enumerate(getattr(spec, kind.field))
        )
    return skill


def _lock(skill: models.Skill) -> None:
    models.Skill.objects.select_for_update().filter(pk=skill.pk).first()


def _relative(issues: list[skillspec.Issue], prefix: str) -> list[skillspec.Issue]:
    """Paths inside the edited item become relative to it; others stay absolute."""
    out = []
    for issue in issues:
        if issue.path == prefix:
            out.append(skillspec.Issue("", issue.message))
        elif issue.path.startswith(prefix + "."):
            out.append(skillspec.Issue(issue.path[len(prefix) + 1 :], issue.message))
        elif issue.path.startswith(prefix + "["):
            out.append(skillspec.Issue(issue.path[len(prefix) :], issue.message))
        else:
            out.append(issue)
    return out


def _candidate(
    spec: skillspec.Skill, kind: ComponentKind, index: int, items: list[SpecItem], rename_from: str | None = None
) -> tuple[skillspec.Skill, list[skillspec.Issue]]:
    """``spec`` with ``kind``'s items replaced (and references renamed), and its problems."""
    spec = spec.model_copy(update={kind.field: items})
    if rename_from is not None and items[index].name != rename_from:
        spec = skillspec.rename(spec, kind.field, rename_from, items[index].name)
    return spec, _relative(skillspec.validate_skill(spec), skillspec.join_path(kind.field, index))


def _parse_in_context(
    spec: skillspec.Skill, kind: ComponentKind, data: Any, *, index: int | None = None
) -> tuple[SpecItem, skillspec.Skill]:
    """Parse ``data`` as ``kind``'s item at ``index`` (None: a new last item) of ``spec``.

    Returns the item and the whole skill after the change; raises SpecValidationError
    with every problem, structural and semantic, in one round.
    """
    after: list[skillspec.Skill] = []

    def check(item: SpecItem) -> list[skillspec.Issue]:
        items: list[SpecItem] = list(getattr(spec, kind.field))
        if index is None:
            items.append(item)
            candidate, issues = _candidate(spec, kind, len(items) - 1, items)
        else:
            old_name = items[index].name
            items[index] = item
            candidate, issues = _candidate(spec, kind, index, items, rename_from=old_name)
        after.append(candidate)
        return issues

    item = skillspec.parse_model(kind.spec, data, check=check)
    return item, after[-1]


def _save_renamed(skill: models.Skill, spec: skillspec.Skill) -> None:
    """After a rename, write back every component whose data changed."""
    for kind in KINDS:
        rows = list(component_list(skill=skill, kind=kind))
        for row, item in zip(rows, getattr(spec, kind.field), strict=True):
            data = item.model_dump(mode="json")
            if row.data != data or row.name != item.name:
                row.data, row.name = data, item.name
                row.save(update_fields=["data", "name", "updated_at"])


@transaction.atomic
def component_create(*, skill: models.Skill, kind: ComponentKind, data: Any) -> models.Component:
    """Add a component at the end of its list."""
    _lock(skill)
    item, _ = _parse_in_context(skill_to_spec(skill=skill), kind, data)
    last = component_list(skill=skill, kind=kind).last()
    row = kind.model.objects.create(
        skill=skill,
        name=item.name,
        position=last.position + 1 if last else 0,
        data=item.model_dump(mode="json"),
    )
    skill.save(update_fields=["updated_at"])
    return row


def _index_of(component: models.Component, kind: ComponentKind) -> int:
    skill = component.skill
    pks = list(component_list(skill=skill, kind=kind).values_list("pk", flat=True))
    return pks.index(component.pk)


@transaction.atomic
def component_update(*, component: models.Component, data: Any) -> models.Component:
    """Replace a component. Renaming a slot type, API or template renames every reference to it."""
    kind = kind_of(component)
    skill = component.skill
    _lock(skill)
    old_name = component.name
    item, spec = _parse_in_context(skill_to_spec(skill=skill), kind, data, index=_index_of(component, kind))
    if old_name != item.name:
        _save_renamed(skill, spec)
        component.refresh_from_db()
    else:
        # The common case touches one row: don't re-dump and compare the whole skill.
        component.data = item.model_dump(mode="json")
        component.save(update_fields=["data", "updated_at"])
    skill.save(update_fields=["updated_at"])
    return component


@transaction.atomic
def component_delete(*, component: models.Component) -> None:
    """Delete a component unless something still refers to it (the error says what)."""
    kind = kind_of(component)
    skill = component.skill
    _lock(skill)
    spec = skill_to_spec(skill=skill)
    index = _index_of(component, kind)
    items = [x for i, x in enumerate(getattr(spec, kind.field)) if i != index]
    # Paths stay absolute: the deleted item has none, and the items after it have moved up.
    issues = skillspec.validate_skill(spec.model_copy(update={kind.field: items}))
    if issues:
        raise skillspec.SpecValidationError(
            [skillspec.Issue("", f"{kind.label} {component.name!r} is still in use:"), *issues]
        )
    component.delete()
    skill.save(update_fields=["updated_at"])


def parse_catalogue(text: str) -> list[dict[str, Any]]:
    """Parse catalogue values: one value per line, synonyms after it, comma-separated (CSV quoting allowed).

    A header line ``value,synonyms...`` is skipped. Raises SpecValidationError naming the line.
    """
    values: list[dict[str, Any]] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for line_no, row in enumerate(reader, start=1):
            cells = [c.strip() for c in row]
            cells = [c for c in cells if c]
            if not cells:
                continue
            if line_no == 1 and cells[0].lower() == "value":
                continue
            values.append({"value": cells[0], "synonyms": cells[1:]})
    except csv.Error as exc:
        raise skillspec.SpecValidationError([skillspec.Issue("values", f"line {reader.line_num}: {exc}")]) from None
    return values


@transaction.atomic
def slot_type_values_import(*, slot_type: models.Component, text: str, replace: bool = False) -> models.Component:
    """Add (or, with ``replace``, set) catalogue values of a slot type from CSV/plain text.

    Values already in the catalogue gain the new synonyms instead of being duplicated.
    """
    if kind_of(slot_type) is not SLOT_TYPES:
        raise TypeError("not a slot type")
    new = parse_catalogue(text)
    data = dict(slot_type.data)
    existing: list[dict[str, Any]] = [] if replace else [dict(v) for v in data.get("values", [])]
    by_value = {v["value"]: v for v in existing}
    for v in new:
        if v["value"] in by_value:
            old = by_value[v["value"]]
            old["synonyms"] = list(dict.fromkeys([*old.get("synonyms", []), *v["synonyms"]]))
        else:
            by_value[v["value"]] = v
            existing.append(v)
    data["values"] = existing
    return component_update(component=slot_type, data=data)
