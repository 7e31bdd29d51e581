"""The records of one converted dialogue, between the SGD input and the spec: its
context entities (``_Entity``, a :class:`skillspec.ContextEntity` with the SGD slot it
stands for), the conversion's state, user turns with their spans, system turns with their
API calls and bindings, the signature of a response template (``_TemplateKey`` and its
``_Part`` per SGD act) and ``_Skip``, raised when a dialogue cannot be converted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from skillspec import ContextEntity, DialogAct, EntityIds, UserAct

from .schema import _Intent

COUNT = "#count"  # the key of INFORM_COUNT's value; no SGD slot is spelled like this


class _Skip(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class _Entity(ContextEntity):
    """A context entity of the conversion, with the SGD slot it stands for."""

    slot: str = ""  # SGD slot name, or COUNT
    meant: str | None = None  # SGD's value, when the span's words name another catalogue value


@dataclass
class _State:
    """What a dialogue's conversion knows so far."""

    entities: list[_Entity] = field(default_factory=list)
    informed: dict[str, str] = field(default_factory=dict)  # slot -> the value the user last gave
    said: set[tuple[str, str]] = field(default_factory=set)  # (slot, value) the user ever gave
    ids: EntityIds = field(default_factory=EntityIds)


@dataclass
class _Bind:
    name: str
    entity: _Entity


@dataclass
class _USpan:
    start: int
    end: int
    slot: str
    text: str
    entity: _Entity


@dataclass
class _UTurn:
    text: str
    acts: list[str]
    spans: list[_USpan]
    set_key: tuple[UserAct, str | None] | None
    variant: str | None


@dataclass
class _Call:
    intent: _Intent
    id: str
    binds: list[_Bind]
    rows: list[dict[str, Any]]
    row: int
    results: list[_Entity]


@dataclass(frozen=True)
class _Part:
    """What one SGD act of a system turn contributes to its template."""

    act: str  # the SGD act
    label: str  # its part of the template's name
    arguments: tuple[str, ...] = ()  # the template arguments it says
    literals: tuple[str, ...] = ()  # categorical values said in words of its own, as name parts
    # For the schema-generated variant only (the fields above tell parts apart):
    said: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (SGD slot, value) of the literals
    requested: tuple[str, ...] = field(default=(), compare=False)  # SGD slots a REQUEST asks for
    intent: str | None = field(default=None, compare=False)  # the SGD intent an OFFER_INTENT offers


@dataclass(frozen=True)
class _TemplateKey:
    parts: tuple[_Part, ...]  # in NAME_ORDER
    act: DialogAct
    api: str | None
    requested: tuple[str, ...]
    arguments: tuple[tuple[str, str], ...]  # (argument name, SGD slot or COUNT)


@dataclass
class _STurn:
    text: str
    calls: list[_Call]
    key: _TemplateKey
    binds: list[_Bind]
    variant: str


@dataclass
class _Dialogue:
    id: str
    turns: list[_UTurn | _STurn]
    not_located: list[tuple[str, str, str]]  # (reason, slot, example)
    notes: Counter[str]
