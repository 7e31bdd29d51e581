"""Reads of builds. Every read goes through the skill's owner: no user reaches another's builds."""

from __future__ import annotations

import dataclasses
import statistics
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from studio.skills.models import Skill

from .models import Build, Deployment, StageProgress
from .services import PRESETS, BuildSettings

# Share of the whole build each stage stands for, for one overall progress figure.
WEIGHTS = {"validate": 0.02, "simulate": 0.2, "train": 0.6, "evaluate": 0.15, "package": 0.03}
ORDER = list(WEIGHTS)


def build_list(*, skill: Skill) -> QuerySet[Build]:
    return Build.objects.filter(skill=skill).select_related("started_by").order_by("-number")


def build_get(*, user: User | AnonymousUser, build_id: int) -> Build:
    """The build ``build_id`` of one of the user's skills; 404 when it does not exist or is someone else's."""
    if not user.is_authenticated:
        raise Http404("No such build")
    try:
        return Build.objects.select_related("skill", "started_by").get(pk=build_id, skill__owner=user)
    except Build.DoesNotExist:
        raise Http404("No such build") from None


# A build's frozen spec, epoch history and metrics are large JSON (a spec imported from SGD is
# hundreds of KB): reading them where only the build's identity and artifact are needed (every
# runtime turn) costs more than the turn's own queries. Deferred, they load when first used.
BUILD_HEAVY_FIELDS = ("spec", "history", "metrics")


def live_build(*, skill: Skill) -> Build | None:
    """The skill's deployed build, or None (its heavy JSON fields deferred)."""
    d = (
        Deployment.objects.filter(skill=skill, live=True)
        .select_related("build")
        .defer(*(f"build__{f}" for f in BUILD_HEAVY_FIELDS))
        .first()
    )
    return d.build if d else None


def build_progress(*, build: Build) -> dict[str, Any]:
    """Per stage: done, total, fraction, unit, detail, rate and ETA; and the build's overall fraction."""
    rows = list(StageProgress.objects.filter(build=build))
    now = timezone.now()
    stages: dict[str, dict[str, Any]] = {}
    for stage in ORDER:
        parts = [r for r in rows if r.stage == stage]
        if stage == "simulate":
            total = int(build.settings.get("dialogues", 0))
            shards = int(build.settings.get("shards", 1))
        else:
            total = sum(r.total for r in parts)
            shards = 1
        done = sum(r.done for r in parts)
        finished = (ORDER.index(build.stage) > ORDER.index(stage)) or build.status == Build.Status.READY
        fraction = 1.0 if finished else (min(done / total, 1.0) if total else 0.0)
        started = min((r.started_at for r in parts), default=None)
        elapsed = (now - started).total_seconds() if started else 0.0
        eta = elapsed * (1 - fraction) / fraction if 0 < fraction < 1 and not build.finished else None
        stages[stage] = {
            "state": "done" if finished else ("running" if parts else "waiting"),
            "done": total if finished and stage == "simulate" else done,
            "total": total,
            "unit": next((r.unit for r in parts if r.unit), ""),
            "fraction": round(fraction, 4),
            "detail": "; ".join(r.detail for r in parts if r.detail),
            "parts": f"{sum(1 for r in parts if r.state == StageProgress.State.DONE)}/{shards}" if shards > 1 else "",
            "eta_seconds": round(eta) if eta is not None else None,
        }
    overall = sum(WEIGHTS[s] * stages[s]["fraction"] for s in ORDER)
    return {"fraction": round(1.0 if build.status == Build.Status.READY else overall, 4), "stages": stages}


def build_duration(*, build: Build) -> float | None:
    if build.started_at is None:
        return None
    end = build.finished_at or timezone.now()
    return (end - build.started_at).total_seconds()


# --- how long a build will take ----------------------------------------------------------------

# With no earlier build to go by, a build's time from its settings, fitted to docs/benchmarks.md
# ("Builds: first builds and rebuilds, per stage"; a 2-core CPU, the workers of make run): a
# default build of flights (10,000 dialogues, 2 epochs, 500 held out) took 196 s, a draft
# (1,000 dialogues, 3 epochs, 100 held out) 34 s.
ESTIMATE_BASE_SECONDS = 2.0  # queueing and handing over between stages
ESTIMATE_SECONDS_PER_DIALOGUE = 0.0092  # simulating, encoding and featurizing: ~91 s for 10,000
ESTIMATE_SECONDS_PER_DIALOGUE_EPOCH = 0.0048  # an epoch of training: 10,000 x 1 took ~44 s
ESTIMATE_SECONDS_PER_HELDOUT_DIALOGUE = 0.032  # evaluating: 500 held-out dialogues took ~16 s
ESTIMATE_FROM_BUILDS = 5  # an estimate goes by at most this many earlier builds, the most recent
# The settings that change how long a build takes (the seed does not).
TIMED_SETTINGS = ("dialogues", "heldout", "epochs", "shards")


@dataclasses.dataclass(frozen=True)
class BuildEstimate:
    """How long a build with some settings should take, and what the figure is based on."""

    seconds: float
    basis: str  # "from 3 earlier builds", "scaled from 1 earlier build", ..., or "estimated"
    builds: int  # the earlier builds it comes from; 0 for the documented constants alone


def _formula_seconds(s: dict[str, int]) -> float:
    return (
        ESTIMATE_BASE_SECONDS
        + ESTIMATE_SECONDS_PER_DIALOGUE * s["dialogues"]
        + ESTIMATE_SECONDS_PER_DIALOGUE_EPOCH * s["dialogues"] * s["epochs"]
        + ESTIMATE_SECONDS_PER_HELDOUT_DIALOGUE * s["heldout"]
    )


def _timed_builds(builds: QuerySet[Build]) -> list[tuple[dict[str, int], float]]:
    """(timed settings, seconds from start to ready) of the most recent ready builds that ran here."""
    ready = builds.filter(status=Build.Status.READY, started_at__isnull=False, finished_at__isnull=False)
    rows = ready.order_by("-finished_at").values_list("settings", "started_at", "finished_at")[:50]
    out = []
    for settings, started, finished in rows:
        if started is None or finished is None:  # not so (filtered above); the type checker cannot know
            continue
        seconds = (finished - started).total_seconds()
        # A build made from an artifact trained elsewhere has no settings: nothing to learn from it.
        if seconds > 0 and all(isinstance(settings.get(k), int) and settings[k] > 0 for k in ("dialogues", "epochs")):
            out.append(({k: settings.get(k, 0) for k in TIMED_SETTINGS}, seconds))
    return out


def build_estimate_seconds(*, skill: Skill, settings: BuildSettings) -> BuildEstimate:
    """How long a build of ``skill`` with ``settings`` should take on this installation, from start to ready.

    From the skill's recent ready builds: those with the same settings as they took, or, when
    there are none, each one's time scaled by how much longer the formula says these settings
    take (dialogues x epochs, held-out dialogues). Without any, the same from the owner's other
    skills; without any at all, the formula alone (``ESTIMATE_*``, from docs/benchmarks.md).
    Time spent queued, waiting for a free worker, is not counted.
    """
    wanted = {k: getattr(settings, k) for k in TIMED_SETTINGS}
    own = Build.objects.filter(skill=skill)
    others = Build.objects.filter(skill__owner_id=skill.owner_id).exclude(skill=skill)
    pools = (
        (own, "earlier build", "earlier builds"),
        (others, "build of your other skills", "builds of your other skills"),
    )
    for builds, one, many in pools:
        timed = _timed_builds(builds)
        same = [seconds for s, seconds in timed if s == wanted][:ESTIMATE_FROM_BUILDS]
        scaled = [seconds * _formula_seconds(wanted) / _formula_seconds(s) for s, seconds in timed]
        for figures, how in ((same, "from"), (scaled[:ESTIMATE_FROM_BUILDS], "scaled from")):
            if figures:
                n = len(figures)
                return BuildEstimate(statistics.median(figures), f"{how} {n} {one if n == 1 else many}", n)
    return BuildEstimate(_formula_seconds(wanted), "estimated", 0)


def build_form_preset(*, skill: Skill) -> str:
    """The preset the build form offers first: ``draft`` until the skill has a ready build (a first build
    should be quick), then the preset closest to the settings of the skill's last build."""
    fallback = "draft" if "draft" in PRESETS else next(iter(PRESETS))
    if not Build.objects.filter(skill=skill, status=Build.Status.READY).exists():
        return fallback
    last = Build.objects.filter(skill=skill).order_by("-number").values_list("settings", flat=True).first() or {}

    def distance(name: str) -> tuple[int, bool]:
        preset = dataclasses.asdict(PRESETS[name])
        return sum(last.get(k) != preset[k] for k in TIMED_SETTINGS), name != fallback

    return min(PRESETS, key=distance)


def user_segments(turn: dict[str, Any]) -> list[dict[str, Any]]:
    """A user turn's text cut at its spans: plain pieces and highlighted spans (escaped by the template)."""
    text = turn["text"]
    out: list[dict[str, Any]] = []
    at = 0
    for span in sorted(turn.get("spans", []), key=lambda s: s["start"]):
        if span["start"] < at:
            continue
        if span["start"] > at:
            out.append({"text": text[at : span["start"]]})
        out.append(
            {
                "text": text[span["start"] : span["end"]],
                "slot_type": span["slot_type"],
                "value": span.get("value"),
                "entity": span.get("entity"),
                "confidence": span.get("confidence"),
            }
        )
        at = span["end"]
    if at < len(text):
        out.append({"text": text[at:]})
    return out
