"""Reads of builds. Every read goes through the skill's owner: no user reaches another's builds."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from studio.skills.models import Skill

from .models import Build, Deployment, StageProgress

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


def live_build(*, skill: Skill) -> Build | None:
    d = Deployment.objects.filter(skill=skill, live=True).select_related("build").first()
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
