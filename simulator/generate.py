"""Generating many dialogues, in one process or several, with identical output either way."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Iterator

from skillspec import Skill

from .engine import Simulator
from .stats import Stats

CHUNK = 200  # dialogues per work item: big enough to amortise IPC, small enough for a smooth progress bar

_worker_sim: Simulator | None = None


def _init_worker(skill_json: str) -> None:
    global _worker_sim
    _worker_sim = Simulator.for_skill(Skill.model_validate_json(skill_json))


def _chunk(args: tuple[int, int, int]) -> tuple[str, Stats]:
    assert _worker_sim is not None
    return _run(_worker_sim, *args)


def _run(sim: Simulator, start: int, n: int, seed: int) -> tuple[str, Stats]:
    # Statistics are taken from the dialogues as built: parsing the JSON back costs more than simulating.
    stats = Stats(sim.skill)
    lines = []
    for d in sim.dialogues(n, seed, start):
        stats.update(d)
        lines.append(_line(d))
    return "".join(lines), stats


def _line(dialogue: object) -> str:
    return json.dumps(dialogue, ensure_ascii=False, separators=(",", ":")) + "\n"


def generate_chunks(
    skill: Skill, n: int, seed: int, *, workers: int = 1, progress: Callable[[int], object] | None = None
) -> Iterator[tuple[str, Stats]]:
    """JSON lines of ``n`` simulated dialogues, in order and in chunks, each with its statistics.

    The output is the same for any number of workers. ``progress(k)`` is called as each
    run of ``k`` more dialogues is done.
    """
    jobs = [(start, min(CHUNK, n - start), seed) for start in range(0, n, CHUNK)]
    if workers <= 1:
        sim = Simulator.for_skill(skill)
        for job in jobs:
            yield _run(sim, *job)
            if progress:
                progress(job[1])
        return
    ctx = multiprocessing.get_context("spawn")  # no state inherited from the parent: same output as serial
    with ctx.Pool(workers, initializer=_init_worker, initargs=(skill.model_dump_json(),)) as pool:
        for (_, size, _), chunk in zip(jobs, pool.imap(_chunk, jobs), strict=True):
            yield chunk
            if progress:
                progress(size)


def generate_lines(skill: Skill, n: int, seed: int, *, workers: int = 1) -> Iterator[str]:
    """JSON lines of ``n`` simulated dialogues, in order; the same for any number of workers."""
    for text, _ in generate_chunks(skill, n, seed, workers=workers):
        yield text
