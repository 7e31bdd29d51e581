"""The Celery app ``studio``: ``celery -A studio worker -Q cpu,gpu``.

The broker is Redis when ``REDIS_URL`` is set; without it, Celery's filesystem transport
under ``$COLLOQUY_DATA_DIR/celery`` (one machine, no services needed). Builds keep their
state in the database, so no result backend is used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["studio.builds"])


def filesystem_queue_dirs() -> list[Path]:
    """The folders the filesystem transport needs (when it is the broker)."""
    options = app.conf.broker_transport_options or {}
    return [
        Path(options[k])
        for k in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")
        if k in options
    ]


def ensure_broker_dirs() -> None:
    for folder in filesystem_queue_dirs():
        folder.mkdir(parents=True, exist_ok=True)


@celeryd_init.connect
def _prepare(**_: Any) -> None:
    ensure_broker_dirs()
