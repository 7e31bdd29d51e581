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
