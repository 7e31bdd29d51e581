"""Importing a service of the Schema-Guided Dialogue dataset (SGD) as a new skill.

The conversion itself is :func:`simulator.sgd.import_sgd`; this module reads the
uploaded files, says which input is wrong when one is, and stores the skill.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

import skillspec
from simulator.sgd import SgdImportError, SgdReport, import_sgd, load_dialogues, load_schema

from . import models, services

MAX_SAMPLES = 500


@dataclass(frozen=True)
class SgdUpload:
    """An uploaded file: its name (for messages) and its text."""

    name: str
    text: str


class SgdImportProblem(ValueError):
    """Bad input to an SGD import; ``field`` names the input it is about
    (``schema``, ``dialogues``, ``service``, ``samples``, or ``""`` for none in particular)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _json(upload: SgdUpload, field: str) -> Any:
    try:
        return json.loads(upload.text)
    except json.JSONDecodeError as exc:
        raise SgdImportProblem(field, f"{upload.name} is not valid JSON: {exc}") from None


def _schema(upload: SgdUpload) -> list[dict[str, Any]]:
    try:
        return load_schema(_json(upload, "schema"))
    except SgdImportError as exc:
        raise SgdImportProblem("schema", f"{upload.name}: {exc}") from None


def sgd_schema_services(*, schema: SgdUpload) -> list[str]:
    """The names of the services an uploaded SGD ``schema.json`` describes."""
    return [str(s["service_name"]) for s in _schema(schema)]


@transaction.atomic
def skill_import_sgd(
    *,
    owner: User,
    schema: SgdUpload,
    dialogues: Sequence[SgdUpload],
    service: str,
    samples: int,
    seed: int | None = None,
) -> tuple[models.Skill, SgdReport]:
    """Create a skill of ``owner`` from SGD service ``service`` (or the schema's only service
    when ``service`` is empty), with ``samples`` of the dialogues as its sample dialogues.

    Returns the skill and the import's report; raises :class:`SgdImportProblem` naming the
    input at fault.
    """
    schema_data = _schema(schema)
    names = [str(s["service_name"]) for s in schema_data]
    service = service.strip()
    if not service:
        if len(names) != 1:
            raise SgdImportProblem("service", f"choose one of the schema's services: {', '.join(names)}")
        service = names[0]
    elif service not in names:
        raise SgdImportProblem("service", f"{service!r} is not in {schema.name}; it has {', '.join(names)}")
    if not 0 <= samples <= MAX_SAMPLES:
        raise SgdImportProblem("samples", f"must be between 0 and {MAX_SAMPLES}")
    if not dialogues:
        raise SgdImportProblem("dialogues", "upload at least one dialogues file")
    parsed = []
    for upload in dialogues:
        try:
            parsed.extend(load_dialogues([_json(upload, "dialogues")]))
        except SgdImportError as exc:
            raise SgdImportProblem("dialogues", f"{upload.name}: {exc}") from None
    try:
        result = import_sgd(schema_data, [parsed], service, samples, seed)
    except SgdImportError as exc:
        raise SgdImportProblem("dialogues", str(exc)) from None
    try:
        skill = services.skill_import(owner=owner, data=skillspec.dump_skill(result.skill))
    except skillspec.SpecValidationError as exc:  # the importer validates; this would be a bug
        raise SgdImportProblem("", f"the imported skill is not valid: {exc}") from None
    return skill, result.report
