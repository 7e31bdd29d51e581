"""Celery tasks of a build: each takes ids, calls one service, records how it ended, queues the next.

Queues: ``cpu`` (validate, simulate, evaluate, package) and ``gpu`` (train; a worker there
trains on CUDA when it has one). See docs/builds.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from celery import shared_task
from celery.signals import worker_process_init, worker_ready

from . import services, stages
from .models import Build

log = logging.getLogger(__name__)
Stage = Build.Stage
T = TypeVar("T")


def _run(build_id: int, stage: str, work: Callable[[], T]) -> T | None:
    try:
        return work()
    except services.BuildStopped as exc:
        log.info("build %s: %s stage stopped: %s", build_id, stage, exc)
    except stages.BuildFailure as exc:
        services.build_fail(build_id=build_id, stage=stage, reason=str(exc))
    except Exception as exc:
        log.exception("build %s: %s stage failed", build_id, stage)
        services.build_fail(build_id=build_id, stage=stage, reason=f"{type(exc).__name__}: {exc}")
    return None


@shared_task(name="builds.validate", ignore_result=True)
def build_validate(build_id: int) -> None:
    shards = _run(build_id, Stage.VALIDATE, lambda: stages.build_run_validate(build_id=build_id))
    for shard in shards or []:
        services.build_queue(build_id=build_id, stage=Stage.SIMULATE, shard=shard)


@shared_task(name="builds.simulate", ignore_result=True)
def build_simulate(build_id: int, shard: int) -> None:
    if _run(build_id, Stage.SIMULATE, lambda: stages.build_run_shard(build_id=build_id, shard=shard)):
        services.build_queue(build_id=build_id, stage=Stage.TRAIN)


@shared_task(name="builds.train", ignore_result=True)
def build_train(build_id: int) -> None:
    if _run(build_id, Stage.TRAIN, lambda: stages.build_run_train(build_id=build_id)):
        services.build_queue(build_id=build_id, stage=Stage.EVALUATE)


@shared_task(name="builds.evaluate", ignore_result=True)
def build_evaluate(build_id: int) -> None:
    if _run(build_id, Stage.EVALUATE, lambda: stages.build_run_evaluate(build_id=build_id)):
        services.build_queue(build_id=build_id, stage=Stage.PACKAGE)


@shared_task(name="builds.package", ignore_result=True)
def build_package(build_id: int) -> None:
    _run(build_id, Stage.PACKAGE, lambda: stages.build_run_package(build_id=build_id))


TASKS: dict[str, Any] = {
    Stage.VALIDATE: build_validate,
    Stage.SIMULATE: build_simulate,
    Stage.TRAIN: build_train,
    Stage.EVALUATE: build_evaluate,
    Stage.PACKAGE: build_package,
}


def enqueue(stage: str, build_id: int, shard: int | None = None) -> None:
    """Send the task of ``stage`` to its queue (``CELERY_TASK_ROUTES``)."""
    from studio.celery import ensure_broker_dirs

    ensure_broker_dirs()
    args = (build_id,) if shard is None else (build_id, shard)
    TASKS[stage].apply_async(args=args, retry=False)


@worker_process_init.connect
def _load_the_encoder_early(**_: Any) -> None:
    # Every stage that trains or evaluates needs the encoder (seconds to load): load it while the
    # process waits for its first task, in a thread, since this signal must return within seconds.
    threading.Thread(target=stages.build_encoder, name="load-encoder", daemon=True).start()


@worker_ready.connect
def _fail_stale_builds_at_start(**_: Any) -> None:
    # A worker that starts may be replacing one that was killed: fail what that one left running.
    services.build_fail_stale()
