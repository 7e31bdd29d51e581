"""The stage bodies of a build: what validate, simulate, train, evaluate and package do with the
skill's frozen spec and the models.

A build runs as a chain of stages, each a Celery task (:mod:`.tasks`) that calls one
``build_run_*`` here: validate -> simulate (one task per shard, in parallel) -> train ->
evaluate -> package. Each returns what comes next; the task queues it. Each body runs inside
:func:`.services._stage`, which marks the build running, keeps its progress row and heartbeat,
and stops it when the build is cancelled; the build's files are :mod:`.artifacts`.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

import skillspec

from .artifacts import _write_manifest, build_dir, shard_path
from .models import Build
from .services import BuildSettings, BuildStopped, _handover, _log, _stage

Stage = Build.Stage
Status = Build.Status


class BuildFailure(Exception):
    """A stage cannot go on; the message is the reason shown on the build."""


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
    from simulator.samples import training_set
    from skillspec.annotated import read_dialogues

    with _stage(build_id, Stage.TRAIN) as (build, report):
        s = _settings(build)
        work = build_dir(build_id) / "work"
        # The shards in order are the dialogues one process would have simulated with the seed.
        simulated = [d for i in range(len(_shard_sizes(s))) for d in read_dialogues(shard_path(build_id, i))]
        # The recipe (modeling train's too): the simulated dialogues and the skill's own samples.
        dialogues = training_set(_spec(build), simulated)
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
