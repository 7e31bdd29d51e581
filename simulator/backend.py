"""A mock API backend: plausible results for any API of a skill, drawn from its slot types."""

from __future__ import annotations

import datetime
import random
import re
from collections.abc import Mapping

from skillspec import BuiltinType, Skill, sample_surface
from skillspec.index import by_name

from .protocols import ApiResult
from .text import REFERENCE_DATE, Value

# Amounts of money named like this get two- and three-digit values, not "two".
_MONEY = re.compile(r"price|cost|fare|total|amount|fee|charge|balance", re.IGNORECASE)


class MockBackend:
    """Answers every API call with 1–3 result rows, or (with ``failure_rate``) a failure.

    Each row gives every return field a value of its slot type: a catalogue value (said
    as the value itself) or a built-in value with a realistic surface form (a NUMBER
    field or slot type named like money, "price" or "total", gets 10–999). A return
    field with the slot type of an argument echoes that argument's value (the date of a
    flight found is the date searched). The rows draw distinct catalogue values where
    the catalogue is large enough. Everything is drawn from the ``rng`` passed in, so a
    call is deterministic given its state; the failure draw is made whatever the rate,
    so changing the rate does not change the rows of the calls that still succeed.
    """

    def __init__(self, skill: Skill, *, failure_rate: float = 0.0, today: datetime.date = REFERENCE_DATE):
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError(f"failure_rate must be between 0 and 1, not {failure_rate}")
        self.failure_rate = failure_rate
        self.today = today
        self._apis = by_name(skill.apis)
        self._slots = by_name(skill.slot_types)

    def call(self, api: str, arguments: Mapping[str, Value], rng: random.Random) -> ApiResult:
        """Result rows for calling ``api`` with ``arguments`` (argument name -> value).

        Raises KeyError for an API the skill does not have.
        """
        spec = self._apis.get(api)
        if spec is None:
            raise KeyError(f"unknown API {api!r}")
        failed = rng.random() < self.failure_rate
        n = rng.randint(1, 3)
        if failed:
            return ApiResult(success=False)
        echo: dict[str, Value] = {}
        for a in spec.arguments:
            if a.name in arguments:
                echo.setdefault(a.slot_type, arguments[a.name])
        columns: dict[str, list[Value]] = {}
        for ret in spec.returns:
            given = echo.get(ret.slot_type)
            if given is not None:
                columns[ret.name] = [given] * n
            else:
                money = bool(_MONEY.search(ret.name) or _MONEY.search(ret.slot_type))
                columns[ret.name] = self._draw(ret.slot_type, n, rng, money=money)
        return ApiResult(success=True, rows=[{name: col[i] for name, col in columns.items()} for i in range(n)])

    def _draw(self, slot_type: str, n: int, rng: random.Random, *, money: bool = False) -> list[Value]:
        slot = self._slots.get(slot_type)
        if slot is None:
            raise KeyError(f"unknown slot type {slot_type!r}")
        if slot.builtin is BuiltinType.NUMBER and money:
            return [Value(slot_type, v, v) for v in (str(rng.randint(10, 999)) for _ in range(n))]
        if slot.builtin is not None:
            out = []
            for _ in range(n):
                text, value = sample_surface(slot.builtin, rng, today=self.today)
                out.append(Value(slot_type, value, text))
            return out
        if not slot.values:
            # An open catalogue: invent values that at least look distinct.
            return [Value(slot_type, v, v) for v in (f"{slot_type} {rng.randint(1, 999)}" for _ in range(n))]
        values = [v.value for v in slot.values]
        picked = rng.sample(values, n) if len(values) >= n else [rng.choice(values) for _ in range(n)]
        return [Value(slot_type, v, v) for v in picked]
