"""Builds: creating, running stage by stage, cancelling, deploying. Plain functions; tasks call them.

A build runs as a chain of stages, each a Celery task that calls one ``build_run_*``
service here: validate -> simulate (one task per shard, in parallel) -> train -> evaluate
-> package. Each service returns what comes next; the task queues it. While a stage runs,
a heartbeat thread stamps the build every ``BUILD_HEARTBEAT_SECONDS``; a build whose
stamp is older than ``BUILD_STALE_SECONDS`` lost its worker and is failed by
:func:`build_fail_stale` (called by the pages, the API and every worker at start).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

import skillspec
from skillspec import Issue, SpecValidationError
from studio.skills import selectors as skill_selectors
from studio.skills.models import Skill

from .models import Build, BuildLogLine, Deployment, StageProgress

log = logging.getLogger(__name__)
Stage = Build.Stage
Status = Build.Status


class BuildStopped(Exception):
    """The build was cancelled or failed elsewhere: the stage stops and writes nothing more."""


class BuildStateError(Exception):
    """An action that the build's state does not allow (deploy a failed build, cancel a finished one)."""


# --- settings ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BuildSettings:
    dialogues: int = 10_000  # simulated training dialogues
    # Simulated dialogues (another seed) to evaluate on. 500 (~3,700 system turns) put a 0.97
    # accuracy within +-0.006 (95 %); 1,000 cost an SGD service's build 70 s of evaluation.
    heldout: int = 500
    # 10,000 dialogues need fewer passes than modeling train's default of 4 (for data of any
    # size): 2 epochs matched 4 within 0.01 on every metric, real SGD dialogues included (ADR 0006).
    epochs: int = 2
    seed: int = 1
    shards: int = 4  # simulation tasks that workers run in parallel
    # 1: start training from the skill's latest ready build when its models fit (same label
    # spaces), for at most TrainConfig.warm_epochs epochs; 0: always train from scratch.
    warm_start: int = 1


PRESETS: dict[str, BuildSettings] = {
    "default": BuildSettings(),
    # 100 held out: evaluating 200 took 31 % of a draft's training (5.3 s of 17 s); a draft is for
    # a quick look, and 100 dialogues (~1,000 system turns) still tell a good build from a bad one.
    "draft": BuildSettings(dialogues=1_000, heldout=100, epochs=3, shards=2),
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


def artifact_problem(build: Build) -> str | None:
    """Why the build's artifact cannot be served, or None: it must be complete and match its checksum."""
    if not build.artifact_path or not build.artifact_checksum:
        return "it has no artifact"
    path = Path(build.artifact_path)
    if not (path / "MANIFEST.json").is_file():
        return f"its artifact at {path} is missing or incomplete"
    # Hashing every file costs milliseconds per megabyte, and every new session asks: a process
    # remembers a match for as long as no file of the artifact changed its size or mtime.
    signature = _files_signature(path)
    key = (str(path), build.artifact_checksum)
    with _verified_lock:
        if _verified.get(key) == signature:
            return None
    if files_checksum(path) != build.artifact_checksum:
        return "its artifact's files do not match the checksum recorded when it was packaged"
    with _verified_lock:
        _verified[key] = signature
        while len(_verified) > 256:
            del _verified[next(iter(_verified))]
    return None


_verified: dict[tuple[str, str], tuple[tuple[str, int, int], ...]] = {}
_verified_lock = threading.Lock()


def _files_signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Each file's name, size and mtime: what changes when a file is rewritten, truncated or added."""
    out = []
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        st = f.stat()
        out.append((str(f.relative_to(path)), st.st_size, st.st_mtime_ns))
    return tuple(out)


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


# --- running the stages ----------------------------------------------------------------------------


def build_dir(build_id: int) -> Path:
    return Path(django_settings.COLLOQUY_ARTIFACTS_DIR) / "builds" / str(build_id)


def shard_path(build_id: int, shard: int) -> Path:
    """A shard's simulated dialogues (JSON Lines, the annotated-dialogue format); kept after the build."""
    return build_dir(build_id) / "work" / f"shard-{shard:03d}.jsonl"


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


def _spec(build: Build) -> skillspec.Skill:
    return skillspec.parse_skill(build.spec)


def _settings(build: Build) -> BuildSettings:
    return BuildSettings(**build.settings)


def _shard_sizes(s: BuildSettings) -> list[tuple[int, int]]:
    """(first dialogue number, count) of each shard."""
    size = -(-s.dialogues // s.shards)
    return [(start, min(size, s.dialogues - start)) for start in range(0, s.dialogues, size)]


def build_run_validate(*, build_id: int) -> list[int]:
    """Check that the frozen spec can be simulated; returns the shards to simulate."""
    from simulator.engine import SimulationError, Simulator

    with _stage(build_id, Stage.VALIDATE) as (build, _):
        spec = _spec(build)
        s = _settings(build)
        try:
            Simulator.for_skill(spec).dialogue(0, s.seed)
        except (SimulationError, ValueError, KeyError) as exc:
            raise BuildFailure(f"the simulator cannot play this skill: {exc}") from exc
        shutil.rmtree(build_dir(build_id), ignore_errors=True)
        (build_dir(build_id) / "work").mkdir(parents=True)
        shards = _shard_sizes(s)
        _log(build_id, Stage.VALIDATE, f"spec {build.spec_hash[:12]} is valid; simulating in {len(shards)} shards")
        _handover(build_id, Stage.SIMULATE)
        return list(range(len(shards)))


class BuildFailure(Exception):
    """A stage cannot go on; the message is the reason shown on the build."""


def _handover(build_id: int, next_stage: str) -> None:
    """The stage is done; the next one waits for a worker."""
    Build.objects.filter(pk=build_id, status=Status.RUNNING).update(stage=next_stage)


def build_run_shard(*, build_id: int, shard: int) -> bool:
    """Simulate one shard of the training dialogues; returns True when it was the last one to finish."""
    from simulator.engine import Simulator

    with _stage(build_id, Stage.SIMULATE, shard) as (build, report):
        s = _settings(build)
        start, n = _shard_sizes(s)[shard]
        report(0, n, unit="dialogues", force=True)
        sim = Simulator.for_skill(_spec(build))
        out = shard_path(build_id, shard)
        tmp = out.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for i, d in enumerate(sim.dialogues(n, s.seed, start)):
                f.write(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n")
                report(i + 1)
        os.replace(tmp, out)
        report(n, force=True)
        with transaction.atomic():
            Build.objects.filter(pk=build_id).update(shards_done=F("shards_done") + 1)
            done = Build.objects.select_for_update().get(pk=build_id).shards_done
        last = done == len(_shard_sizes(s))
        if last:
            _log(build_id, Stage.SIMULATE, f"simulated {s.dialogues:,} dialogues")
            _handover(build_id, Stage.TRAIN)
        return last


def build_run_train(*, build_id: int) -> bool:
    """Train the three models on the shards' dialogues, into a temporary artifact directory."""
    from modeling.train import Progress, TrainConfig, train
    from skillspec.annotated import read_dialogues

    with _stage(build_id, Stage.TRAIN) as (build, report):
        s = _settings(build)
        work = build_dir(build_id) / "work"
        # The shards in order are the dialogues one process would have simulated with the seed.
        dialogues = [d for i in range(len(_shard_sizes(s))) for d in read_dialogues(shard_path(build_id, i))]
        report(0, 1000, unit="‰", force=True)
        history: list[dict[str, Any]] = []

        def progress(p: Progress) -> None:
            # encode 20%, featurize 5%, the epochs 75% (early stopping may end them sooner)
            if p.phase == "encode":
                report(int(200 * p.done / max(p.total, 1)), detail=f"encoding {p.done:,}/{p.total:,} texts")
            elif p.phase == "featurize":
                report(200 + int(50 * p.done / max(p.total, 1)), detail=f"featurizing {p.done:,}/{p.total:,}")
            elif p.phase == "train":
                frac = (p.epoch - 1 + p.done / max(p.total, 1)) / max(p.epochs, 1)
                report(250 + int(750 * frac), detail=f"epoch {p.epoch}/{p.epochs}, loss {p.loss or 0:.4f}")
            elif p.phase == "validate":
                row = {"epoch": p.epoch, "train_loss": p.loss, **(p.metrics or {})}
                history.append(row)
                Build.objects.filter(pk=build_id).update(history=history)
                acc = ", ".join(f"{k} {v['accuracy']:.3f}" for k, v in (p.metrics or {}).items())
                _log(build_id, Stage.TRAIN, f"epoch {p.epoch}: train loss {p.loss:.4f}; validation accuracy {acc}")
                report(250 + int(750 * p.epoch / max(p.epochs, 1)), force=True)

        tmp = work / "artifact.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        encoder = build_encoder()
        earlier = _warm_start_build(build) if s.warm_start else None
        config = TrainConfig(
            epochs=s.epochs,
            seed=s.seed,
            device=django_settings.BUILD_DEVICE,
            cache_dir=str(_cache_dir()),
            encoder_precision=encoder.precision,
            init_from=earlier.artifact_path if earlier else None,
        )
        metrics = train(_spec(build), dialogues, tmp, config, progress=progress, encoder=encoder)
        report(1000, force=True)
        warm = metrics.get("warm_start")
        if earlier is not None and warm is not None:
            said = "started from" if warm["used"] else f"did not start from ({warm['reason']})"
            _log(build_id, Stage.TRAIN, f"{said} build {earlier.number}'s models")
        _log(build_id, Stage.TRAIN, f"trained in {metrics['seconds']:.0f} s ({metrics['epochs_run']} epochs)")
        _handover(build_id, Stage.EVALUATE)
        return True


def _warm_start_build(build: Build) -> Build | None:
    """The skill's latest ready build before this one whose artifact is still there."""
    earlier = Build.objects.filter(skill_id=build.skill_id, status=Status.READY, number__lt=build.number)
    for candidate in earlier.exclude(artifact_path="").order_by("-number")[:5]:
        if (Path(candidate.artifact_path) / "config.json").is_file():
            return candidate
    return None


_ENCODERS: dict[tuple[str, str], Any] = {}
_ENCODER_LOCK = threading.Lock()


def build_encoder() -> Any:
    """One encoder per worker process (loading it takes seconds), with the embeddings disk
    cache shared by every build and worker: a rebuild encodes only the texts that are new."""
    from modeling.encoder import TextEncoder

    with _ENCODER_LOCK:
        key = (django_settings.BUILD_DEVICE, django_settings.BUILD_ENCODER_PRECISION)
        if key not in _ENCODERS:
            _ENCODERS[key] = TextEncoder(device=key[0], precision=key[1], cache_dir=_cache_dir())
        return _ENCODERS[key]


def _cache_dir() -> Path:
    return Path(django_settings.COLLOQUY_ARTIFACTS_DIR) / "cache"


def build_run_evaluate(*, build_id: int) -> bool:
    """Evaluate on held-out simulated dialogues and on the skill's test conversations."""
    from modeling.evaluate import evaluate
    from modeling.runtime import DialogueManager
    from simulator.engine import Simulator
    from simulator.samples import samples_to_annotated
    from skillspec.annotated import REFERENCE_DATE, AnnotatedDialogue

    with _stage(build_id, Stage.EVALUATE) as (build, report):
        s = _settings(build)
        spec = _spec(build)
        manager = DialogueManager.load(build_dir(build_id) / "work" / "artifact.tmp", encoder=build_encoder())
        heldout = [
            AnnotatedDialogue.model_validate(d) for d in Simulator.for_skill(spec).dialogues(s.heldout, s.seed + 1000)
        ]
        tests = [d for d in samples_to_annotated(spec) if d.test]
        report(0, len(heldout) + len(tests), unit="dialogues", force=True)
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            report(done)

        metrics: dict[str, Any] = {}
        for name, gold in (("heldout", heldout), ("test", tests)):
            if not gold:
                metrics[name] = None
                continue
            errors: list[dict[str, Any]] = []
            m = evaluate(manager, gold, today=REFERENCE_DATE, progress=step, errors=errors)
            m["confusion"] = _confusion(errors)
            m["errors"] = errors[:50]
            metrics[name] = m
        report(done, force=True)
        Build.objects.filter(pk=build_id).update(metrics=metrics)
        shown = ", ".join(
            f"{name} signature accuracy {m['action_signature_accuracy']:.3f}" for name, m in metrics.items() if m
        )
        _log(build_id, Stage.EVALUATE, f"evaluated: {shown or 'nothing to evaluate on'}")
        _handover(build_id, Stage.PACKAGE)
        return True


def _confusion(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """(gold action, predicted action, count) at the first difference of each wrong turn, most common first."""
    pairs: Counter[tuple[str, str]] = Counter()
    for e in errors:
        gold = [a.split("(")[0] for a in e["gold"]]
        ours = [a.split("(")[0] for a in e["predicted"]]
        for i in range(max(len(gold), len(ours))):
            g = gold[i] if i < len(gold) else "(nothing)"
            p = ours[i] if i < len(ours) else "(nothing)"
            if g != p or (i < len(e["gold"]) and i < len(e["predicted"]) and e["gold"][i] != e["predicted"][i]):
                pairs[(g, p if g != p else f"{p} (other arguments)")] += 1
                break
    return [{"gold": g, "predicted": p, "count": n} for (g, p), n in pairs.most_common(30)]


def files_checksum(path: Path) -> str:
    """SHA-256 over the artifact's files (names and contents), MANIFEST.json left out."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and p.name != "MANIFEST.json"):
        h.update(str(f.relative_to(path)).encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _write_manifest(build: Build, path: Path) -> str:
    """Write the artifact's MANIFEST.json (its files and checksum); returns the checksum."""
    checksum = files_checksum(path)
    files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and p.name != "MANIFEST.json")
    manifest = {"build": build.number, "skill": build.skill_id, "spec_hash": build.spec_hash, "files": files}
    (path / "MANIFEST.json").write_text(json.dumps({**manifest, "sha256": checksum}, indent=2) + "\n")
    return checksum


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


def build_run_package(*, build_id: int) -> None:
    """Move the artifact into place atomically, with its checksum; the build is then ready."""
    with _stage(build_id, Stage.PACKAGE) as (build, report):
        report(0, 1, unit="artifact", force=True)
        tmp = build_dir(build_id) / "work" / "artifact.tmp"
        (tmp / "evaluation.json").write_text(json.dumps(build.metrics, indent=2) + "\n")
        checksum = _write_manifest(build, tmp)
        final = build_dir(build_id) / "artifact"
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)  # one rename: the artifact is there whole or not at all
        with transaction.atomic():
            n = Build.objects.filter(pk=build_id, status=Status.RUNNING).update(
                status=Status.READY,
                artifact_path=str(final),
                artifact_checksum=checksum,
                finished_at=timezone.now(),
            )
            if not n:
                raise BuildStopped("build was cancelled while packaging")
            _log(build_id, Stage.PACKAGE, f"ready: artifact {checksum[:12]} at {final}")
