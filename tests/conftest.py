import json
import os
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
