"""Generating many dialogues, in one process or several, with identical output either way."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Iterator

from skillspec import Skill

from .engine import Simulator

CHUNK = 200  # dialogues per work item: big enough to amortise IPC, small enough for a smooth progress bar

_worker_sim: Simulator | None = None


def _init_worker(skill_json: str) -> None:
    global _worker_sim
    _worker_sim = Simulator.for_skill(Skill.model_validate_json(skill_json))


def _chunk(args: tuple[int, int, int]) -> str:
    start, n, seed = args
    assert _worker_sim is not None
    return "".join(_line(d) for d in _worker_sim.dialogues(n, seed, start))


def _line(dialogue: object) -> str:
    return json.dumps(dialogue, ensure_ascii=False, separators=(",", ":")) + "\n"


def generate_lines(
    skill: Skill, n: int, seed: int, *, workers: int = 1, progress: Callable[[int], object] | None = None
) -> Iterator[str]:
    """JSON lines of ``n`` simulated dialogues, in order; the same for any number of workers.

    ``progress(k)`` is called as each run of ``k`` more dialogues is done.
    """
    jobs = [(start, min(CHUNK, n - start), seed) for start in range(0, n, CHUNK)]
    if workers <= 1:
        sim = Simulator.for_skill(skill)
        for start, size, _ in jobs:
            yield "".join(_line(d) for d in sim.dialogues(size, seed, start))
            if progress:
                progress(size)
        return
    ctx = multiprocessing.get_context("spawn")  # no state inherited from the parent: same output as serial
    with ctx.Pool(workers, initializer=_init_worker, initargs=(skill.model_dump_json(),)) as pool:
        for (_, size, _), text in zip(jobs, pool.imap(_chunk, jobs), strict=True):
            yield text
            if progress:
                progress(size)
