"""Builds: creating, queueing, retrying, cancelling, deploying, rolling back; a build's status and progress rows.

These are the services that views, the API and tasks call. A build runs as a chain of stages,
each a Celery task that calls one ``build_run_*`` stage body (:mod:`.stages`); the stage body
runs inside :func:`_stage`, which marks the build running and keeps its progress row. While a
stage runs, a heartbeat thread stamps the build every ``BUILD_HEARTBEAT_SECONDS``; a build whose
stamp is older than ``BUILD_STALE_SECONDS`` lost its worker and is failed by
:func:`build_fail_stale` (called by the pages, the API and every worker at start). The files
of a build (its folder, shards, artifact and manifest) are :mod:`.artifacts`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

import skillspec
from modeling.presets import PRESETS as MODEL_PRESETS
from skillspec import Issue, SpecValidationError
from studio.skills import selectors as skill_selectors
from studio.skills.models import Skill

from .artifacts import _write_manifest, artifact_problem, build_dir
from .models import Build, BuildLogLine, Deployment, StageProgress

log = logging.getLogger(__name__)
Stage = Build.Stage
Status = Build.Status


class BuildStopped(Exception):
    """The build was cancelled or failed elsewhere: the stage stops and writes nothing more."""


class BuildStateError(Exception):
    """An action that the build's state does not allow (deploy a failed build, cancel a finished one)."""


# --- settings ------------------------------------------------------------------------------------


_DEFAULT = MODEL_PRESETS["default"]


@dataclasses.dataclass(frozen=True)
class BuildSettings:
    """A build's settings: a recipe of ``modeling.presets`` plus how the studio runs it."""

    dialogues: int = _DEFAULT.dialogues  # simulated training dialogues
    heldout: int = _DEFAULT.heldout  # simulated dialogues (another seed) to evaluate on
    epochs: int = _DEFAULT.epochs
    seed: int = _DEFAULT.seed
    shards: int = 4  # simulation tasks that workers run in parallel
    # 1: start training from the skill's latest ready build when its models fit (same label
    # spaces), for at most TrainConfig.warm_epochs epochs; 0: always train from scratch.
    warm_start: int = 1


_SHARDS = {"draft": 2}  # a draft's 1,000 dialogues: two tasks are enough
PRESETS: dict[str, BuildSettings] = {
    name: BuildSettings(**dataclasses.asdict(p), shards=_SHARDS.get(name, 4)) for name, p in MODEL_PRESETS.items()
}
LIMITS = {
    "dialogues": (10, 200_000),
    "heldout": (0, 20_000),
    "epochs": (1, 100),
    "seed": (0, 2**31 - 1),
    "shards": (1, 64),
    "warm_start": (0, 1),
}


def build_settings_parse(data: Any) -> BuildSettings:
    """Settings from a request body: an optional ``preset`` plus any field; every problem named."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecValidationError([Issue("", "the build settings must be a JSON object")])
    issues: list[Issue] = []
    preset = data.get("preset", "default")
    if preset not in PRESETS:
        issues.append(Issue("preset", f"unknown preset {preset!r}; one of {', '.join(PRESETS)}"))
        preset = "default"
    values = dataclasses.asdict(PRESETS[preset])
    for key, value in data.items():
        if key == "preset":
            continue
        if key not in LIMITS:
            issues.append(Issue(key, f"unknown setting; the settings are preset, {', '.join(LIMITS)}"))
            continue
        low, high = LIMITS[key]
        if not isinstance(value, int) or isinstance(value, bool):
            issues.append(Issue(key, "must be a whole number"))
        elif not low <= value <= high:
            issues.append(Issue(key, f"must be between {low:,} and {high:,}"))
        else:
            values[key] = value
    if issues:
        raise SpecValidationError(issues)
    return BuildSettings(**values)


# --- creating, cancelling, retrying, deploying -----------------------------------------------------


def _enqueue(stage: str, build_id: int, shard: int | None = None) -> None:
    from . import tasks  # the tasks module imports this one

    tasks.enqueue(stage, build_id, shard)


@transaction.atomic
def build_create(*, skill: Skill, user: User, settings: Any = None, retry_of: Build | None = None) -> Build:
    """Freeze the skill's spec and queue a build of it."""
    parsed = build_settings_parse(settings) if retry_of is None else BuildSettings(**retry_of.settings)
    if retry_of is None:
        spec = skill_selectors.skill_to_spec(skill=skill)
        errors = skillspec.validate_skill(spec)
        if errors:
            raise SpecValidationError([Issue(skillspec.join_path("spec", i.path), i.message) for i in errors])
        spec_json = json.loads(skillspec.dump_skill(spec))
        spec_hash = skillspec.spec_hash(spec)
    else:
        spec_json, spec_hash = retry_of.spec, retry_of.spec_hash
    Skill.objects.select_for_update().get(pk=skill.pk)  # numbers builds one at a time per skill
    last = Build.objects.filter(skill=skill).order_by("-number").values_list("number", flat=True).first()
    build = Build.objects.create(
        skill=skill,
        number=(last or 0) + 1,
        started_by=user,
        retry_of=retry_of,
        settings=dataclasses.asdict(parsed),
        spec=spec_json,
        spec_hash=spec_hash,
    )
    what = f"retry of build {retry_of.number}" if retry_of else "queued"
    _log(build.pk, "", f"{what} by {user.get_username()}: {describe_settings(parsed)}")
    transaction.on_commit(lambda: build_queue(build_id=build.pk, stage=Stage.VALIDATE))
    return build


@transaction.atomic
def build_from_artifact(*, skill: Skill, user: User, artifact: Path) -> Build:
    """A ready build of the skill as it is now, serving an artifact trained elsewhere
    (``python -m modeling train``): copied under the build's directory, with its manifest."""
    spec = skill_selectors.skill_to_spec(skill=skill)
    Skill.objects.select_for_update().get(pk=skill.pk)  # numbers builds one at a time per skill
    last = Build.objects.filter(skill=skill).order_by("-number").values_list("number", flat=True).first()
    build = Build.objects.create(
        skill=skill,
        number=(last or 0) + 1,
        started_by=user,
        status=Status.READY,
        stage=Stage.PACKAGE,
        settings={},
        spec=json.loads(skillspec.dump_skill(spec)),
        spec_hash=skillspec.spec_hash(spec),
        finished_at=timezone.now(),
    )
    final = build_dir(build.pk) / "artifact"
    shutil.rmtree(final, ignore_errors=True)
    shutil.copytree(artifact, final)
    build.artifact_path, build.artifact_checksum = str(final), _write_manifest(build, final)
    build.save(update_fields=["artifact_path", "artifact_checksum"])
    _log(build.pk, "", f"ready: artifact {build.artifact_checksum[:12]} copied from {artifact}")
    return build


def build_retry(*, build: Build, user: User) -> Build:
    """A new build of the same frozen spec and settings (the skill may have changed since)."""
    if build.status not in (Status.FAILED, Status.CANCELLED):
        raise BuildStateError(
            f"only a failed or cancelled build can be retried; build {build.number} is {build.status}"
        )
    return build_create(skill=build.skill, user=user, retry_of=build)


def describe_settings(s: BuildSettings) -> str:
    warm = ", warm start" if s.warm_start else ""
    return (
        f"{s.dialogues:,} dialogues in {s.shards} shards, {s.heldout:,} held out, {s.epochs} epochs, seed {s.seed}"
        + warm
    )


def build_queue(*, build_id: int, stage: str, shard: int | None = None) -> None:
    """Queue a stage's task; if the broker cannot take it, the build fails saying so."""
    try:
        _enqueue(stage, build_id, shard)
    except Exception as exc:  # the broker is down or refuses: say so on the build, do not leave it queued
        build_fail(build_id=build_id, stage=stage, reason=f"could not queue the {stage} stage: {exc}")


@transaction.atomic
def build_cancel(*, build: Build) -> Build:
    build = Build.objects.select_for_update().get(pk=build.pk)
    if build.finished:
        raise BuildStateError(f"build {build.number} is already {build.status}")
    build.status = Status.CANCELLED
    build.finished_at = timezone.now()
    build.save(update_fields=["status", "finished_at"])
    _log(build.pk, build.stage, "cancelled")
    return build


@transaction.atomic
def build_deploy(*, build: Build, user: User) -> Deployment:
    """Make ``build`` the skill's live manager (the previous one stays in the history, for rollback)."""
    build = Build.objects.select_for_update().get(pk=build.pk)
    if build.status != Status.READY:
        raise BuildStateError(f"only a ready build can be deployed; build {build.number} is {build.status}")
    problem = artifact_problem(build)
    if problem:
        raise BuildStateError(f"build {build.number} cannot be deployed: {problem}")
    Deployment.objects.filter(skill_id=build.skill_id, live=True).update(live=False)
    deployment = Deployment.objects.create(skill_id=build.skill_id, build=build, deployed_by=user)
    _log(build.pk, "", f"deployed by {user.get_username()}")
    return deployment


def build_rollback(*, skill: Skill, user: User) -> Deployment:
    """Deploy again the build that was live before the current one."""
    live = Deployment.objects.filter(skill=skill, live=True).first()
    earlier = Deployment.objects.filter(skill=skill, live=False)
    if live is not None:
        earlier = earlier.filter(pk__lt=live.pk).exclude(build_id=live.build_id)
    previous = earlier.order_by("-pk").first()
    if previous is None:
        raise BuildStateError("there is no earlier deployment to roll back to")
    return build_deploy(build=previous.build, user=user)


# --- failing, staleness ----------------------------------------------------------------------------


def build_fail(*, build_id: int, stage: str, reason: str) -> None:
    """Mark a build failed at ``stage`` (unless it already finished, e.g. cancelled)."""
    with transaction.atomic():
        n = Build.objects.filter(pk=build_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
            status=Status.FAILED, stage=stage, error=reason[:4000], finished_at=timezone.now()
        )
        if n:
            _log(build_id, stage, f"failed: {reason}", level="error")


def build_fail_stale(*, build_id: int | None = None) -> int:
    """Fail running builds with a part whose worker stopped stamping it (killed, machine gone)."""
    limit = timezone.now() - datetime.timedelta(seconds=django_settings.BUILD_STALE_SECONDS)
    parts = StageProgress.objects.filter(
        state=StageProgress.State.RUNNING, heartbeat_at__lt=limit, build__status=Status.RUNNING
    )
    if build_id is not None:
        parts = parts.filter(build_id=build_id)
    failed = set()
    for part in parts.order_by("heartbeat_at"):
        if part.build_id in failed:
            continue
        silent = (timezone.now() - part.heartbeat_at).total_seconds()
        which = f"{part.stage} stage" + (f" (shard {part.part})" if part.stage == Stage.SIMULATE else "")
        build_fail(
            build_id=part.build_id,
            stage=part.stage,
            reason=f"the worker running the {which} stopped responding (no heartbeat for {silent:.0f} s): "
            "it was killed or lost its machine. Retry the build.",
        )
        failed.add(part.build_id)
    return len(failed)


# --- running a stage: its status, progress row and heartbeat ---------------------------------------


def _log(build_id: int, stage: str, message: str, *, level: str = "info") -> None:
    BuildLogLine.objects.create(build_id=build_id, stage=stage, level=level, message=message)


class _Heartbeat(threading.Thread):
    """Stamps a running part while it runs, from its own thread (and database connection)."""

    def __init__(self, row_id: int) -> None:
        super().__init__(daemon=True, name=f"build-part-{row_id}-heartbeat")
        self.row_id = row_id
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.wait(django_settings.BUILD_HEARTBEAT_SECONDS):
                try:
                    # One UPDATE in autocommit: between beats the thread holds no transaction, and on
                    # SQLite (one writer at a time) the write lock only for that statement.
                    StageProgress.objects.filter(pk=self.row_id).update(heartbeat_at=timezone.now())
                except Exception as exc:  # a database blip: the next beat tries again
                    log.warning("build part %s: heartbeat not written: %s", self.row_id, exc)
                    connection.close_if_unusable_or_obsolete()
        finally:
            connection.close()


class _Part:
    """One running part of a stage: its progress row, written throttled; notices a cancellation."""

    # At most one progress write a second per part: a build's parts, its heartbeats and the web
    # processes share the database, and on SQLite they take turns at one write lock.
    REPORT_SECONDS = 1.0

    def __init__(self, build_id: int, stage: str, part: int) -> None:
        self.build_id = build_id
        self.row, _ = StageProgress.objects.update_or_create(
            build_id=build_id,
            stage=stage,
            part=part,
            defaults={
                "state": StageProgress.State.RUNNING,
                "done": 0,
                "total": 0,
                "unit": "",
                "detail": "",
                "heartbeat_at": timezone.now(),
            },
        )
        self.last = 0.0

    def __call__(
        self,
        done: int,
        total: int | None = None,
        *,
        unit: str | None = None,
        detail: str | None = None,
        force: bool = False,
    ) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.REPORT_SECONDS:
            return
        self.last = now
        fields: dict[str, Any] = {"done": done, "updated_at": timezone.now()}
        for name, value in (("total", total), ("unit", unit), ("detail", detail)):
            if value is not None:
                fields[name] = value[:200] if isinstance(value, str) else value
        try:
            # One short UPDATE in autocommit, written only while the build runs: no row means it was
            # cancelled or failed elsewhere, and only then is its status read.
            if StageProgress.objects.filter(pk=self.row.pk, build__status=Status.RUNNING).update(**fields):
                return
            status = Build.objects.filter(pk=self.build_id).values_list("status", flat=True).first()
        except DatabaseError as exc:
            # The database is briefly away (or, on SQLite, stayed locked past the busy timeout): the
            # work goes on and a later report tries again. (If it stays away, the heartbeat goes
            # silent and the build is failed as stale.)
            log.warning("build %s: progress not written: %s", self.build_id, exc)
            connection.close_if_unusable_or_obsolete()
            return
        if status != Status.RUNNING:
            raise BuildStopped(f"build is {status}")


@contextlib.contextmanager
def _stage(build_id: int, stage: str, part: int = 0) -> Iterator[tuple[Build, _Part]]:
    """Run one part of a stage: mark the build running, keep a heartbeat, stop if it is cancelled."""
    close_old_connections()
    with transaction.atomic():
        build = Build.objects.select_for_update().get(pk=build_id)
        if build.finished:
            raise BuildStopped(f"build {build.number} is {build.status}")
        build.status = Status.RUNNING
        build.stage = stage
        build.started_at = build.started_at or timezone.now()
        build.save(update_fields=["status", "stage", "started_at"])
    progress = _Part(build_id, stage, part)
    beat = _Heartbeat(progress.row.pk)
    beat.start()
    try:
        yield build, progress
        StageProgress.objects.filter(pk=progress.row.pk).update(
            state=StageProgress.State.DONE, updated_at=timezone.now()
        )
    finally:
        beat.stop.set()
        beat.join()


def _handover(build_id: int, next_stage: str) -> None:
    """The stage is done; the next one waits for a worker."""
    Build.objects.filter(pk=build_id, status=Status.RUNNING).update(stage=next_stage)
