"""Wall time of builds, per stage, on the workers ``make run`` starts: first builds, rebuilds, SGD.

The workers are the shipped layout (Makefile ``run``): ``celery -A studio worker -Q gpu -c 1``
(training, every core) and ``-Q cpu -c 2`` (the other stages), Redis as the broker and
PostgreSQL (a database of its own, created if missing), as in docker-compose. Each case
starts on an empty artifacts directory (no embeddings cached), so its first build is what a
new skill pays; ``+rebuild`` then edits one response template's text and builds again (the
embeddings cache of the first build is reused). Nothing else should run meanwhile.

    .venv/bin/python bench/bench_builds.py                               # flights: draft+rebuild, default+rebuild
    .venv/bin/python bench/bench_builds.py --cases default --sgd ../shared/sgd --service Restaurants_1

Prints a Markdown table (and writes var/bench-builds/results.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "colloquy_bench"
ARTIFACTS = ROOT / "var" / "bench-builds"
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("COLLOQUY_ARTIFACTS_DIR", str(ARTIFACTS / "artifacts"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
sys.path.insert(0, str(ROOT))

from benchdb import create_database  # noqa: E402  (the bench folder is on the path of its scripts)

STAGES = ["validate", "simulate", "train", "evaluate", "package"]
# (queues, processes, name): as the Makefile's run target starts them.
WORKERS = [("gpu", 1, "train"), ("cpu", 2, "stages")]


def start_workers(log_dir: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for queues, processes, name in WORKERS:
        log = log_dir / f"worker-{name}.log"
        log.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "celery", "-A", "studio", "worker", "-Q", queues, "-c", str(processes)]
        cmd += ["-n", f"bench-{name}@%h", "-l", "info", "--without-gossip", "--without-mingle"]
        with log.open("wb") as out:
            procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=out, start_new_session=True))
    for (_, _, name), _p in zip(WORKERS, procs, strict=True):
        log = log_dir / f"worker-{name}.log"
        deadline = time.monotonic() + 90
        while not (log.exists() and " ready." in log.read_text()):
            if time.monotonic() > deadline:
                raise SystemExit(f"worker {name} did not start; see {log}")
            time.sleep(0.3)
    time.sleep(8)  # the processes load the encoder in the background after "ready", as they do in use
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        p.wait(60)


def one_build(skill, user, preset: str, label: str) -> dict:  # type: ignore[no-untyped-def]
    from studio.builds import services
    from studio.builds.models import Build, StageProgress

    build = services.build_create(skill=skill, user=user, settings={"preset": preset})
    pressed = time.monotonic()
    last = ""
    while True:
        build.refresh_from_db()
        if build.finished:
            break
        now = f"{build.status} {build.stage}"
        if now != last:
            print(f"  {label}: {now} ({time.monotonic() - pressed:.0f} s)", file=sys.stderr, flush=True)
            last = now
        time.sleep(0.2)
    wall = time.monotonic() - pressed
    if build.status != Build.Status.READY:
        raise SystemExit(f"{label}: build ended {build.status}: {build.error}")
    stages = {}
    for stage in STAGES:
        rows = list(StageProgress.objects.filter(build=build, stage=stage))
        stages[stage] = round((max(r.updated_at for r in rows) - min(r.started_at for r in rows)).total_seconds(), 1)
    heldout = build.metrics["heldout"]
    return {
        "case": label,
        "build": build.pk,
        "settings": build.settings,
        "stages": stages,
        "wall_seconds": round(wall, 1),
        "evaluate_over_train": round(stages["evaluate"] / max(stages["train"], 0.1), 3),
        "heldout": {k: heldout[k] for k in ("ner_f1", "action_signature_accuracy", "api_call_f1")},
    }


def edit_one_template(skill) -> str:  # type: ignore[no-untyped-def]
    """Change the first response template's first variant, through the normal write path."""
    from studio.skills import services as skill_services
    from studio.skills.models import ResponseTemplate

    row = ResponseTemplate.objects.filter(skill=skill).order_by("position").first()
    data = dict(row.data)
    data["variants"] = [data["variants"][0] + " Anything else I can do?", *data["variants"][1:]]
    skill_services.component_update(component=row, data=data)
    return row.name


def run_case(name: str, skill_data: bytes, presets: list[str], log_dir: Path) -> list[dict]:
    import redis
    from django.contrib.auth.models import User

    from studio.skills import services as skill_services

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    shutil.rmtree(os.environ["COLLOQUY_ARTIFACTS_DIR"], ignore_errors=True)  # nothing cached
    user, _ = User.objects.get_or_create(username="bench")
    results = []
    procs = start_workers(log_dir)
    try:
        for preset in presets:
            skill = skill_services.skill_import(owner=user, data=skill_data)
            results.append(one_build(skill, user, preset, f"{name} {preset}"))
            edited = edit_one_template(skill)
            r = one_build(skill, user, preset, f"{name} {preset} rebuild")
            r["edited_template"] = edited
            r["of_first_build"] = round(r["wall_seconds"] / results[-1]["wall_seconds"], 3)
            results.append(r)
    finally:
        stop(procs)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=["draft", "default"], help="presets to build")
    parser.add_argument("--skill", type=Path, default=ROOT / "examples" / "flights.json")
    parser.add_argument("--sgd", type=Path, help="an SGD directory: build --service imported from it instead")
    parser.add_argument("--service", default="Restaurants_1")
    args = parser.parse_args()
    create_database()
    import django

    django.setup()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if args.sgd:
        from simulator.sgd import import_sgd
        from skillspec import dump_skill

        name = args.service
        files = sorted(args.sgd.glob(f"dialogues_{args.service}*.json")) or sorted(args.sgd.glob("dialogues_*.json"))
        data = dump_skill(import_sgd(args.sgd / "schema.json", files, args.service, samples=10).skill).encode()
    else:
        name, data = args.skill.stem, args.skill.read_bytes()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    load = os.getloadavg()[0]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"commit {commit.strip()}, load {load:.2f} at start",
        flush=True,
    )
    results = run_case(name, data, args.cases, ARTIFACTS)
    print(f"| build | {' | '.join(STAGES)} | Build pressed to ready | evaluate / train | held-out signature |")
    print(f"|---|{'---|' * len(STAGES)}---|---|---|")
    for r in results:
        cells = " | ".join(f"{r['stages'][s]:.1f} s" for s in STAGES)
        share = f" ({r['of_first_build']:.0%} of the first)" if "of_first_build" in r else ""
        print(
            f"| {r['case']} | {cells} | {r['wall_seconds']:.0f} s{share} | {r['evaluate_over_train']:.0%} | "
            f"{r['heldout']['action_signature_accuracy']:.3f} |"
        )
    (ARTIFACTS / f"results-{name}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
