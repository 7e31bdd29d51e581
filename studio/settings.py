"""Colloquy studio settings. Everything that differs between machines comes from the environment."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and os.environ.get("COLLOQUY_REQUIRE_SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set")
    # Only for local development and tests; production sets SECRET_KEY.
    SECRET_KEY = "colloquy-insecure-development-key"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Where the embedded SQLite database and other local state live when no services are configured.
DATA_DIR = Path(os.environ.get("COLLOQUY_DATA_DIR", BASE_DIR / "var"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "studio.skills",
    "studio.builds",
    "studio.runtime",
]

MIDDLEWARE = [
    # First, so that every error under /api/ is JSON, whichever middleware answered it.
    "studio.api_errors.ApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    # The embedded default (make run) is shared by the web server and the build worker's
    # processes, which all write at once: progress, heartbeats, edits, console turns (see
    # docs/builds.md). WAL lets readers go on while one connection writes. IMMEDIATE takes the
    # write lock when a transaction begins, so one that has read never needs to upgrade its
    # lock, which SQLite refuses at once ("database is locked") instead of waiting. A writer
    # then waits up to `timeout` seconds for the lock: 20 s is generous, since most write
    # transactions take milliseconds and the longest, a console turn (the model answers with
    # the lock held; a few seconds when its process first loads the model, or a webhook's
    # timeout), stays well under it even with several queued; yet a stalled process still
    # ends in an error, not a hang. synchronous=NORMAL is safe with WAL (a power cut may lose
    # the last commits, never the file) and saves an fsync per commit. Production uses
    # PostgreSQL (DATABASE_URL), which none of this concerns.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "colloquy.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            },
        }
    }

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Shared by every web process: the API's per-token rate limits count across them.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# --- builds on Celery workers (docs/builds.md) ---
# Trained artifacts, build work files and the embeddings cache. Workers on other machines
# must see the same directory (a shared volume).
COLLOQUY_ARTIFACTS_DIR = Path(os.environ.get("COLLOQUY_ARTIFACTS_DIR", DATA_DIR / "artifacts"))
BUILD_HEARTBEAT_SECONDS = float(os.environ.get("COLLOQUY_BUILD_HEARTBEAT_SECONDS", "5"))
# A running stage silent this long lost its worker; the build fails (and can be retried).
BUILD_STALE_SECONDS = float(os.environ.get("COLLOQUY_BUILD_STALE_SECONDS", "60"))
BUILD_DEVICE = os.environ.get("COLLOQUY_BUILD_DEVICE", "auto")  # "auto": CUDA on a worker that has it
# "auto": int8 (the dynamically quantised encoder) on the CPU, fp32 on a GPU; or "fp32", "int8".
# docs/benchmarks.md compares them.
BUILD_ENCODER_PRECISION = os.environ.get("COLLOQUY_BUILD_ENCODER_PRECISION", "auto")
# Torch threads per worker process (and web process); 0: the process's share of the cores.
COLLOQUY_TORCH_THREADS = int(os.environ.get("COLLOQUY_TORCH_THREADS", "0"))

# --- runtime and test console (docs/console.md) ---
COLLOQUY_RUNTIME_DEVICE = os.environ.get("COLLOQUY_RUNTIME_DEVICE", "cpu")
COLLOQUY_RUNTIME_MANAGERS = int(os.environ.get("COLLOQUY_RUNTIME_MANAGERS", "4"))  # builds loaded per process
COLLOQUY_RUNTIME_SESSIONS = int(os.environ.get("COLLOQUY_RUNTIME_SESSIONS", "1000"))  # session states in memory
COLLOQUY_RUNTIME_RATE = os.environ.get("COLLOQUY_RUNTIME_RATE", "600/min")  # turns and sessions per API token
COLLOQUY_MAX_UTTERANCE_CHARS = int(os.environ.get("COLLOQUY_MAX_UTTERANCE_CHARS", "500"))
COLLOQUY_MAX_SESSION_TURNS = int(os.environ.get("COLLOQUY_MAX_SESSION_TURNS", "200"))
# Webhooks to loopback, private and link-local addresses are refused unless this is set
# (local development only: it would let skill authors reach the server's own network).
COLLOQUY_WEBHOOK_ALLOW_PRIVATE = os.environ.get("COLLOQUY_WEBHOOK_ALLOW_PRIVATE", "").lower() in ("1", "true", "yes")
COLLOQUY_WEBHOOK_MAX_BYTES = int(os.environ.get("COLLOQUY_WEBHOOK_MAX_BYTES", str(64 * 1024)))

# Without Redis: kombu's filesystem transport with whole-message writes (studio/broker.py).
CELERY_BROKER_URL = REDIS_URL or "colloquyfs://"
if not REDIS_URL:
    _queue_dir = DATA_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),  # kombu's default is ./control, in the working directory
        "store_processed": False,
        # The worker looks for new messages this often (kombu's default, 1 s, is paid at every
        # hand-over between a build's stages).
        "polling_interval": 0.1,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_ROUTES = {"builds.train": {"queue": "gpu"}, "builds.*": {"queue": "cpu"}}
# One task at a time per worker process, taken when it can start: long stages must not sit
# behind one another in a busy worker's prefetch while another worker is idle.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "skills:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Only `collectstatic` (deployment) needs STATIC_ROOT; unset, WhiteNoise serves from the finders.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
# WhiteNoise serves static files in every mode; finders let `runserver` work without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Imports of whole skills can carry large catalogues; still bound them.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("COLLOQUY_MAX_UPLOAD_BYTES", 10 * 1024 * 1024))
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Bad input of any kind becomes 400 {"errors": [{"path": ..., "message": ...}]}; other refusals keep
    # their status with the same body (studio/api_errors.py).
    "EXCEPTION_HANDLER": "studio.api_errors.api_exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Colloquy API",
    "DESCRIPTION": "Author skills (slot types, APIs, response templates, utterance sets, sample dialogues) "
    "and export or import them as skill spec JSON.",
    "VERSION": "0.1.0",
    # 3.1 schemas are JSON Schema 2020-12, the dialect pydantic writes for the skill-spec bodies.
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from the vendored sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
