"""JSON (de)serialisation helpers for the skill spec."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .models import Skill


def dump_skill(skill: Skill, *, indent: int | None = 2) -> str:
    """The skill as JSON text; ``parse_skill(dump_skill(s)) == s`` for a valid skill."""
    return json.dumps(skill.model_dump(mode="json"), indent=indent, ensure_ascii=False) + "\n"


def spec_hash(skill: Skill) -> str:
    """A stable SHA-256 of the skill's canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(skill.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the skill file format, generated from the spec classes."""
    schema = Skill.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://colloquy.dev/schema/skill-1.0.json"
    return schema
