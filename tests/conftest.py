import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from studio.skills import services

from .factories import UserFactory

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
PASSWORD = "pw-for-tests-123"

# The Schema-Guided Dialogue sample data lies beside the checkout (../shared/sgd), here and in CI.
SGD_DIR = Path(os.environ.get("COLLOQUY_SGD_DIR", ROOT.parent / "shared" / "sgd"))


def needs_sgd() -> pytest.MarkDecorator:
    """Skip without the SGD data; in CI (CI=true) its absence is an error, so the tests cannot vanish."""
    missing = not (SGD_DIR / "schema.json").exists()
    if missing and os.environ.get("CI"):
        raise RuntimeError(f"CI needs the SGD sample data at {SGD_DIR} (set COLLOQUY_SGD_DIR)")
    return pytest.mark.skipif(missing, reason=f"the SGD sample data is not at {SGD_DIR}")


@pytest.fixture(scope="session", autouse=True)
def _real_postgres(django_db_setup, django_db_blocker):
    """The suite runs against PostgreSQL, as production does; refuse to pass silently on SQLite."""
    from django.db import connection

    with django_db_blocker.unblock():
        assert connection.vendor == "postgresql", "set DATABASE_URL to a PostgreSQL database (see README)"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.5 s per user; the tests are about Colloquy, not PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def mini_spec() -> dict:
    return json.loads((DATA / "mini_skill.json").read_text())


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def skill(user, mini_spec):
    return services.skill_import(owner=user, data=mini_spec)


@pytest.fixture
def web(client, user):
    """A browser-like Django test client signed in as ``user``."""
    client.force_login(user)
    return client


@pytest.fixture
def api(user):
    """A REST client authenticating with ``user``'s token."""
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


# ---------------------------------------------------------------- models: the real encoder, tiny configs

TINY = dict(epochs=4, batch_size=16, ner_hidden=64, ap_hidden=128, af_hidden=64, context=64, patience=4)


@pytest.fixture(scope="session")
def encoder():
    """The real default encoder (all-MiniLM-L6-v2 from its wheel), loaded once."""
    from modeling.encoder import TextEncoder

    return TextEncoder()


@pytest.fixture(scope="session")
def flights_skill():
    import skillspec

    return skillspec.parse_skill((ROOT / "examples" / "flights.json").read_bytes())


@pytest.fixture(scope="session")
def flights_dialogues(flights_skill):
    """Simulated flights dialogues: 400 to train on, then 60 held out (another seed)."""
    from simulator.generate import generate_lines
    from skillspec.annotated import AnnotatedDialogue

    def make(n: int, seed: int) -> list:
        text = "".join(generate_lines(flights_skill, n, seed))
        return [AnnotatedDialogue.model_validate_json(line) for line in text.splitlines()]

    return make(400, 1), make(60, 2)


@pytest.fixture(scope="session")
def flights_artifact(tmp_path_factory, flights_skill, flights_dialogues, encoder):
    """A dialogue manager trained on a tiny configuration: (artifact directory, metrics, progress reports)."""
    from modeling.train import TrainConfig, train

    out = tmp_path_factory.mktemp("models") / "flights"
    reports = []
    metrics = train(
        flights_skill, flights_dialogues[0], out, TrainConfig(**TINY), progress=reports.append, encoder=encoder
    )
    return out, metrics, reports


@pytest.fixture(scope="session")
def manager(flights_artifact, encoder):
    import datetime

    from modeling.runtime import DialogueManager

    return DialogueManager.load(flights_artifact[0], encoder=encoder, today=datetime.date(2026, 1, 15))


# ---------------------------------------------------------------- builds: a real Celery worker process


def use_broker(url: str, options: dict) -> dict:
    """Point this process's Celery app at another broker; returns the settings to restore."""
    from studio.celery import app

    # The settings use the CELERY_ namespace: the app reads its keys with that prefix.
    saved = {"url": app.conf.broker_url, "options": app.conf.broker_transport_options}
    app.conf.update(CELERY_BROKER_URL=url, CELERY_BROKER_TRANSPORT_OPTIONS=options)
    app._pool = None  # connections are pooled per app: drop the old broker's
    app.amqp._producer_pool = None
    return saved


REDIS_TEST_URL = os.environ.get("COLLOQUY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
STALE_SECONDS = 4


def stop_group(proc: subprocess.Popen | None, timeout: float = 20) -> None:
    """Stop a process started in its own session, and its children: TERM, then KILL after ``timeout``."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class Worker:
    """A ``celery -A studio worker -Q cpu,gpu`` process on the test database."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        name = f"test-{uuid.uuid4().hex[:8]}@%h"
        cmd = [sys.executable, "-m", "celery", "-A", "studio", "worker", "-Q", "cpu,gpu", "-c", "2", "-n", name]
        cmd += ["-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True)
        deadline = time.monotonic() + 60
        while b" ready." not in self.log.read_bytes().split(name.split("@")[0].encode())[-1]:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes, as a crash or the OOM killer would."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        stop_group(self.proc)


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    import redis
    from django.conf import settings
    from django.db import connection

    redis.Redis.from_url(REDIS_TEST_URL).flushdb()  # no messages left over from an earlier run
    artifacts = tmp_path_factory.mktemp("artifacts")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": REDIS_TEST_URL,
        "COLLOQUY_ARTIFACTS_DIR": str(artifacts),
        "COLLOQUY_BUILD_HEARTBEAT_SECONDS": "0.5",
        "COLLOQUY_BUILD_STALE_SECONDS": str(STALE_SECONDS),
        "COLLOQUY_BUILD_DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
    }
    saved = use_broker(REDIS_TEST_URL, {})
    old = (settings.COLLOQUY_ARTIFACTS_DIR, settings.BUILD_STALE_SECONDS)
    settings.COLLOQUY_ARTIFACTS_DIR, settings.BUILD_STALE_SECONDS = artifacts, STALE_SECONDS
    w = Worker(env, tmp_path_factory.mktemp("worker") / "worker.log")
    w.start()
    yield w
    w.stop()
    use_broker(**saved)
    settings.COLLOQUY_ARTIFACTS_DIR, settings.BUILD_STALE_SECONDS = old


# ---------------------------------------------------------------- runtime: a deployed build of the flights example


@pytest.fixture
def flights_deployed(user, flights_artifact, encoder, tmp_path, settings):
    """The flights example as ``user``'s skill, with the tiny trained manager packaged as its live build."""
    from studio.builds.services import build_deploy, build_from_artifact
    from studio.runtime import managers

    settings.COLLOQUY_ARTIFACTS_DIR = tmp_path
    skill = services.skill_import(owner=user, data=(ROOT / "examples" / "flights.json").read_text())
    build = build_from_artifact(skill=skill, user=user, artifact=flights_artifact[0])
    build_deploy(build=build, user=user)
    managers.clear()
    managers._encoders[(settings.COLLOQUY_RUNTIME_DEVICE, encoder.precision)] = encoder  # loaded once
    yield skill, build
    managers.clear()
