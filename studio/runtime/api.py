"""The runtime API: converse with a skill's deployed dialogue manager."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from skillspec.annotated import AnnotatedActionKind
from studio.api import ERRORS, AuthenticatedRequest, BaseApi, ErrorsSerializer
from studio.builds import selectors as build_selectors
from studio.skills import selectors as skill_selectors

from . import selectors, services
from .models import ConversationSession

TAG = ["runtime"]


class TokenRateThrottle(SimpleRateThrottle):
    """``COLLOQUY_RUNTIME_RATE`` requests per API token (per user for the signed-in pages)."""

    scope = "runtime"

    def get_rate(self) -> str:
        return str(settings.COLLOQUY_RUNTIME_RATE)

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        token = getattr(request, "auth", None)
        ident = f"token:{getattr(token, 'key', token)}" if token is not None else f"user:{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SessionCreateSerializer(serializers.Serializer[Any]):
    build = serializers.IntegerField(required=False, help_text="A ready build of the skill; default: the live one.")


class TurnCreateSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(help_text="What the user says (at most COLLOQUY_MAX_UTTERANCE_CHARS characters).")


class TurnAttentionSerializer(serializers.Serializer[Any]):
    entity = serializers.CharField(allow_null=True, help_text="A candidate entity's key; null: leave it unbound.")
    value = serializers.CharField(allow_null=True)
    weight = serializers.FloatField()


class TurnArgumentSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    value = serializers.CharField(allow_null=True)
    entity = serializers.CharField(
        allow_null=True, help_text="The entity the pointer chose (e1: a span, c1.x: a result)."
    )
    turn = serializers.IntegerField(allow_null=True, help_text="The turn the entity came from.")
    attention = TurnAttentionSerializer(
        many=True, help_text="The pointer's weights over the type-compatible candidates."
    )
    overridden = serializers.CharField(allow_null=True, help_text="Why the consistency check changed the choice.")


class TurnAlternativeSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    probability = serializers.FloatField()


class TurnConsistencySerializer(serializers.Serializer[Any]):
    proposed = serializers.CharField(help_text="The action the model proposed.")
    accepted = serializers.BooleanField()
    reason = serializers.CharField()
    alternative = serializers.CharField(allow_null=True)


class TurnActionSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=[k.value for k in AnnotatedActionKind])
    name = serializers.CharField()
    probability = serializers.FloatField()
    alternatives = TurnAlternativeSerializer(many=True)
    arguments = TurnArgumentSerializer(many=True)
    id = serializers.CharField(allow_null=True, help_text="API calls: the call's id (its results are id.field).")
    request = serializers.DictField(allow_null=True, help_text="API calls: the values sent, defaults included.")
    results = serializers.DictField(allow_null=True, help_text="API calls: what came back (null: the call failed).")
    error = serializers.CharField(allow_null=True)
    text = serializers.CharField(allow_null=True, help_text="Responses: the rendered text.")
    consistency = TurnConsistencySerializer(many=True, help_text="What the consistency check decided, in order.")


class TurnSpanSerializer(serializers.Serializer[Any]):
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    text = serializers.CharField()
    slot_type = serializers.CharField()
    value = serializers.CharField()
    entity = serializers.CharField()
    confidence = serializers.FloatField()


class TurnApiCallSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    id = serializers.CharField(allow_null=True)
    request = serializers.DictField()
    result = serializers.DictField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class TurnSerializer(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    text = serializers.CharField()
    spans = TurnSpanSerializer(many=True)
    actions = TurnActionSerializer(many=True, help_text="In order, ending with wait_for_user.")
    api_calls = TurnApiCallSerializer(many=True)
    response = serializers.CharField(help_text="The rendered system response.")
    correction = serializers.DictField(allow_null=True)
    milliseconds = serializers.FloatField(help_text="The manager's time for the turn.")


class SessionSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    skill = serializers.IntegerField()
    build = serializers.IntegerField()
    build_number = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    turns = TurnSerializer(many=True)


def session_json(session: ConversationSession, *, new: bool = False) -> dict[str, Any]:
    turns = [] if new else selectors.session_turns(session=session)  # a session just created has none
    return {
        "id": session.pk,
        "skill": session.skill_id,
        "build": session.build_id,
        "build_number": session.build.number,
        "created_at": session.created_at,
        "turns": [selectors.turn_json(t) for t in turns],
    }


def _conflict(exc: Exception) -> Response:
    return Response({"errors": [{"path": "build", "message": str(exc)}]}, status=status.HTTP_409_CONFLICT)


class SkillSessionsApi(BaseApi):
    parser_classes = [parsers.JSONParser]
    throttle_classes = [TokenRateThrottle]

    @extend_schema(
        operation_id="sessions_create",
        tags=TAG,
        request=SessionCreateSerializer,
        responses={201: SessionSerializer, **ERRORS, 409: ErrorsSerializer},
    )
    def post(self, request: AuthenticatedRequest, skill_id: int) -> Response:
        """Start a conversation with the skill's live build, or with the ready build the body names."""
        skill = skill_selectors.skill_get(user=request.user, skill_id=skill_id)
        body = SessionCreateSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        build = None
        if "build" in body.validated_data:
            build = build_selectors.build_get(user=request.user, build_id=body.validated_data["build"])
        try:
            session = services.session_create(skill=skill, user=request.user, build=build)
        except services.SessionStateError as exc:
            return _conflict(exc)
        return Response(session_json(session, new=True), status=status.HTTP_201_CREATED)


class SessionDetailApi(BaseApi):
    throttle_classes = [TokenRateThrottle]

    @extend_schema(operation_id="sessions_retrieve", tags=TAG, responses=SessionSerializer)
    def get(self, request: AuthenticatedRequest, session_id: str) -> Response:
        """A conversation and every turn of it."""
        session = selectors.session_get(user=request.user, session_id=session_id)
        return Response(session_json(session))


class SessionTurnsApi(BaseApi):
    parser_classes = [parsers.JSONParser]
    throttle_classes = [TokenRateThrottle]

    @extend_schema(
        operation_id="turns_create",
        tags=TAG,
        request=TurnCreateSerializer,
        responses={201: TurnSerializer, **ERRORS, 409: ErrorsSerializer},
    )
    def post(self, request: AuthenticatedRequest, session_id: str) -> Response:
        """Say `text` to the manager: returns the spans it recognised, the actions it took (with
        probabilities, alternatives, argument pointers and consistency decisions), the API calls
        with their requests and results, and the rendered response."""
        session = selectors.session_get(user=request.user, session_id=session_id)
        text = request.data.get("text") if isinstance(request.data, dict) else None
        try:
            turn = services.turn_create(session=session, text=text)
        except services.SessionStateError as exc:
            return _conflict(exc)
        return Response(selectors.turn_json(turn), status=status.HTTP_201_CREATED)
