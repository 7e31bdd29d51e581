"""Build pages: the list per skill, a live page per build, generated dialogues, comparison.

A build page polls itself with htmx (``hx-trigger="every 1s"`` on the live fragment) while
the build runs; the fragment a finished build returns has no trigger, so polling stops.
"""

from __future__ import annotations

import json
from itertools import islice
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from modeling.artifact import accuracy_curves_svg, loss_curves_svg
from skillspec import SpecValidationError
from studio.skills import selectors as skill_selectors
from studio.web import HtmxHttpRequest, login_required

from . import artifacts, selectors, services
from .models import Build

HEADLINE = ("action_signature_accuracy", "action_accuracy", "ner_f1", "api_call_f1", "dialogue_accuracy")
SETTING_FIELDS = ("dialogues", "heldout", "epochs", "seed", "shards", "warm_start")
DIALOGUES_PER_PAGE = 10
BROWSABLE = 200  # dialogues of the first shard offered to browse


def _redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _about(estimate: selectors.BuildEstimate) -> str:
    """``about 50 s (from 2 earlier builds)``: rounded as far as an estimate deserves."""
    seconds = estimate.seconds
    if seconds < 90:
        figure = f"{max(5, round(seconds / 5) * 5)} s"
    elif seconds < 90 * 60:
        figure = f"{round(seconds / 60)} min"
    else:
        figure = f"{seconds / 3600:.1f} h"
    return f"about {figure} ({estimate.basis})"


def _headline(build: Build) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("heldout", "test"):
        m = (build.metrics or {}).get(name)
        out[name] = m.get("action_signature_accuracy") if m else None
    return out


@login_required
@require_http_methods(["GET", "POST"])
def build_list_view(request: HtmxHttpRequest, skill_id: int) -> HttpResponse:
    skill = skill_selectors.skill_get(user=request.user, skill_id=skill_id)
    errors: dict[str, str] = {}
    posted: dict[str, str] = {}
    if request.method == "POST":
        posted = {k: request.POST.get(k, "").strip() for k in ("preset", *SETTING_FIELDS)}
        data: dict[str, Any] = {"preset": posted["preset"] or "default"}
        for key in SETTING_FIELDS:
            if posted[key]:
                try:
                    data[key] = int(posted[key])
                except ValueError:
                    errors[key] = "must be a whole number"
        if not errors:
            try:
                build = services.build_create(skill=skill, user=request.user, settings=data)
            except SpecValidationError as exc:
                errors = {i.path or "settings": i.message for i in exc.issues}
            else:
                return _redirect(request, reverse("builds:detail", args=[build.pk]))
    services.build_fail_stale()
    builds = list(selectors.build_list(skill=skill))
    live = selectors.live_build(skill=skill)
    rows = [
        {"build": b, "duration": selectors.build_duration(build=b), "live": live is not None and live.pk == b.pk}
        | _headline(b)
        for b in builds
    ]
    return render(
        request,
        "builds/list.html",
        {
            "skill": skill,
            "section": "builds",
            "rows": rows,
            "live": live,
            "presets": [
                {
                    "name": name,
                    "description": services.describe_settings(preset),
                    "estimate": _about(selectors.build_estimate_seconds(skill=skill, settings=preset)),
                }
                for name, preset in services.PRESETS.items()
            ],
            "preset": posted.get("preset") or selectors.build_form_preset(skill=skill),
            "fields": [(f, posted.get(f, ""), errors.get(f)) for f in SETTING_FIELDS],
            "errors": errors,
            "posted": posted,
        },
        status=400 if errors else 200,
    )


def _live_context(build: Build) -> dict[str, Any]:
    progress = selectors.build_progress(build=build)
    metrics = build.metrics or {}
    evaluations = [
        {
            "name": name,
            "label": "held-out simulated dialogues" if name == "heldout" else "the skill's test conversations",
            "metrics": m,
            "headline": [m.get(k) for k in HEADLINE] if m else [],
            "per_action": sorted((m.get("per_action") or {}).items()) if m else [],
        }
        for name, m in metrics.items()
    ]
    live = selectors.live_build(skill=build.skill)
    return {
        "build": build,
        "skill": build.skill,
        "section": "builds",
        "progress": progress,
        "stages": list(progress["stages"].items()),
        "percent": round(100 * progress["fraction"]),
        "log": list(build.log_lines.order_by("-id")[:200])[::-1],
        # The charts are drawn here from numbers only (no user text): safe to inline.
        "loss_svg": mark_safe(loss_curves_svg(build.history)) if build.history else None,  # noqa: S308
        "accuracy_svg": mark_safe(accuracy_curves_svg(build.history)) if build.history else None,  # noqa: S308
        "evaluations": evaluations,
        "headline_keys": HEADLINE,
        "is_live": live is not None and live.pk == build.pk,
        "duration": selectors.build_duration(build=build),
        "can_browse": artifacts.shard_path(build.pk, 0).is_file(),
    }


@login_required
@require_GET
def build_detail_view(request: HtmxHttpRequest, build_id: int) -> HttpResponse:
    build = selectors.build_get(user=request.user, build_id=build_id)
    if services.build_fail_stale(build_id=build.pk):
        build.refresh_from_db()
    context = _live_context(build)
    if request.htmx:
        return render(request, "builds/_live.html", context)
    return render(request, "builds/detail.html", context)


def _act(request: HtmxHttpRequest, build_id: int, action: str) -> HttpResponse:
    build = selectors.build_get(user=request.user, build_id=build_id)
    target = build
    try:
        if action == "cancel":
            services.build_cancel(build=build)
            messages.success(request, f"Build {build.number} cancelled.")
        elif action == "deploy":
            services.build_deploy(build=build, user=request.user)
            messages.success(request, f"Build {build.number} is now the live manager of {build.skill.name}.")
        elif action == "retry":
            target = services.build_retry(build=build, user=request.user)
            messages.success(request, f"Build {target.number} retries build {build.number}.")
    except services.BuildStateError as exc:
        messages.error(request, str(exc))
    return _redirect(request, reverse("builds:detail", args=[target.pk]))


@login_required
@require_POST
def build_cancel_view(request: HtmxHttpRequest, build_id: int) -> HttpResponse:
    return _act(request, build_id, "cancel")


@login_required
@require_POST
def build_deploy_view(request: HtmxHttpRequest, build_id: int) -> HttpResponse:
    return _act(request, build_id, "deploy")


@login_required
@require_POST
def build_retry_view(request: HtmxHttpRequest, build_id: int) -> HttpResponse:
    return _act(request, build_id, "retry")


@login_required
@require_POST
def skill_rollback_view(request: HtmxHttpRequest, skill_id: int) -> HttpResponse:
    skill = skill_selectors.skill_get(user=request.user, skill_id=skill_id)
    try:
        deployment = services.build_rollback(skill=skill, user=request.user)
        messages.success(request, f"Rolled back: build {deployment.build.number} is live again.")
    except services.BuildStateError as exc:
        messages.error(request, str(exc))
    return _redirect(request, reverse("builds:list", args=[skill.pk]))


@login_required
@require_GET
def build_compare_view(request: HtmxHttpRequest, skill_id: int) -> HttpResponse:
    skill = skill_selectors.skill_get(user=request.user, skill_id=skill_id)
    builds = {b.pk: b for b in selectors.build_list(skill=skill)}
    chosen = []
    for key in ("a", "b"):
        try:
            chosen.append(builds[int(request.GET.get(key, ""))])
        except (ValueError, KeyError):
            raise Http404(f"choose two builds of this skill to compare ({key} is missing or not one)") from None
    a, b = chosen
    rows = []
    for name in ("heldout", "test"):
        ma, mb = (a.metrics or {}).get(name) or {}, (b.metrics or {}).get(name) or {}
        for key in (*HEADLINE, "argument_accuracy", "dialogues", "turns"):
            va, vb = ma.get(key), mb.get(key)
            delta = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
            rows.append({"set": name, "key": key, "a": va, "b": vb, "delta": delta})
    settings_rows = [(k, a.settings.get(k), b.settings.get(k)) for k in SETTING_FIELDS]
    return render(
        request,
        "builds/compare.html",
        {"skill": skill, "section": "builds", "a": a, "b": b, "rows": rows, "settings_rows": settings_rows},
    )


@login_required
@require_GET
def build_dialogues_view(request: HtmxHttpRequest, build_id: int) -> HttpResponse:
    build = selectors.build_get(user=request.user, build_id=build_id)
    path = artifacts.shard_path(build.pk, 0)
    if not path.is_file():
        raise Http404("this build has no simulated dialogues (yet)")
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    start = (page - 1) * DIALOGUES_PER_PAGE
    with path.open(encoding="utf-8") as f:
        lines = list(islice(f, min(start, BROWSABLE), min(start + DIALOGUES_PER_PAGE, BROWSABLE)))
    dialogues = []
    for line in lines:
        d = json.loads(line)
        turns = []
        for turn in d["turns"]:
            if turn["speaker"] == "user":
                turns.append({"user": True, "segments": selectors.user_segments(turn), "acts": turn.get("acts", [])})
            else:
                turns.append({"user": False, "actions": turn["actions"], "text": turn.get("text", "")})
        dialogues.append({"id": d["id"], "phenomena": d.get("phenomena", []), "turns": turns})
    return render(
        request,
        "builds/dialogues.html",
        {
            "build": build,
            "skill": build.skill,
            "section": "builds",
            "dialogues": dialogues,
            "page": page,
            "previous": page - 1 if page > 1 else None,
            "next": page + 1 if start + DIALOGUES_PER_PAGE < BROWSABLE and len(lines) == DIALOGUES_PER_PAGE else None,
            "first": start + 1,
        },
    )
