"""Wall time of a default build of examples/flights.json, per stage, with one and with two workers.

Each worker is a separate ``celery -A studio worker -Q cpu,gpu -c 1`` process on this
machine, Redis as the broker, PostgreSQL as the database (a database of its own, created
if missing). Nothing else should run meanwhile.

    .venv/bin/python bench/bench_builds.py [--workers 1 2] [--preset default]

Prints a Markdown table (and writes var/bench-builds/results.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "colloquy_bench"
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("COLLOQUY_ARTIFACTS_DIR", str(ROOT / "var" / "bench-builds"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
sys.path.insert(0, str(ROOT))

from benchdb import create_database  # noqa: E402  (the bench folder is on the path of its scripts)

STAGES = ["validate", "simulate", "train", "evaluate", "package"]


def start_workers(n: int, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(n):
        log = log_dir / f"worker-{n}-{i}.log"
        name = f"bench{n}-{i}@%h"
        cmd = [sys.executable, "-m", "celery", "-A", "studio", "worker", "-Q", "cpu,gpu", "-c", "1", "-n", name]
        cmd += ["-l", "info", "--without-gossip", "--without-mingle"]
        with log.open("wb") as out:
            procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=out, start_new_session=True))
        deadline = time.monotonic() + 90
        while not (log.exists() and " ready." in log.read_text()):
            if time.monotonic() > deadline:
                raise SystemExit(f"worker {name} did not start; see {log}")
            time.sleep(0.3)
    return procs


def run_build(workers: int, preset: str, log_dir: Path) -> dict:
    import redis
    from django.contrib.auth.models import User

    from studio.builds import services
    from studio.builds.models import Build, StageProgress
    from studio.skills import services as skill_services

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    user, _ = User.objects.get_or_create(username="bench")
    skill = skill_services.skill_import(owner=user, data=(ROOT / "examples" / "flights.json").read_bytes())
    procs = start_workers(workers, log_dir)
    try:
        build = services.build_create(skill=skill, user=user, settings={"preset": preset})
        last = ""
        while True:
            build.refresh_from_db()
            if build.finished:
                break
            now = f"{build.status} {build.stage}"
            if now != last:
                print(f"  {workers} worker(s): {now}", file=sys.stderr, flush=True)
                last = now
            time.sleep(1)
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(60)
    if build.status != Build.Status.READY:
        raise SystemExit(f"build ended {build.status}: {build.error}")
    stages = {}
    for stage in STAGES:
        rows = list(StageProgress.objects.filter(build=build, stage=stage))
        start = min(r.started_at for r in rows)
        end = max(r.updated_at for r in rows)
        stages[stage] = round((end - start).total_seconds(), 1)
    assert build.started_at is not None and build.finished_at is not None
    return {
        "workers": workers,
        "settings": build.settings,
        "stages": stages,
        "wall_seconds": round((build.finished_at - build.created_at).total_seconds(), 1),
        "signature_accuracy_heldout": build.metrics["heldout"]["action_signature_accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--preset", default="default")
    args = parser.parse_args()
    create_database()
    import django

    django.setup()
    out = Path(os.environ["COLLOQUY_ARTIFACTS_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}", flush=True)
    results = [run_build(n, args.preset, out) for n in args.workers]
    print(f"| workers | {' | '.join(STAGES)} | whole build (queued to ready) | held-out signature accuracy |")
    print(f"|---|{'---|' * len(STAGES)}---|---|")
    for r in results:
        cells = " | ".join(f"{r['stages'][s]:.1f} s" for s in STAGES)
        print(f"| {r['workers']} | {cells} | {r['wall_seconds']:.0f} s | {r['signature_accuracy_heldout']:.3f} |")
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
