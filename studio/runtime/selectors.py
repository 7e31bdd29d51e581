"""Reads of conversations. Every read goes through the session's owner."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404

from modeling.runtime import TurnResult
from skillspec import result_id
from skillspec.annotated import AnnotatedActionKind
from studio.builds import selectors as build_selectors
from studio.builds.models import Build

from .models import ApiBinding, ConversationSession, ConversationTurn


def sessions_with_build() -> QuerySet[ConversationSession]:
    """Sessions with their skill and build joined, the build's heavy JSON fields deferred."""
    heavy = (f"build__{f}" for f in build_selectors.BUILD_HEAVY_FIELDS)
    return ConversationSession.objects.select_related("skill", "build").defer(*heavy)


def session_get(*, user: User | AnonymousUser, session_id: uuid.UUID | str) -> ConversationSession:
    """The user's session; 404 when it does not exist or is someone else's."""
    if not user.is_authenticated:
        raise Http404("No such session")
    try:
        return sessions_with_build().get(pk=session_id, owner=user)
    except (ConversationSession.DoesNotExist, ValueError):
        raise Http404("No such session") from None


def session_turns(*, session: ConversationSession) -> list[ConversationTurn]:
    return list(session.turns.order_by("number"))


def binding_list(*, skill_id: int, apis: list[str]) -> list[ApiBinding]:
    """One binding per API of the skill (unsaved mock bindings for the APIs without a row)."""
    rows = {b.api: b for b in ApiBinding.objects.filter(skill_id=skill_id)}
    return [rows.get(api) or ApiBinding(skill_id=skill_id, api=api) for api in apis]


def api_calls(result: TurnResult) -> list[dict[str, Any]]:
    """A turn's API calls: the request sent (defaults included) and the result (null: the call failed)."""
    return [
        {"name": a.name, "id": a.call_id, "request": a.request or {}, "result": a.results, "error": a.error}
        for a in result.actions
        if a.kind is AnnotatedActionKind.API
    ]


def turn_json(turn: ConversationTurn) -> dict[str, Any]:
    """A turn as the runtime API and the console give it."""
    result = TurnResult.from_dict(turn.result)
    stored = result.to_dict()
    return {
        "number": turn.number,
        "text": turn.text,
        "spans": stored["spans"],
        "actions": stored["actions"],
        "api_calls": api_calls(result),
        "response": result.response,
        "correction": turn.correction,
        "milliseconds": round(turn.seconds * 1000, 1),
    }


def context_entities(*, turns: list[ConversationTurn]) -> list[dict[str, Any]]:
    """Every entity of the conversation so far, by turn: what the user said and what APIs returned."""
    out: list[dict[str, Any]] = []
    for turn in turns:
        result = TurnResult.from_dict(turn.result)
        for s in result.spans:
            out.append(
                {
                    "turn": turn.number,
                    "entity": s.entity,
                    "slot_type": s.slot_type,
                    "value": s.value,
                    "source": "user",
                    "text": s.text,
                }
            )
        for a in result.actions:
            if a.kind is AnnotatedActionKind.API and a.call_id and a.results:
                for field, value in a.results.items():
                    out.append(
                        {
                            "turn": turn.number,
                            "entity": result_id(a.call_id, field),
                            "slot_type": field,
                            "value": value,
                            "source": a.name,
                            "text": value,
                        }
                    )
    return out


def servable_builds(*, skill_id: int) -> list[Build]:
    return list(Build.objects.filter(skill_id=skill_id, status=Build.Status.READY).order_by("-number"))
