"""Colloquy's skill spec: the typed, versioned contract between the studio,
the simulator and the models. Importable without Django."""

from .models import (
    SPEC_VERSION,
    Action,
    ActionKind,
    Api,
    ApiArgument,
    BuiltinType,
    DialogAct,
    ResponseTemplate,
    ReturnField,
    SampleDialogue,
    Skill,
    SlotType,
    SlotValue,
    Span,
    SystemTurn,
    TemplateArgument,
    UserAct,
    UserTurn,
    UtteranceArgument,
    UtteranceSet,
)
from .validation import (
    Entity,
    Issue,
    SpecValidationError,
    available_entities,
    dialogue_entities,
    join_path,
    lint_skill,
    parse_model,
    parse_skill,
    placeholders,
    validate_skill,
)
from .io import dump_skill, json_schema, spec_hash
from .refactor import rename

__all__ = [
    "SPEC_VERSION", "Action", "ActionKind", "Api", "ApiArgument", "BuiltinType", "DialogAct",
    "Entity", "Issue", "ResponseTemplate", "ReturnField", "SampleDialogue", "Skill", "SlotType",
    "SlotValue", "Span", "SpecValidationError", "SystemTurn", "TemplateArgument", "UserAct",
    "UserTurn", "UtteranceArgument", "UtteranceSet", "available_entities", "dialogue_entities",
    "dump_skill", "join_path", "json_schema", "lint_skill", "parse_model", "parse_skill",
    "placeholders", "rename", "spec_hash", "validate_skill",
]
