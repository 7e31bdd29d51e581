"""Studio write-path benchmark: how long validation-on-every-write costs.

Every write validates the whole skill, so its cost grows with the skill. This measures
parsing/validating the examples and a skill with a large catalogue, importing it,
editing one component of it and exporting it, against the configured database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/colloquy_bench .venv/bin/python bench/bench_studio.py

It creates a throw-away user (and deletes it with its skills at the end).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median, max) wall time in milliseconds over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=20_000, help="catalogue size of the large skill")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    import json

    from django.contrib.auth import get_user_model
    from django.db import connection

    import skillspec
    from studio.skills import selectors, services
    from studio.skills.components import SLOT_TYPES

    flights = (ROOT / "examples" / "flights.json").read_text()
    big = json.loads(flights)
    city = next(s for s in big["slot_types"] if s["name"] == "city")
    city["values"] += [{"value": f"Town {i}", "synonyms": [f"T{i}"]} for i in range(args.values)]
    big_text = json.dumps(big)

    rows: list[tuple[str, float, float]] = []

    def record(name: str, fn: Callable[[], object], repeat: int = args.repeat) -> None:
        print(f"  {name} ...", file=sys.stderr, flush=True)
        rows.append((name, *timed(fn, repeat)))

    record("parse + validate examples/flights.json", lambda: skillspec.parse_skill(flights))
    record(f"parse + validate flights + {args.values:,} city values", lambda: skillspec.parse_skill(big_text), 5)

    user = get_user_model().objects.create_user(username=f"bench-{uuid.uuid4().hex[:8]}")
    try:
        record("import flights (service, DB)", lambda: services.skill_import(owner=user, data=flights), 5)
        skill = services.skill_import(owner=user, data=big_text)
        record(f"import flights + {args.values:,} values", lambda: services.skill_import(owner=user, data=big_text), 3)
        date = selectors.component_list(skill=skill, kind=SLOT_TYPES).get(name="date")
        record(
            "edit one slot type of the large skill",
            lambda: services.component_update(component=date, data={**date.data, "description": uuid.uuid4().hex}),
        )
        record("export the large skill", lambda: selectors.skill_export(skill=skill), 5)
        csv_text = "\n".join(f"Village {i},V{i}" for i in range(args.values))
        city_row = selectors.component_list(skill=skill, kind=SLOT_TYPES).get(name="city")
        record(
            f"CSV upload of {args.values:,} new values (add)",
            lambda: services.slot_type_values_import(slot_type=city_row, text=csv_text),
            3,
        )
    finally:
        user.delete()

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"database: {connection.vendor}"
    )
    print("| operation | median ms | max ms |\n|---|---:|---:|")
    for name, med, worst in rows:
        print(f"| {name} | {med:.1f} | {worst:.1f} |")


if __name__ == "__main__":
    main()
