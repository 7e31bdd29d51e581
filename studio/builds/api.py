"""REST API of builds: thin views over ``selectors`` (reads) and ``services`` (writes)."""

from __future__ import annotations

import dataclasses
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.response import Response

from modeling.metrics import CONTRACT_KEYS
from studio.api import ERRORS, AuthenticatedRequest, BaseApi, ErrorsSerializer, paginate
from studio.skills import selectors as skill_selectors

from . import selectors, services
from .models import Build

TAG = ["builds"]
METRIC_KEYS = (*CONTRACT_KEYS, "dialogues", "turns")


class BuildSettingsSerializer(serializers.Serializer[Any]):
    preset = serializers.ChoiceField(choices=list(services.PRESETS), required=False, help_text="default or draft")
    dialogues = serializers.IntegerField(required=False, help_text="simulated training dialogues")
    heldout = serializers.IntegerField(required=False, help_text="held-out simulated dialogues to evaluate on")
    epochs = serializers.IntegerField(required=False)
    seed = serializers.IntegerField(required=False)
    shards = serializers.IntegerField(required=False, help_text="simulation tasks run in parallel")
    warm_start = serializers.IntegerField(
        required=False,
        help_text="1 (default): start from the skill's latest ready build's models when they fit; 0: from scratch",
    )


class BuildSerializer(serializers.Serializer[Build]):
    id = serializers.IntegerField()
    skill = serializers.IntegerField(source="skill_id")
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Build.Status.choices)
    stage = serializers.ChoiceField(choices=Build.Stage.choices)
    progress = serializers.FloatField(help_text="Fraction of the whole build done, 0 to 1.")
    stages = serializers.DictField(help_text="Per stage: state, done, total, unit, fraction, detail, eta_seconds.")
    metrics = serializers.DictField(
        help_text="`heldout` and `test` (null when there is nothing to evaluate on): the evaluation contract's keys."
    )
    settings = serializers.DictField()
    spec_hash = serializers.CharField()
    error = serializers.CharField()
    live = serializers.BooleanField()
    started_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    artifact_checksum = serializers.CharField()


class BuildEstimateSerializer(serializers.Serializer[Any]):
    preset = serializers.ChoiceField(choices=list(services.PRESETS))
    settings = serializers.DictField(help_text="The preset's settings.")
    seconds = serializers.FloatField(
        help_text="Expected time from a worker starting the build to ready (waiting for a free worker not counted)."
    )
    basis = serializers.CharField(
        help_text="What the figure comes from: `from 3 earlier builds` (same settings), `scaled from 1 earlier "
        "build` (other settings), `... builds of your other skills`, or `estimated` (no build to go by)."
    )
    builds = serializers.IntegerField(help_text="How many earlier builds it comes from.")
    suggested = serializers.BooleanField(help_text="The preset the studio's build form offers first.")


def build_json(build: Build, live: Build | None | bool = False) -> dict[str, Any]:
    """The API's view of a build; ``live``: the skill's live build if the caller has it (False: look it up)."""
    progress = selectors.build_progress(build=build)
    if live is False:
        live = selectors.live_build(skill=build.skill)
    metrics = {
        name: ({k: m[k] for k in (*METRIC_KEYS, "per_action", "confusion") if k in m} if m else None)
        for name, m in (build.metrics or {}).items()
    }
    return {
        "id": build.pk,
        "skill": build.skill_id,
        "number": build.number,
        "status": build.status,
        "stage": build.stage,
        "progress": progress["fraction"],
        "stages": progress["stages"],
        "metrics": metrics,
        "settings": build.settings,
        "spec_hash": build.spec_hash,
        "error": build.error,
        "live": isinstance(live, Build) and live.pk == build.pk,
        "started_by": build.started_by.get_username() if build.started_by else None,
        "created_at": build.created_at,
        "started_at": build.started_at,
        "finished_at": build.finished_at,
        "duration_seconds": selectors.build_duration(build=build),
        "artifact_checksum": build.artifact_checksum,
    }


def _conflict(exc: Exception) -> Response:
    return Response({"errors": [{"path": "", "message": str(exc)}]}, status=status.HTTP_409_CONFLICT)


CONFLICT = {409: ErrorsSerializer}


class SkillBuildsApi(BaseApi):
    parser_classes = [parsers.JSONParser]

    @extend_schema(operation_id="builds_list", tags=TAG, responses=BuildSerializer(many=True))
    def get(self, request: AuthenticatedRequest, skill_id: int) -> Response:
        """The skill's builds, newest first."""
        skill = skill_selectors.skill_get(user=request.user, skill_id=skill_id)
        services.build_fail_stale()
        live = selectors.live_build(skill=skill)  # once for the page, not once per build
        return paginate(request, self, selectors.build_list(skill=skill), lambda b: build_json(b, live))

    @extend_schema(
        operation_id="builds_create",
        tags=TAG,
        request=BuildSettingsSerializer,
        responses={201: BuildSerializer, **ERRORS},
    )
    def post(self, request: AuthenticatedRequest, skill_id: int) -> Response:
        """Build the skill as it is now: its spec is frozen, then simulated, trained, evaluated and packaged
        on the workers. The body is optional settings, e.g. `{"preset": "draft"}` or `{"dialogues": 2000}`."""
        skill = skill_selectors.skill_get(user=request.user, skill_id=skill_id)
        build = services.build_create(skill=skill, user=request.user, settings=request.data or None)
        return Response(build_json(build), status=status.HTTP_201_CREATED)


class SkillBuildEstimatesApi(BaseApi):
    @extend_schema(operation_id="builds_estimates", tags=TAG, responses=BuildEstimateSerializer(many=True))
    def get(self, request: AuthenticatedRequest, skill_id: int) -> Response:
        """How long a build of the skill with each preset should take on this installation, from the skill's
        earlier builds (or your other skills') when there are some."""
        skill = skill_selectors.skill_get(user=request.user, skill_id=skill_id)
        suggested = selectors.build_form_preset(skill=skill)
        out = []
        for name, preset in services.PRESETS.items():
            estimate = selectors.build_estimate_seconds(skill=skill, settings=preset)
            out.append(
                {
                    "preset": name,
                    "settings": dataclasses.asdict(preset),
                    "seconds": round(estimate.seconds, 1),
                    "basis": estimate.basis,
                    "builds": estimate.builds,
                    "suggested": name == suggested,
                }
            )
        return Response(out)


class BuildDetailApi(BaseApi):
    @extend_schema(operation_id="builds_retrieve", tags=TAG, responses=BuildSerializer)
    def get(self, request: AuthenticatedRequest, build_id: int) -> Response:
        """One build: status, stage, progress and metrics."""
        build = selectors.build_get(user=request.user, build_id=build_id)
        if services.build_fail_stale(build_id=build.pk):
            build.refresh_from_db()
        return Response(build_json(build))


class _BuildActionApi(BaseApi):
    def act(self, build: Build, request: AuthenticatedRequest) -> Build:
        raise NotImplementedError

    def post(self, request: AuthenticatedRequest, build_id: int) -> Response:
        build = selectors.build_get(user=request.user, build_id=build_id)
        try:
            result = self.act(build, request)
        except services.BuildStateError as exc:
            return _conflict(exc)
        code = status.HTTP_201_CREATED if result.pk != build.pk else status.HTTP_200_OK
        return Response(build_json(result), status=code)


class BuildCancelApi(_BuildActionApi):
    @extend_schema(operation_id="builds_cancel", tags=TAG, request=None, responses={200: BuildSerializer, **CONFLICT})
    def post(self, request: AuthenticatedRequest, build_id: int) -> Response:
        """Cancel a queued or running build (409 if it has finished)."""
        return super().post(request, build_id)

    def act(self, build: Build, request: AuthenticatedRequest) -> Build:
        return services.build_cancel(build=build)


class BuildDeployApi(_BuildActionApi):
    @extend_schema(operation_id="builds_deploy", tags=TAG, request=None, responses={200: BuildSerializer, **CONFLICT})
    def post(self, request: AuthenticatedRequest, build_id: int) -> Response:
        """Make a ready build the skill's live manager (409 if it is not ready or its artifact is damaged)."""
        return super().post(request, build_id)

    def act(self, build: Build, request: AuthenticatedRequest) -> Build:
        return services.build_deploy(build=build, user=request.user).build


class BuildRetryApi(_BuildActionApi):
    @extend_schema(operation_id="builds_retry", tags=TAG, request=None, responses={201: BuildSerializer, **CONFLICT})
    def post(self, request: AuthenticatedRequest, build_id: int) -> Response:
        """Build the same frozen spec with the same settings again, as a new build (failed or cancelled only)."""
        return super().post(request, build_id)

    def act(self, build: Build, request: AuthenticatedRequest) -> Build:
        return services.build_retry(build=build, user=request.user)


class SkillRollbackApi(BaseApi):
    @extend_schema(operation_id="skills_rollback", tags=TAG, request=None, responses={200: BuildSerializer, **CONFLICT})
    def post(self, request: AuthenticatedRequest, skill_id: int) -> Response:
        """Deploy again the build that was live before the current one."""
        skill = skill_selectors.skill_get(user=request.user, skill_id=skill_id)
        try:
            deployment = services.build_rollback(skill=skill, user=request.user)
        except services.BuildStateError as exc:
            return _conflict(exc)
        return Response(build_json(deployment.build))
