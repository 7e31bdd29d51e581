"""The test console: chat with a build's manager and see, per turn, every decision it made.

The conversation page posts each utterance with htmx and appends the returned turn
fragment (and swaps the context panel out of band): no full page reloads. A turn can be
corrected in place and the conversation saved as a sample dialogue or test conversation.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

import skillspec
from skillspec import Issue, SpecValidationError
from studio.builds import selectors as build_selectors
from studio.skills import selectors as skill_selectors
from studio.web import HtmxHttpRequest, login_required

from . import selectors, services
from .models import ApiBinding, ConversationSession, ConversationTurn


def _errors(exc: SpecValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for issue in exc.issues:
        out.setdefault(issue.path or "", issue.message)
    return out


# --- starting a conversation, API backends -------------------------------------------------------


def _start_context(skill: Any, binding_errors: dict[str, dict[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
    spec_apis = [a.name for a in skill.apis.order_by("position", "id")]
    live = build_selectors.live_build(skill=skill)
    bindings = selectors.binding_list(skill_id=skill.pk, apis=spec_apis)
    for b in bindings:
        b.errors = (binding_errors or {}).get(b.api)  # type: ignore[attr-defined]  # for the template only
    return {
        "skill": skill,
        "section": "console",
        "builds": selectors.servable_builds(skill_id=skill.pk),
        "live": live,
        "bindings": bindings,
        "recent": ConversationSession.objects.filter(skill=skill).select_related("build")[:10],
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def console_view(request: HtmxHttpRequest, skill_id: int) -> HttpResponse:
    """Pick a build (the live one by default) and start a conversation."""
    skill = skill_selectors.skill_get(user=request.user, skill_id=skill_id)
    if request.method == "POST":
        build = None
        raw = request.POST.get("build", "")
        try:
            if raw:
                build = build_selectors.build_get(user=request.user, build_id=int(raw))
            session = services.session_create(skill=skill, user=request.user, build=build)
        except (ValueError, SpecValidationError, services.SessionStateError) as exc:
            message = _errors(exc).get("build", str(exc)) if isinstance(exc, SpecValidationError) else str(exc)
            if isinstance(exc, ValueError):
                message = "choose a build"
            return render(request, "console/start.html", _start_context(skill, error=message), status=400)
        url = reverse("console:session", args=[session.pk])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return render(request, "console/start.html", _start_context(skill))


@login_required
@require_POST
def binding_view(request: HtmxHttpRequest, skill_id: int, api: str) -> HttpResponse:
    """Bind one API to the mock backend or a webhook; the row comes back with field errors, if any."""
    skill = skill_selectors.skill_get(user=request.user, skill_id=skill_id)
    posted = {k: request.POST.get(k, "") for k in ("mode", "url", "secret", "timeout")}
    errors: dict[str, str] = {}
    binding = ApiBinding(skill=skill, api=api, mode=posted["mode"], url=posted["url"])
    try:
        timeout = float(posted["timeout"] or 5)
    except ValueError:
        errors["timeout"] = "must be a number of seconds"
        timeout = 5.0
    if not errors:
        try:
            binding = services.binding_update(
                skill=skill, api=api, mode=posted["mode"], url=posted["url"], secret=posted["secret"], timeout=timeout
            )
        except SpecValidationError as exc:
            errors = _errors(exc)
    context = {"skill": skill, "binding": binding, "errors": errors, "saved": not errors}
    if request.htmx:
        return render(request, "console/_binding.html", context, status=400 if errors else 200)
    if errors:
        return render(request, "console/start.html", _start_context(skill, binding_errors={api: errors}), status=400)
    messages.success(request, f"{api} is now answered by its {binding.mode} backend.")
    return redirect("console:start", skill.pk)


# --- the conversation --------------------------------------------------------------------------------


def _turn_context(session: ConversationSession, turn: ConversationTurn) -> dict[str, Any]:
    data = selectors.turn_json(turn)
    spans = data["spans"]
    actions = data["actions"]
    for a in actions:
        changed = [d for d in a["consistency"] if not d["accepted"]]
        a["changed"] = changed
        for g in a["arguments"]:
            g["candidates"] = sorted(g["attention"], key=lambda c: -c["weight"])
            for c in g["candidates"]:
                c["percent"] = round(100 * c["weight"], 1)
    annotation = services.turn_annotation(turn=turn) if turn.correction is not None else None
    return {
        "session": session,
        "turn": turn,
        "data": data,
        "segments": build_selectors.user_segments({"text": turn.text, "spans": spans}),
        "actions": actions,
        "annotation": annotation,
        "corrected_segments": (
            build_selectors.user_segments(
                {"text": turn.text, "spans": [s | {"entity": s["id"]} for s in annotation["spans"]]}
            )
            if annotation
            else None
        ),
    }


def _session_context(session: ConversationSession, **extra: Any) -> dict[str, Any]:
    turns = selectors.session_turns(session=session)
    return {
        "skill": session.skill,
        "section": "console",
        "session": session,
        "turns": [_turn_context(session, t) for t in turns],
        "entities": selectors.context_entities(turns=turns),
        **extra,
    }


def _session(request: HtmxHttpRequest, session_id: str) -> ConversationSession:
    return selectors.session_get(user=request.user, session_id=session_id)


@login_required
@require_GET
def session_view(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    session = _session(request, session_id)
    return render(request, "console/session.html", _session_context(session))


@login_required
@require_POST
def turn_view(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    """Say something: the new turn's fragment (appended by htmx) and the context panel, out of band."""
    session = _session(request, session_id)
    text = request.POST.get("text", "")
    try:
        turn = services.turn_create(session=session, text=text)
    except (SpecValidationError, services.SessionStateError) as exc:
        message = (
            _errors(exc).get("text", "could not take the turn") if isinstance(exc, SpecValidationError) else str(exc)
        )
        context = _session_context(session, error=message, text=text)
        if request.htmx:
            return render(request, "console/_say_error.html", context, status=400)
        return render(request, "console/session.html", context, status=400)
    if not request.htmx:
        return redirect("console:session", session.pk)
    turns = selectors.session_turns(session=session)
    return render(
        request,
        "console/_turn_added.html",
        _turn_context(session, turn) | {"entities": selectors.context_entities(turns=turns)},
    )


@login_required
@require_POST
def reset_view(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    """A new conversation with the same build."""
    session = _session(request, session_id)
    try:
        fresh = services.session_create(skill=session.skill, user=request.user, build=session.build)
    except (SpecValidationError, services.SessionStateError) as exc:
        message = _errors(exc).get("build", str(exc)) if isinstance(exc, SpecValidationError) else str(exc)
        messages.error(request, message)
        url = reverse("console:start", args=[session.skill_id])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    url = reverse("console:session", args=[fresh.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- corrections and saving ------------------------------------------------------------------------------


MAX_ROWS = 100  # spans or actions in one correction form


def _correction_context(
    session: ConversationSession, turn: ConversationTurn, annotation: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    spec = skillspec.Skill.model_validate(session.build.spec)
    annotation = annotation or services.turn_annotation(turn=turn)
    signatures = {a.name: {g.name: g.slot_type for g in a.arguments} for a in spec.apis}
    signatures |= {t.name: {g.name: g.slot_type for g in t.arguments} for t in skillspec.response_templates(spec)}
    entities = services.entities_before(session=session, number=turn.number)
    entities |= {s["id"]: s["slot_type"] for s in annotation["spans"] if s.get("id")}
    return {
        "session": session,
        "turn": turn,
        "annotation": annotation,
        "slot_types": [s.name for s in spec.slot_types],
        "action_names": [a.name for a in spec.apis] + [t.name for t in skillspec.response_templates(spec)],
        "rows": [
            _action_row(i, a["name"], a.get("arguments", {}), signatures, entities)
            for i, a in enumerate(annotation["actions"])
        ],
        **extra,
    }


def _action_row(
    i: int, name: str, bound: dict[str, str], signatures: dict[str, dict[str, str]], entities: dict[str, str]
) -> dict[str, Any]:
    args = []
    for arg, st in signatures.get(name, {}).items():
        options = [key for key, t in entities.items() if t == st]
        args.append({"name": arg, "slot_type": st, "options": options, "chosen": bound.get(arg, "")})
    return {"index": i, "name": name, "arguments": args}


def _posted_correction(request: HtmxHttpRequest, turn: ConversationTurn) -> tuple[list[Any], list[Any]]:
    post = request.POST
    spans: list[Any] = []
    for i in range(min(_int(post.get("span_count")) or 0, MAX_ROWS)):
        if post.get(f"span-{i}-remove"):
            continue
        spans.append(
            {
                "id": post.get(f"span-{i}-id", ""),
                "start": _int(post.get(f"span-{i}-start")),
                "end": _int(post.get(f"span-{i}-end")),
                "slot_type": post.get(f"span-{i}-slot_type", ""),
            }
        )
    if post.get("new_span_slot_type") and post.get("new_span_text"):
        # The words to tag, as typed or selected: their first occurrence not already in a span.
        words = post["new_span_text"].strip()
        at = _free_occurrence(turn.text, words, spans)
        if at is None:
            raise SpecValidationError([Issue("new span", f"“{words}” is not in the utterance, or is tagged already")])
        spans.append({"start": at, "end": at + len(words), "slot_type": post["new_span_slot_type"]})
    actions: list[Any] = []
    for i in range(min(_int(post.get("action_count")) or 0, MAX_ROWS)):
        if post.get(f"action-{i}-remove"):
            continue
        name = post.get(f"action-{i}-name", "")
        prefix = f"action-{i}-arg-"
        arguments = {k[len(prefix) :]: v for k, v in post.items() if k.startswith(prefix) and v}
        actions.append({"name": name, "arguments": arguments})
    if post.get("new_action"):
        actions.append({"name": post["new_action"], "arguments": {}})
    return spans, actions


def _shown(turn: ConversationTurn, spans: list[Any]) -> list[dict[str, Any]]:
    """Posted spans that pick characters of the text, with their text, to show in the form again."""
    return [
        s | {"text": turn.text[s["start"] : s["end"]]}
        for s in spans
        if isinstance(s.get("start"), int) and isinstance(s.get("end"), int)
    ]


def _free_occurrence(text: str, words: str, spans: list[Any]) -> int | None:
    at = text.find(words)
    while at >= 0:
        end = at + len(words)
        if all(not isinstance(s.get("start"), int) or end <= s["start"] or at >= (s.get("end") or 0) for s in spans):
            return at
        at = text.find(words, at + 1)
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def correct_view(request: HtmxHttpRequest, session_id: str, number: int) -> HttpResponse:
    """GET: the correction form of a turn. POST: store it; the turn comes back corrected (or the form, with errors)."""
    session = _session(request, session_id)
    turn = session.turns.filter(number=number).first()
    if turn is None:
        return HttpResponse("No such turn", status=404)
    if request.method == "POST":
        if request.POST.get("cancel"):
            return render(request, "console/_turn.html", _turn_context(session, turn))
        spans: list[Any] = []
        actions: list[Any] = []
        try:
            spans, actions = _posted_correction(request, turn)
            if request.POST.get("apply") == "refresh":
                # An action added or renamed takes other arguments: redraw the form with them, unsaved.
                draft = {"spans": _shown(turn, spans), "actions": actions}
                return render(request, "console/_correct.html", _correction_context(session, turn, draft))
            turn = services.turn_correct(turn=turn, spans=spans, actions=actions)
        except SpecValidationError as exc:
            errors = [f"{i.path}: {i.message}" for i in exc.issues]
            shown = {"spans": _shown(turn, spans), "actions": actions} if spans or actions else None
            context = _correction_context(session, turn, shown, errors=errors)
            return render(request, "console/_correct.html", context, status=400)
        return render(request, "console/_turn.html", _turn_context(session, turn))
    return render(request, "console/_correct.html", _correction_context(session, turn))


@login_required
@require_POST
def save_view(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    """Save the conversation, as corrected, as a sample dialogue or test conversation of the skill."""
    session = _session(request, session_id)
    name = request.POST.get("name", "")
    test = request.POST.get("test") == "on"
    try:
        dialogue = services.dialogue_create_from_session(session=session, name=name, test=test)
    except SpecValidationError as exc:
        context = _session_context(
            session, save_errors=[f"{i.path}: {i.message}" if i.path else i.message for i in exc.issues], save_name=name
        )
        if request.htmx:
            return render(request, "console/_save.html", context, status=400)
        return render(request, "console/session.html", context, status=400)
    kind = "test conversation" if test else "sample dialogue"
    messages.success(request, f"Saved the conversation as the {kind} “{dialogue.name}”.")
    url = reverse("skills:dialogue", args=[session.skill_id, dialogue.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
