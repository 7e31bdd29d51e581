"""The annotated-dialogue format: what the simulator writes and the models read.

One dialogue per line of a JSON Lines file (``.jsonl``), each a JSON object::

    {"format": "colloquy-dialogue/1", "id": "sim-000042", "skill": "Flights",
     "spec_hash": "…", "source": "simulated", "test": false,
     "phenomena": ["carryover", "anaphora"],
     "turns": [
       {"speaker": "user", "text": "fly from Boston tomorrow", "acts": ["invoke"],
        "spans": [{"start": 9, "end": 15, "slot_type": "city", "value": "Boston", "entity": "e1"}, …]},
       {"speaker": "system", "text": "Where to?",
        "actions": [
          {"kind": "api", "name": "SearchFlights", "id": "c1",
           "arguments": [{"name": "origin", "entity": "e1", "turn": 0, "value": "Boston"}, …],
           "results": [{"entity": "c1.flight", "field": "flight", "slot_type": "flight", "value": "UA 837"}]},
          {"kind": "response", "name": "request_destination", "arguments": [], "text": "Where to?"},
          {"kind": "wait", "name": "wait_for_user"}]}]}

Entities are the values a dialogue's context holds: user spans (ids ``e1``, ``e2``…)
and API results (``<call id>.<return field>``). Every argument names the entity it
was filled from and the index of the turn that introduced it. Every system turn
ends with exactly one ``wait`` action. See docs/annotated-dialogues.md.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT: Final = "colloquy-dialogue/1"  # Final: typed as the Literal the record's field expects
WAIT = "wait_for_user"
REFERENCE_DATE: Final = datetime.date(2026, 1, 15)
"""The "today" of simulated and sample dialogues (a Thursday): relative dates in them
("tomorrow", "next Friday") resolve against it when dialogues are generated, checked,
trained on and evaluated — one constant, so every layer reads the same dates."""


class AnnotatedActionKind(StrEnum):
    """What an action of an annotated system turn does: the spec's two kinds, and waiting."""

    API = "api"  # skillspec.ActionKind.API
    RESPONSE = "response"  # skillspec.ActionKind.RESPONSE
    WAIT = "wait"  # the system's turn ends and the user speaks (the action named WAIT)


class Source(StrEnum):
    SAMPLE = "sample"  # a sample dialogue of the skill, converted
    SIMULATED = "simulated"
    SGD = "sgd"  # a real dialogue of the Schema-Guided Dialogue dataset, converted


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ASpan(_Record):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    slot_type: str
    value: str = Field(description="Canonical value: the catalogue value, or the normalised built-in value.")
    entity: str


class AUserTurn(_Record):
    speaker: Literal["user"] = "user"
    text: str
    acts: list[str] = Field(default=[], description="What the user does (skillspec.UserAct values).")
    spans: list[ASpan] = []


class AArgument(_Record):
    name: str
    entity: str
    turn: int = Field(description="Index of the turn that introduced the entity.")
    value: str


class AResult(_Record):
    entity: str
    field: str
    slot_type: str
    value: str


class AAction(_Record):
    kind: AnnotatedActionKind
    name: str
    id: str | None = None
    arguments: list[AArgument] = []
    results: list[AResult] = []
    text: str | None = None


class ASystemTurn(_Record):
    speaker: Literal["system"] = "system"
    text: str = ""
    actions: list[AAction] = Field(min_length=1)


ATurn = Annotated[AUserTurn | ASystemTurn, Field(discriminator="speaker")]


class AnnotatedDialogue(_Record):
    format: Literal["colloquy-dialogue/1"] = FORMAT
    id: str
    skill: str
    spec_hash: str | None = None
    source: Source = Source.SIMULATED
    test: bool = False
    phenomena: list[str] = []
    turns: list[ATurn] = []


def dumps_dialogue(dialogue: AnnotatedDialogue | dict[str, Any]) -> str:
    """One JSON line (no trailing newline). Dicts are written as they are, for speed."""
    data = dialogue.model_dump(mode="json") if isinstance(dialogue, AnnotatedDialogue) else dialogue
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def write_dialogues(dialogues: Iterable[AnnotatedDialogue | dict[str, Any]], out: IO[str]) -> int:
    """Write dialogues as JSON Lines; returns how many."""
    n = 0
    for d in dialogues:
        out.write(dumps_dialogue(d))
        out.write("\n")
        n += 1
    return n


def read_dialogues(path: str | Path) -> Iterator[AnnotatedDialogue]:
    """Read a JSON Lines file of annotated dialogues; ValueError names the line of a bad record."""
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield AnnotatedDialogue.model_validate_json(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{line_no}: {exc}") from None


def annotated_json_schema() -> dict[str, Any]:
    schema = AnnotatedDialogue.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://colloquy.dev/schema/dialogue-1.json"
    return schema
