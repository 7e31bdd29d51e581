"""Sample dialogue pages: the list of a skill's dialogues and the turn-by-turn editor.

Every editing view applies one service call and answers an htmx request with
the re-rendered editor fragment (errors in place, the user's input kept); a
plain form post is redirected back to the editor, or gets the full page with
the errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

import skillspec
from skillspec import Issue, SpecValidationError

# Like Django's, but an htmx request with an expired session reloads the page to the sign-in form.
from studio.web import login_required

from . import dialogue_services as ds
from . import models, selectors
from .components import SAMPLE_DIALOGUES

SECTION = "sample-dialogues"


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails  # set by django_htmx's middleware


def _get(request: HtmxRequest, skill_id: int, dialogue_id: int) -> tuple[models.Skill, models.SampleDialogue]:
    """The user's skill and its dialogue; 404 for anyone else's."""
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    row = selectors.component_get(skill=skill, kind=SAMPLE_DIALOGUES, pk=dialogue_id)
    assert isinstance(row, models.SampleDialogue)
    return skill, row


# --- List -------------------------------------------------------------------


def _list_context(skill: models.Skill, **extra: Any) -> dict[str, Any]:
    rows = selectors.component_list(skill=skill, kind=SAMPLE_DIALOGUES)
    dialogues = [{"row": r, "turns": len(r.data.get("turns", [])), "test": bool(r.data.get("test"))} for r in rows]
    return {"skill": skill, "section": SECTION, "dialogues": dialogues, "new": {"name": "", "test": False}, **extra}


def _render_list(request: HtmxRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    if request.htmx:
        return render(request, "dialogues/_dialogue_list.html", context)
    return render(request, "dialogues/list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def dialogue_list_view(request: HtmxRequest, skill_id: int) -> HttpResponse:
    """GET: the skill's sample dialogues. POST: create one and open it in the editor."""
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    if request.method == "GET":
        return _render_list(request, _list_context(skill))
    name, test = request.POST.get("name", ""), bool(request.POST.get("test"))
    new = {"name": name, "test": test}
    try:
        row = ds.dialogue_create(skill=skill, name=name, test=test)
    except SpecValidationError as exc:
        return _render_list(request, _list_context(skill, new=new, issues=exc.issues), status=422)
    url = reverse("skills:dialogue", args=[skill.pk, row.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_POST
def dialogue_delete_view(request: HtmxRequest, skill_id: int, dialogue_id: int) -> HttpResponse:
    skill, row = _get(request, skill_id, dialogue_id)
    name = row.name
    ds.dialogue_delete(dialogue=row)
    if request.htmx:
        return _render_list(request, _list_context(skill))
    messages.success(request, f"Deleted sample dialogue {name!r}.")
    return redirect("skills:dialogues", skill.pk)


# --- Editor -----------------------------------------------------------------


def _parse_action(value: str) -> tuple[str, str]:
    """``"api:SearchFlights"`` -> ``("api", "SearchFlights")``; anything else -> ``("", "")``."""
    kind, _, name = value.partition(":")
    return (kind, name) if kind in tuple(skillspec.ActionKind) and name else ("", "")


def _composer(
    spec: skillspec.Skill, dialogue: skillspec.SampleDialogue, value: str, chosen: dict[str, str] | None = None
) -> dict[str, Any]:
    """The system-action composer: the chosen action and, per argument, its options and current choice."""
    kind, name = _parse_action(value)
    turn, action = ds.next_action_point(dialogue)
    arguments: list[dict[str, Any]] = []
    error = None
    if kind:
        try:
            options = ds.dialogue_argument_options(
                skill=spec, dialogue=dialogue, turn=turn, action=action, kind=kind, name=name
            )
        except SpecValidationError as exc:
            error = exc.issues
        else:
            chosen = chosen or {}
            arguments = [{"arg": a, "selected": chosen.get(a.name, "")} for a in options]
    return {
        "value": f"{kind}:{name}" if kind else "",
        "kind": kind,
        "name": name,
        "arguments": arguments,
        "issues": error,
        "turn": turn,
        "number": turn + 1,
        "new_turn": turn == len(dialogue.turns),
    }


def _editor_context(
    request: HtmxRequest,
    skill: models.Skill,
    row: models.SampleDialogue,
    *,
    error: dict[str, Any] | None = None,
    typed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the editor shows. ``error`` = {"op", "turn", "issues"} of a failed edit; ``typed`` what was sent."""
    spec = selectors.skill_to_spec(skill=skill)
    dialogue = skillspec.SampleDialogue.model_validate(row.data)
    typed = typed or {}
    if error and error["turn"] is not None and not 0 <= error["turn"] < len(dialogue.turns):
        error = {**error, "op": "general"}  # no such turn to show it at: show it on top
    failed = error["op"] if error else None
    colours = ds.slot_type_colours(spec)
    composer_value = typed.get("action", request.GET.get("action", ""))
    composer = _composer(spec, dialogue, composer_value, typed.get("arguments"))
    return {
        "skill": skill,
        "section": SECTION,
        "row": row,
        "dialogue": dialogue,
        "transcript": ds.dialogue_transcript(skill=spec, dialogue=dialogue),
        "slot_types": [{"name": st.name, "colour": colours[st.name]} for st in spec.slot_types],
        "apis": spec.apis,
        "templates": spec.response_templates,
        "next_is_user": not dialogue.turns or dialogue.turns[-1].speaker == "system",
        "composer": composer,
        "error": error,
        "settings": {
            "name": typed.get("name", row.name) if failed == "settings" else dialogue.name,
            "test": typed.get("test", False) if failed == "settings" else dialogue.test,
        },
        "utterance": typed.get("text", "") if failed == "utterance" else "",
        "typed": typed,
    }


def _editor(
    request: HtmxRequest,
    skill: models.Skill,
    row: models.SampleDialogue,
    *,
    error: dict[str, Any] | None = None,
    typed: dict[str, Any] | None = None,
) -> HttpResponse:
    context = _editor_context(request, skill, row, error=error, typed=typed)
    if request.htmx:
        return render(request, "dialogues/_editor.html", context)
    return render(request, "dialogues/editor.html", context, status=422 if error else 200)


def _apply(
    request: HtmxRequest,
    skill_id: int,
    dialogue_id: int,
    op: str,
    edit: Callable[[models.SampleDialogue], object],
    *,
    turn: int | None = None,
    typed: dict[str, Any] | None = None,
) -> HttpResponse:
    """Run one edit; answer with the fresh editor, or the editor with the edit's errors next to its form."""
    skill, row = _get(request, skill_id, dialogue_id)
    try:
        edit(row)
    except SpecValidationError as exc:
        row.refresh_from_db()
        error = {"op": op, "turn": turn, "issues": exc.issues}
        return _editor(request, skill, row, error=error, typed=typed)
    if not request.htmx:
        return redirect("skills:dialogue", skill.pk, row.pk)
    return _editor(request, skill, row)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@login_required
@require_GET
def dialogue_editor_view(request: HtmxRequest, skill_id: int, dialogue_id: int) -> HttpResponse:
    skill, row = _get(request, skill_id, dialogue_id)
    return _editor(request, skill, row)


@login_required
@require_POST
def dialogue_settings_view(request: HtmxRequest, skill_id: int, dialogue_id: int) -> HttpResponse:
    name, test = request.POST.get("name", ""), bool(request.POST.get("test"))
    return _apply(
        request,
        skill_id,
        dialogue_id,
        "settings",
        lambda row: ds.dialogue_update(dialogue=row, name=name, test=test),
        typed={"name": name, "test": test},
    )


@login_required
@require_POST
def user_turn_add_view(request: HtmxRequest, skill_id: int, dialogue_id: int) -> HttpResponse:
    text = request.POST.get("text", "")
    return _apply(
        request,
        skill_id,
        dialogue_id,
        "utterance",
        lambda row: ds.dialogue_add_user_turn(dialogue=row, text=text),
        typed={"text": text},
    )


@login_required
@require_POST
def user_turn_edit_view(request: HtmxRequest, skill_id: int, dialogue_id: int, turn: int) -> HttpResponse:
    text = request.POST.get("text", "")
    return _apply(
        request,
        skill_id,
        dialogue_id,
        "text",
        lambda row: ds.dialogue_edit_user_turn(dialogue=row, turn=turn, text=text),
        turn=turn,
        typed={"text": text},
    )


@login_required
@require_POST
def span_add_view(request: HtmxRequest, skill_id: int, dialogue_id: int, turn: int) -> HttpResponse:
    start, end = _int(request.POST.get("start")), _int(request.POST.get("end"))
    slot_type = request.POST.get("slot_type", "")
    typed = {"start": request.POST.get("start", ""), "end": request.POST.get("end", ""), "slot_type": slot_type}

    def edit(row: models.SampleDialogue) -> object:
        if start is None or end is None:
            raise SpecValidationError(
                [Issue(skillspec.join_path("turns", turn, "spans"), "select the words to tag with the mouse first")]
            )
        return ds.dialogue_add_span(dialogue=row, turn=turn, start=start, end=end, slot_type=slot_type)

    return _apply(request, skill_id, dialogue_id, "span", edit, turn=turn, typed=typed)


@login_required
@require_POST
def span_remove_view(request: HtmxRequest, skill_id: int, dialogue_id: int, turn: int, span_id: str) -> HttpResponse:
    return _apply(
        request,
        skill_id,
        dialogue_id,
        "span",
        lambda row: ds.dialogue_remove_span(dialogue=row, turn=turn, span_id=span_id),
        turn=turn,
    )


@login_required
@require_GET
def action_arguments_view(request: HtmxRequest, skill_id: int, dialogue_id: int) -> HttpResponse:
    """The argument dropdowns for the action chosen in the composer (an htmx fragment)."""
    skill, row = _get(request, skill_id, dialogue_id)
    if not request.htmx:
        url = reverse("skills:dialogue", args=[skill.pk, row.pk])
        return redirect(f"{url}?{request.GET.urlencode()}")
    spec = selectors.skill_to_spec(skill=skill)
    dialogue = skillspec.SampleDialogue.model_validate(row.data)
    composer = _composer(spec, dialogue, request.GET.get("action", ""))
    return render(request, "dialogues/_action_arguments.html", {"composer": composer})


@login_required
@require_POST
def action_add_view(request: HtmxRequest, skill_id: int, dialogue_id: int) -> HttpResponse:
    value = request.POST.get("action", "")
    kind, name = _parse_action(value)
    arguments = {k.removeprefix("arg_"): request.POST.get(k, "") for k in request.POST if k.startswith("arg_")}
    return _apply(
        request,
        skill_id,
        dialogue_id,
        "action",
        lambda row: ds.dialogue_add_action(dialogue=row, kind=kind, name=name, arguments=arguments),
        typed={"action": value, "arguments": arguments},
    )


@login_required
@require_POST
def action_remove_view(request: HtmxRequest, skill_id: int, dialogue_id: int, turn: int, action: int) -> HttpResponse:
    return _apply(
        request,
        skill_id,
        dialogue_id,
        "turn",
        lambda row: ds.dialogue_remove_action(dialogue=row, turn=turn, action=action),
        turn=turn,
    )


@login_required
@require_POST
def turn_remove_view(request: HtmxRequest, skill_id: int, dialogue_id: int, turn: int) -> HttpResponse:
    return _apply(
        request,
        skill_id,
        dialogue_id,
        "turn",
        lambda row: ds.dialogue_remove_turn(dialogue=row, turn=turn),
        turn=turn,
    )
