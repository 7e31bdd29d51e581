"""Turn latency through the HTTP runtime API, measured from a second process.

A deployed build of examples/flights.json (the artifact ``bench_models.py --only flights``
trains, or ``--artifact``) is served by gunicorn on loopback, with PostgreSQL (a database
of its own, created if missing) and Redis (the rate limiter's cache). This process is the
client: first one session at a time (``--turns`` turns, new sessions every four turns of
a search -> book dialogue), then ``--concurrent`` sessions at once for ``--seconds``, each
in its own thread and connection. The server runs as shipped: gunicorn.conf.py. Latency is
the client's, request sent to response read. Nothing else should run meanwhile.

    .venv/bin/python bench/bench_runtime_http.py [--artifact var/bench-models/flights-sim]
        [--turns 400] [--concurrent 20] [--seconds 60] [--workers N] [--threads N]

Prints a Markdown table (and writes var/bench-runtime-http/results.json).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import runpy
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "colloquy_bench"
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("COLLOQUY_ARTIFACTS_DIR", str(ROOT / "var" / "bench-runtime-http"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
os.environ.setdefault("COLLOQUY_RUNTIME_RATE", "1000000/min")  # measuring speed, not the limiter
sys.path.insert(0, str(ROOT))

from benchdb import create_database  # noqa: E402  (the bench folder is on the path of its scripts)

DIALOGUE = [
    "Find me a flight from Boston to Chicago tomorrow",
    "Book it for two people",
    "Yes please",
    "No thanks, that's all",
]


def deploy(artifact: Path) -> tuple[int, str]:
    """A user, a token, the flights skill and a ready, deployed build serving ``artifact``: (skill id, token)."""
    import django

    django.setup()
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from studio.builds.services import build_deploy, build_from_artifact
    from studio.skills import services as skill_services

    user, _ = User.objects.get_or_create(username="bench-runtime")
    token, _ = Token.objects.get_or_create(user=user)
    skill = skill_services.skill_import(owner=user, data=(ROOT / "examples" / "flights.json").read_text())
    build = build_from_artifact(skill=skill, user=user, artifact=artifact)
    build_deploy(build=build, user=user)
    return skill.pk, token.key


class Client:
    """One keep-alive connection, as a client library would hold it."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, object]) -> tuple[int, dict[str, object], float]:
        started = time.perf_counter()
        self.conn.request("POST", path, json.dumps(body), self.headers)
        response = self.conn.getresponse()
        data = response.read()
        seconds = time.perf_counter() - started
        return response.status, json.loads(data) if data else {}, seconds


def converse(client: Client, skill_id: int, turns: int, latencies: list[float], errors: list[str]) -> None:
    session = ""
    for n in range(turns):
        if n % len(DIALOGUE) == 0:
            status, body, _ = client.post(f"/api/skills/{skill_id}/sessions/", {})
            if status != 201:
                errors.append(f"session: HTTP {status} {body}")
                return
            session = str(body["id"])
        status, body, seconds = client.post(f"/api/sessions/{session}/turns/", {"text": DIALOGUE[n % len(DIALOGUE)]})
        if status != 201:
            errors.append(f"turn: HTTP {status} {body}")
        else:
            latencies.append(seconds)


def converse_until(
    client: Client, skill_id: int, turns: int, until: float, latencies: list[float], errors: list[str]
) -> None:
    """Conversations of ``turns`` turns, one after another, until the clock reaches ``until``."""
    while time.perf_counter() < until and len(errors) < 50:
        converse(client, skill_id, turns, latencies, errors)


def figures(latencies: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in latencies)
    return {
        "turns": len(ms),
        "median_ms": statistics.median(ms),
        "p95_ms": ms[max(0, int(round(0.95 * len(ms))) - 1)],
        "max_ms": ms[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifact", type=Path, default=ROOT / "var" / "bench-models" / "flights-sim")
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--turns-each", type=int, default=40, help="turns per session; then a new one")
    parser.add_argument("--workers", type=int, help="gunicorn processes (default: gunicorn.conf.py's, as shipped)")
    parser.add_argument("--threads", type=int, help="threads per process (default: gunicorn.conf.py's)")
    parser.add_argument("--seconds", type=float, default=60, help="how long the concurrent sessions run")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not (args.artifact / "config.json").is_file():
        sys.exit(f"{args.artifact}: no trained artifact; run bench/bench_models.py --only flights first")
    create_database()
    skill_id, token = deploy(args.artifact)
    out = ROOT / "var" / "bench-runtime-http"
    out.mkdir(parents=True, exist_ok=True)
    # The shipped configuration (gunicorn.conf.py, read from the repository root), on loopback.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GUNICORN_BIND": f"127.0.0.1:{args.port}"}
    if args.workers:
        env["WEB_PROCESSES"] = str(args.workers)
    if args.threads:
        env["WEB_THREADS"] = str(args.threads)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"), init_globals={"os": os})
    processes, threads_each = (
        int(env.get("WEB_PROCESSES", config["workers"])),
        int(env.get("WEB_THREADS", config["threads"])),
    )
    log = (out / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "studio.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=2).request("GET", "/api/schema/")
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    sys.exit("gunicorn did not start; see var/bench-runtime-http/gunicorn.log")
                time.sleep(0.3)
        # Warm up: every worker loads the manager once (seconds), not measured.
        for _ in range(processes * threads_each * 2):
            converse(Client(args.port, token), skill_id, 2, [], [])
        latencies: list[float] = []
        errors: list[str] = []
        started = time.perf_counter()
        converse(Client(args.port, token), skill_id, args.turns, latencies, errors)
        sequential = figures(latencies) | {"turns_per_second": len(latencies) / (time.perf_counter() - started)}
        sequential["errors"] = len(errors)
        lat_c: list[float] = []
        errors_c: list[str] = []
        until = time.perf_counter() + args.seconds
        threads = [
            threading.Thread(
                target=converse_until,
                args=(Client(args.port, token), skill_id, args.turns_each, until, lat_c, errors_c),
            )
            for _ in range(args.concurrent)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        concurrent = figures(lat_c) | {"turns_per_second": len(lat_c) / (time.perf_counter() - started)}
        concurrent["errors"] = len(errors_c)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "server": f"gunicorn.conf.py: {processes} processes x {threads_each} threads",
        "sequential": sequential,
        f"concurrent_{args.concurrent}": concurrent,
        "errors": (errors + errors_c)[:10],
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"machine: {results['machine']}; server: {results['server']}")
    print("| clients | turns | median | p95 | max | turns/s | errors |")
    print("|---|---|---|---|---|---|---|")
    for name, f in (("1 session at a time", sequential), (f"{args.concurrent} concurrent sessions", concurrent)):
        print(
            f"| {name} | {f['turns']} | {f['median_ms']:.1f} ms | {f['p95_ms']:.1f} ms | {f['max_ms']:.1f} ms "
            f"| {f['turns_per_second']:.1f} | {f['errors']} |"
        )
    if errors or errors_c:
        print("errors:", *(errors + errors_c)[:10], sep="\n  ")


if __name__ == "__main__":
    main()
