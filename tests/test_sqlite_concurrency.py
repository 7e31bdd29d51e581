"""The embedded SQLite default under load: a build's worker processes and the web processes write at once.

``make run`` without ``DATABASE_URL`` keeps everything in one SQLite file, with builds on a
``celery worker -c 2`` (two processes) beside the web server. The rest of the suite runs on
PostgreSQL; this test starts its own processes on a SQLite database in a temporary directory
and makes real HTTP requests while real builds run (issue 12: "database is locked").
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from .conftest import ROOT, Worker, stop_group

FIRST_BUILD = {"dialogues": 200, "heldout": 20, "epochs": 1, "shards": 2}  # deployed: the runtime API serves it
# Built while the requests run: long enough for 100 of them. Cold (no warm start from the first
# build, which would train a single epoch): builds got faster and the load must still overlap one.
SECOND_BUILD = {"dialogues": 400, "heldout": 20, "epochs": 3, "shards": 4, "warm_start": 0}
CLIENT_THREADS = 3
TEXTS = ["Find me a flight from Boston to Chicago tomorrow", "Book it for two people", "yes", "thanks, bye"]


def sqlite_env(data_dir: Path) -> dict[str, str]:
    """The environment of ``make run``: no DATABASE_URL (SQLite), no REDIS_URL (the filesystem broker)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "COLLOQUY_ARTIFACTS_DIR"}}
    env.update(
        COLLOQUY_DATA_DIR=str(data_dir),
        COLLOQUY_BUILD_DEVICE="cpu",
        # Heartbeats ten times as often as by default: more writers at once than a real build has.
        COLLOQUY_BUILD_HEARTBEAT_SECONDS="0.5",
        COLLOQUY_RUNTIME_RATE="100000/min",  # the test makes many turns with one token
        OMP_NUM_THREADS="1",
        HF_HUB_OFFLINE="1",
    )
    return env


class WebServer:
    """``gunicorn studio.wsgi`` with two worker processes (the runtime API test's helper has one)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        cmd = [gunicorn, "studio.wsgi", "-w", "2", "-b", f"127.0.0.1:{self.port}", "--timeout", "120"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                Client(self.port).call("GET", "/accounts/login/")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the web server did not start:\n{self.log.read_text()[-3000:]}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        stop_group(self.proc)


class Client:
    """HTTP to the studio: the REST API with a token, the pages with a session cookie and the CSRF token."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.token = ""
        self.cookies: dict[str, str] = {}

    def call(
        self, method: str, path: str, *, body: object = None, form: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        headers: dict[str, str] = {}
        data: str | None = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body), "application/json"
        if form is not None:
            data, headers["Content-Type"] = urllib.parse.urlencode(form), "application/x-www-form-urlencoded"
        if path.startswith("/api/") and self.token:
            headers["Authorization"] = f"Token {self.token}"
        elif self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, data, headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        for header in response.msg.get_all("Set-Cookie") or []:
            self.cookies.update({k: m.value for k, m in SimpleCookie(header).items()})
        return response.status, content

    def json(self, method: str, path: str, body: object = None, *, expect: int = 200) -> dict:
        status, content = self.call(method, path, body=body)
        assert status == expect, (method, path, status, content[:2000])
        return json.loads(content)

    def sign_in(self, username: str, password: str) -> None:
        self.token = self.json("POST", "/api/auth/token/", {"username": username, "password": password})["token"]
        self.call("GET", "/accounts/login/")
        form = {"username": username, "password": password, "csrfmiddlewaretoken": self.cookies["csrftoken"]}
        status, content = self.call("POST", "/accounts/login/", form=form)
        assert status == 302 and "sessionid" in self.cookies, (status, content[:2000])


class Studio:
    """A studio as ``make run`` starts it: the SQLite file, the filesystem broker, a worker with two processes."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir
        self.env = sqlite_env(data_dir)
        self.worker = Worker(self.env, data_dir / "worker.log")
        self.web = WebServer(self.env, data_dir / "web.log")

    def start(self) -> Client:
        for command in (["migrate", "--noinput"], ["load_demo"]):
            done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=self.env, capture_output=True)
            assert done.returncode == 0, done.stderr.decode()[-3000:]
        self.worker.start()
        self.web.start()
        client = Client(self.web.port)
        client.sign_in("demo", "demo-password")
        return client

    def stop(self) -> None:
        self.web.stop()
        self.worker.stop()

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.worker.log, self.web.log) if p.exists())


def build_start(client: Client, skill_id: int, settings: dict) -> int:
    return client.json("POST", f"/api/skills/{skill_id}/builds/", settings, expect=201)["id"]


def build_wait(client: Client, build_id: int, timeout: float) -> dict:
    """Poll until the build has finished; its last state."""
    deadline = time.monotonic() + timeout
    while True:
        build = client.json("GET", f"/api/builds/{build_id}/")
        if build["status"] in {"ready", "failed", "cancelled"}:
            return build
        assert time.monotonic() < deadline, f"build {build_id} still {build['status']}/{build['stage']}"
        time.sleep(0.5)


@dataclass(frozen=True)
class Answer:
    what: str
    status: int
    started: float
    seconds: float
    body: bytes


class Load:
    """Threads that edit the skill, talk to the runtime API and read pages until stopped; every answer kept."""

    def __init__(self, client: Client, skill_id: int, slot_type_id: int, build_id: int, *, converse: bool) -> None:
        self.client, self.skill_id, self.slot_type_id, self.build_id = client, skill_id, slot_type_id, build_id
        self.converse = converse  # only once the skill has a live build
        self.answers: list[Answer] = []
        self.stop = threading.Event()
        self.counter = itertools.count()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(CLIENT_THREADS)]

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(150)

    def _call(
        self, what: str, method: str, path: str, *, body: object = None, form: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        started = time.monotonic()
        status, content = self.client.call(method, path, body=body, form=form)
        self.answers.append(Answer(what, status, started, time.monotonic() - started, content[:500]))
        return status, content

    def _run(self, thread: int) -> None:
        s = self.skill_id
        steps = [self._edit_rest, self._edit_form, self._read_pages]
        if self.converse:
            steps.append(self._converse)
        for i in itertools.count(thread):
            if self.stop.is_set():
                return
            steps[i % len(steps)](s, next(self.counter))

    def _edit_rest(self, s: int, n: int) -> None:
        self._call("skill PATCH", "PATCH", f"/api/skills/{s}/", body={"description": f"Flights, edit {n}."})
        body = {"description": f"Cities with an airport (edit {n})."}
        self._call("slot type PATCH", "PATCH", f"/api/skills/{s}/slot-types/{self.slot_type_id}/", body=body)

    def _edit_form(self, s: int, n: int) -> None:
        csrf = self.client.cookies["csrftoken"]
        form = {"name": "Flights", "description": f"Flights, form edit {n}.", "csrfmiddlewaretoken": csrf}
        self._call("skill edit form POST", "POST", f"/skills/{s}/edit/", form=form)

    def _converse(self, s: int, n: int) -> None:
        status, content = self._call("session POST", "POST", f"/api/skills/{s}/sessions/", body={})
        if status != 201:
            return
        session = json.loads(content)["id"]
        for text in TEXTS[: 1 + n % len(TEXTS)]:
            self._call("turn POST", "POST", f"/api/sessions/{session}/turns/", body={"text": text})

    def _read_pages(self, s: int, n: int) -> None:
        for page in ("/skills/{s}/", "/skills/{s}/builds/", "/builds/{b}/", "/skills/{s}/console/"):
            self._call(f"GET {page}", "GET", page.format(s=s, b=self.build_id))
        self._call("build GET", "GET", f"/api/builds/{self.build_id}/")


def server_errors(answers: list[Answer]) -> str:
    """The answers with a status of 500 or more, for an assertion's message ("" when there are none)."""
    failed = [a for a in answers if a.status >= 500]
    return f"{len(failed)} of {len(answers)} requests failed: {failed[:3]}" if failed else ""


@pytest.fixture
def studio(tmp_path):
    s = Studio(tmp_path)
    yield s
    s.stop()


def test_builds_and_requests_share_the_embedded_sqlite_database(studio):
    client = studio.start()
    flights = next(k for k in client.json("GET", "/api/skills/")["results"] if k["name"] == "Flights")
    slot_type = client.json("GET", f"/api/skills/{flights['id']}/slot-types/")["results"][0]

    first = build_start(client, flights["id"], FIRST_BUILD)
    with Load(client, flights["id"], slot_type["id"], first, converse=False) as during_first:
        first_build = build_wait(client, first, timeout=150)
    assert first_build["status"] == "ready", (first_build["error"], server_errors(during_first.answers))
    client.json("POST", f"/api/builds/{first}/deploy/")  # now the runtime API can serve turns

    second = build_start(client, flights["id"], SECOND_BUILD)
    seen: list[tuple[float, str, str]] = []  # (when, status, stage) as the build API told it
    with Load(client, flights["id"], slot_type["id"], second, converse=True) as during_second:
        while not seen or seen[-1][1] in {"queued", "running"}:
            build = client.json("GET", f"/api/builds/{second}/")
            seen.append((time.monotonic(), build["status"], build["stage"]))
            assert time.monotonic() - seen[0][0] < 150, f"build still {build['status']}/{build['stage']}"
            time.sleep(0.3)
    assert build["status"] == "ready", (build["error"], server_errors(during_second.answers))

    answers = during_first.answers + during_second.answers
    assert not server_errors(answers), server_errors(answers)
    unexpected = [a for a in answers if a.status not in {200, 201, 302}]
    assert not unexpected, unexpected[:3]
    assert "database is locked" not in studio.logs()  # nor a progress report or heartbeat skipped for it
    # The requests did run while the build did, turns of the runtime API among them.
    running = [t for t, status, _ in seen if status == "running"]
    assert running, seen
    during = [a for a in during_second.answers if running[0] <= a.started <= running[-1]]
    turns = [a for a in during if a.what == "turn POST" and a.status == 201]
    assert len(during) >= 100 and len(turns) >= 10, (len(during), len(turns))
