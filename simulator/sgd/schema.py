"""Reading SGD's input: the ``schema.json`` and ``dialogues_*.json`` files
(:func:`load_schema`, :func:`load_dialogues`), one service of the schema as its slots,
intents and spec names (``_Service``, ``_Slot``, ``_Intent``, built by ``_service``), and
the accessors that read a dialogue's frames, acts and values while passing over what is
malformed (``_frames``, ``_actions``, ``_pairs``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .naming import _unique, valid_name
from .report import SgdImportError


@dataclass
class _Slot:
    sgd: str
    name: str
    description: str
    categorical: bool
    possible_values: list[str]


@dataclass
class _Intent:
    sgd: str
    name: str
    description: str
    transactional: bool
    required: list[str]
    optional: dict[str, str]
    results: list[str]
    counts: bool = False

    @property
    def arguments(self) -> list[str]:
        return [*self.required, *(s for s in self.optional if s not in self.required)]


@dataclass
class _Service:
    name: str
    description: str
    slots: dict[str, _Slot]
    intents: dict[str, _Intent]
    count_type: str
    renamed: dict[str, str]

    def slot_order(self, slot: str) -> int:
        return list(self.slots).index(slot) if slot in self.slots else len(self.slots)


def _read_json(source: Any, what: str) -> Any:
    if isinstance(source, str | Path):
        try:
            with open(source, encoding="utf-8") as f:
                return json.load(f)
        except OSError as exc:
            raise SgdImportError(f"cannot read the {what} {source}: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SgdImportError(f"the {what} {source} is not valid JSON: {exc}") from None
    return source


def load_schema(source: Any) -> list[dict[str, Any]]:
    """The services of an SGD ``schema.json``: a path, a list of services or one service."""
    data = _read_json(source, "schema")
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(s, dict) and "service_name" in s for s in data):
        raise SgdImportError("the schema must be a list of SGD services, each with a service_name")
    return data


def load_dialogues(sources: Iterable[Any]) -> list[dict[str, Any]]:
    """The dialogues of SGD ``dialogues_*.json`` files: each a path or an already parsed list."""
    out: list[dict[str, Any]] = []
    for source in sources:
        data = _read_json(source, "dialogues file")
        label = str(source) if isinstance(source, str | Path) else "dialogues"
        if not isinstance(data, list):
            raise SgdImportError(f"{label}: an SGD dialogues file is a JSON list of dialogues")
        for i, d in enumerate(data):
            if not isinstance(d, dict) or not isinstance(d.get("dialogue_id"), str):
                raise SgdImportError(f"{label}: item {i} is not an SGD dialogue (no dialogue_id)")
        out.extend(data)
    return out


def _service(schema: list[dict[str, Any]], name: str) -> _Service:
    found = [s for s in schema if s.get("service_name") == name]
    if not found:
        known = ", ".join(sorted(str(s.get("service_name")) for s in schema))
        raise SgdImportError(f"service {name!r} is not in the schema; it has: {known}")
    raw = found[0]
    try:
        taken: set[str] = set()
        renamed: dict[str, str] = {}
        slots: dict[str, _Slot] = {}
        for s in raw["slots"]:
            spec = _unique(valid_name(s["name"]), taken)
            if spec != s["name"]:
                renamed[f"slot {s['name']}"] = spec
            slots[s["name"]] = _Slot(
                s["name"],
                spec,
                str(s.get("description", "")),
                bool(s.get("is_categorical", False)),
                [str(v) for v in s.get("possible_values", [])],
            )
        count_type = _unique("count", taken)
        intents: dict[str, _Intent] = {}
        for it in raw["intents"]:
            spec = _unique(valid_name(it["name"]), taken)
            if spec != it["name"]:
                renamed[f"intent {it['name']}"] = spec
            intents[it["name"]] = _Intent(
                it["name"],
                spec,
                str(it.get("description", "")),
                bool(it.get("is_transactional", False)),
                [s for s in it.get("required_slots", []) if s in slots],
                {s: str(v) for s, v in it.get("optional_slots", {}).items() if s in slots},
                [s for s in it.get("result_slots", []) if s in slots],
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise SgdImportError(f"service {name!r} in the schema is malformed: missing or bad {exc}") from None
    return _Service(name, str(raw.get("description", "")), slots, intents, count_type, renamed)


def _actions(frame: dict[str, Any]) -> list[dict[str, Any]]:
    actions = frame.get("actions")
    return [a for a in actions if isinstance(a, dict)] if isinstance(actions, list) else []


def _pairs(action: dict[str, Any]) -> list[tuple[str, str]]:
    """(surface value, canonical value) of an action."""
    raw = action.get("values")
    values = [str(v) for v in raw] if isinstance(raw, list) else []
    raw = action.get("canonical_values")
    canonical = [str(v) for v in raw] if isinstance(raw, list) else values
    if len(canonical) != len(values):
        canonical = values
    return list(zip(values, canonical, strict=True))


def _frames(dialogue: dict[str, Any], service: str) -> Iterable[dict[str, Any]]:
    """The frames of ``service`` in a dialogue, passing over whatever is malformed
    (the conversion reports that)."""
    turns = dialogue.get("turns")
    for turn in turns if isinstance(turns, list) else []:
        frames = turn.get("frames") if isinstance(turn, dict) else None
        for frame in frames if isinstance(frames, list) else []:
            if isinstance(frame, dict) and frame.get("service") == service:
                yield frame
