"""The Celery app ``studio``: ``celery -A studio worker -Q cpu,gpu``.

The broker is Redis when ``REDIS_URL`` is set; without it, kombu's filesystem transport
(made safe for concurrent writers: ``studio/broker.py``) under ``$COLLOQUY_DATA_DIR/celery``
(one machine, no services needed). Builds keep their
state in the database, so no result backend is used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import celeryd_init, worker_process_init

from .broker import register as register_embedded_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
register_embedded_broker()  # colloquyfs://, the broker without Redis (studio/broker.py)

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


# How many pool processes this worker runs: set in the main process, read by each forked one.
_PROCESSES = "COLLOQUY_WORKER_PROCESSES"


@celeryd_init.connect
def _prepare(options: dict[str, Any] | None = None, **_: Any) -> None:
    ensure_broker_dirs()
    # The pool's processes are forked after this: they read how many of them share the cores.
    concurrency = (options or {}).get("concurrency") or os.cpu_count() or 1
    os.environ[_PROCESSES] = str(concurrency)


@worker_process_init.connect
def _share_the_cores(**_: Any) -> None:
    """Each pool process takes its share of the cores for torch (``COLLOQUY_TORCH_THREADS``
    overrides it): two processes with a thread per core each would spin-wait on one another."""
    from django.conf import settings

    from modeling.encoder import set_cpu_threads

    set_cpu_threads(settings.COLLOQUY_TORCH_THREADS or None, processes=int(os.environ.get(_PROCESSES, "1")))
