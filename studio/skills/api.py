"""REST API: thin views over ``selectors`` (reads) and ``services`` (writes).

The services validate every write against the skill spec and raise
:class:`skillspec.SpecValidationError`; ``studio.api_errors.api_exception_handler`` turns
that (and DRF's own validation and parse errors) into one 400 body,
``{"errors": [{"path": ..., "message": ...}, ...]}``.

The component endpoints are built once per kind from ``components.KINDS``; a
component is represented as its spec item plus ``id`` and ``position``, and the
OpenAPI schema documents the real spec fields of each kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, cast

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from pydantic import BaseModel, ConfigDict, Field, create_model
from rest_framework import parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

import skillspec
from studio.api import (
    ERRORS,
    AuthenticatedRequest,
    BaseApi,
    CSVParser,
    IssueSerializer,
    PlainTextParser,
    RawJSONParser,
    paginate,
)

from . import models, selectors, services
from .components import KINDS, SLOT_TYPES, ComponentKind

# --- serializers (skills) ---------------------------------------------------------------------


SkillCountsSerializer = type(
    "SkillCountsSerializer",
    (serializers.Serializer,),
    {k.field: serializers.IntegerField(help_text=f"Number of {k.label_plural}.") for k in KINDS},
)


class SkillOutputSerializer(serializers.Serializer[models.Skill]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    counts = serializers.SerializerMethodField()

    @extend_schema_field(SkillCountsSerializer)
    def get_counts(self, skill: models.Skill) -> dict[str, int]:
        if all(hasattr(skill, f"{k.field}_count") for k in KINDS):  # annotated by selectors.skill_list
            return {k.field: getattr(skill, f"{k.field}_count") for k in KINDS}
        return selectors.skill_counts(skill=skill)


class SkillInputSerializer(serializers.Serializer[Any]):
    # The service checks the content (blank, length) and names the field; here only the types.
    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    description = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False, default="")


SKILL_TAG = ["skills"]


def _skill_json(skill: Any) -> Any:
    return SkillOutputSerializer(skill).data


# --- skills -------------------------------------------------------------------------------------


class SkillListApi(BaseApi):
    parser_classes = [parsers.JSONParser]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(operation_id="skills_list", tags=SKILL_TAG, responses=SkillOutputSerializer(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        """Your skills, most recently changed first, with the number of components of each kind."""
        return paginate(request, self, selectors.skill_list(user=request.user), _skill_json)

    @extend_schema(
        operation_id="skills_create",
        tags=SKILL_TAG,
        request=SkillInputSerializer,
        responses={201: SkillOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        """Create an empty skill."""
        body = SkillInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        skill = services.skill_create(owner=request.user, **body.validated_data)
        return Response(_skill_json(skill), status=status.HTTP_201_CREATED)


class SkillDetailApi(BaseApi):
    parser_classes = [parsers.JSONParser]

    @extend_schema(operation_id="skills_retrieve", tags=SKILL_TAG, responses=SkillOutputSerializer)
    def get(self, request: AuthenticatedRequest, skill_id: int) -> Response:
        """One of your skills."""
        return Response(_skill_json(selectors.skill_get(user=request.user, skill_id=skill_id)))

    @extend_schema(
        operation_id="skills_update",
        tags=SKILL_TAG,
        request=SkillInputSerializer,
        responses={200: SkillOutputSerializer, **ERRORS},
    )
    def put(self, request: AuthenticatedRequest, skill_id: int) -> Response:
        """Set the name and description (an absent description becomes empty)."""
        return self._update(request, skill_id, partial=False)

    @extend_schema(
        operation_id="skills_partial_update",
        tags=SKILL_TAG,
        request=SkillInputSerializer,
        responses={200: SkillOutputSerializer, **ERRORS},
    )
    def patch(self, request: AuthenticatedRequest, skill_id: int) -> Response:
        """Change the name and/or description."""
        return self._update(request, skill_id, partial=True)

    @extend_schema(operation_id="skills_destroy", tags=SKILL_TAG, responses={204: None})
    def delete(self, request: AuthenticatedRequest, skill_id: int) -> Response:
        """Delete the skill and all its components."""
        services.skill_delete(skill=selectors.skill_get(user=request.user, skill_id=skill_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request: AuthenticatedRequest, skill_id: int, *, partial: bool) -> Response:
        skill = selectors.skill_get(user=request.user, skill_id=skill_id)
        body = SkillInputSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        fields = {"name": skill.name, "description": skill.description} if partial else {}
        fields.update(body.validated_data)
        return Response(_skill_json(services.skill_update(skill=skill, **fields)))


class SkillValidationApi(BaseApi):
    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        valid = serializers.BooleanField(help_text="No errors: the skill can be built.")
        errors = IssueSerializer(many=True)  # type: ignore[assignment]  # a field, as in ErrorsSerializer
        warnings = IssueSerializer(many=True, help_text="Likely mistakes that do not stop a build.")

        class Meta:
            ref_name = "SkillValidation"

    @extend_schema(operation_id="skills_validation", tags=SKILL_TAG, responses=OutputSerializer)
    def get(self, request: AuthenticatedRequest, skill_id: int) -> Response:
        """Check the whole skill: errors (paths are absolute, e.g. `apis[1].name`) and warnings."""
        skill = selectors.skill_get(user=request.user, skill_id=skill_id)
        errors, warnings = selectors.skill_validation(skill=skill)
        return Response(self.OutputSerializer({"valid": not errors, "errors": errors, "warnings": warnings}).data)


class SkillExportApi(BaseApi):
    @extend_schema(operation_id="skills_export", tags=SKILL_TAG, responses={(200, "application/json"): skillspec.Skill})
    def get(self, request: AuthenticatedRequest, skill_id: int) -> HttpResponse:
        """The skill as a skill-spec JSON file, as read back by the import."""
        skill = selectors.skill_get(user=request.user, skill_id=skill_id)
        response = HttpResponse(selectors.skill_export(skill=skill), content_type="application/json")
        filename = f"{slugify(skill.name) or 'skill'}.skill.json"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response


class SkillImportApi(BaseApi):
    parser_classes = [RawJSONParser, parsers.MultiPartParser]

    class FileSerializer(serializers.Serializer[Any]):
        file = serializers.FileField(help_text="A skill-spec JSON file.")

        class Meta:
            ref_name = "SkillFile"

    @extend_schema(
        operation_id="skills_import",
        tags=SKILL_TAG,
        request={"application/json": skillspec.Skill, "multipart/form-data": FileSerializer},
        responses={201: SkillOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        """Create a skill from a skill-spec JSON body or uploaded file; nothing is created if it is invalid."""
        # RawJSONParser hands the JSON body over as bytes, which the stubs' type of request.data leaves out.
        body = cast(bytes | dict[str, Any], request.data)
        data: bytes | dict[str, Any]
        if isinstance(body, bytes):
            data = body
        elif request.content_type.startswith("multipart/"):
            upload = self.FileSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            data = upload.validated_data["file"].read()
        else:  # an empty JSON body
            data = body
        skill = services.skill_import(owner=request.user, data=data)
        return Response(_skill_json(skill), status=status.HTTP_201_CREATED)


# --- components ---------------------------------------------------------------------------------

# The API's own keys in a component's representation; dropped from bodies, as the spec forbids unknown keys.
OWN_KEYS = ("id", "position")


def _component_json(row: Any) -> dict[str, Any]:
    return {"id": row.pk, "position": row.position, **row.data}


def _spec_body(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if k not in OWN_KEYS}
    return data


def _component(request: Request, skill_id: int, kind: ComponentKind, pk: int) -> models.Component:
    # The skill first: another user's skill is a 404 before its components are looked at.
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    return selectors.component_get(skill=skill, kind=kind, pk=pk)


@dataclass(frozen=True)
class KindSchemas:
    """Pydantic models documenting one kind's bodies in the OpenAPI schema (never used to validate)."""

    item: type[BaseModel]  # POST/PUT body: the spec item itself
    patch: type[BaseModel]
    output: type[BaseModel]
    page: type[BaseModel]


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


@cache
def _schemas(kind: ComponentKind) -> KindSchemas:
    name = kind.spec.__name__
    # type() rather than create_model: the config must change too (every field is present in a response).
    output = type(
        f"{name}Component",
        (kind.spec,),
        {
            "__module__": __name__,
            "__doc__": kind.spec.__doc__,
            "__annotations__": {"id": int, "position": int},
            "model_config": ConfigDict(json_schema_serialization_defaults_required=True),
            "id": Field(description=f"The {kind.label}'s id in the studio."),
            "position": Field(description=f"Its place in the skill's list of {kind.label_plural}."),
        },
    )
    optional: dict[str, Any] = {}
    for field, info in kind.spec.model_fields.items():
        annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        # Absent means "keep", not "reset to the default": the schema shows no default.
        optional[field] = (
            annotation,
            Field(default=None, description=info.description, json_schema_extra=_without_default),
        )
    # drf-spectacular names a PATCH body "Patched<name>Request"; the same name keeps the two side by side.
    patch = create_model(
        name, __config__=ConfigDict(extra="forbid"), __doc__=f"Fields of the {kind.label} to change.", **optional
    )
    page = create_model(
        f"Paginated{name}ComponentList",
        count=(int, ...),
        next=(str | None, Field(default=None, json_schema_extra={"format": "uri"})),
        previous=(str | None, Field(default=None, json_schema_extra={"format": "uri"})),
        results=(list[output], ...),  # type: ignore[valid-type]
    )
    return KindSchemas(item=kind.spec, patch=patch, output=output, page=page)


def _a(noun: str) -> str:
    return f"{'an' if noun[0].lower() in 'aeiou' else 'a'} {noun}"


PAGE_PARAMETER = OpenApiParameter(
    "page", OpenApiTypes.INT, OpenApiParameter.QUERY, description="A page number within the paginated result set."
)


def component_views(kind: ComponentKind) -> tuple[type[APIView], type[APIView]]:
    """The list and detail views of one kind of component."""
    schemas = _schemas(kind)
    tags = [kind.label_plural]
    op = kind.field

    class ListApi(BaseApi):
        parser_classes = [parsers.JSONParser]

        @extend_schema(
            operation_id=f"{op}_list",
            tags=tags,
            parameters=[PAGE_PARAMETER],
            responses=schemas.page,
            description=f"The skill's {kind.label_plural}, in order.",
        )
        def get(self, request: AuthenticatedRequest, skill_id: int) -> Response:
            skill = selectors.skill_get(user=request.user, skill_id=skill_id)
            return paginate(request, self, selectors.component_list(skill=skill, kind=kind), _component_json)

        @extend_schema(
            operation_id=f"{op}_create",
            tags=tags,
            request=schemas.item,
            responses={201: schemas.output, **ERRORS},
            description=f"Add {_a(kind.label)} at the end of the list. Errors name fields relative to it "
            "(e.g. `arguments[0].slot_type`), or absolute paths for problems elsewhere in the skill.",
        )
        def post(self, request: AuthenticatedRequest, skill_id: int) -> Response:
            skill = selectors.skill_get(user=request.user, skill_id=skill_id)
            row = services.component_create(skill=skill, kind=kind, data=_spec_body(request.data))
            return Response(_component_json(row), status=status.HTTP_201_CREATED)

    class DetailApi(BaseApi):
        parser_classes = [parsers.JSONParser]

        @extend_schema(
            operation_id=f"{op}_retrieve", tags=tags, responses=schemas.output, description=f"One {kind.label}."
        )
        def get(self, request: AuthenticatedRequest, skill_id: int, pk: int) -> Response:
            return Response(_component_json(_component(request, skill_id, kind, pk)))

        @extend_schema(
            operation_id=f"{op}_update",
            tags=tags,
            request=schemas.item,
            responses={200: schemas.output, **ERRORS},
            description=f"Replace the {kind.label}. A new name is also changed wherever the skill refers to it.",
        )
        def put(self, request: AuthenticatedRequest, skill_id: int, pk: int) -> Response:
            row = _component(request, skill_id, kind, pk)
            row = services.component_update(component=row, data=_spec_body(request.data))
            return Response(_component_json(row))

        @extend_schema(
            operation_id=f"{op}_partial_update",
            tags=tags,
            request=schemas.patch,
            responses={200: schemas.output, **ERRORS},
            description="Replace the given top-level fields; the others keep their values.",
        )
        def patch(self, request: AuthenticatedRequest, skill_id: int, pk: int) -> Response:
            row = _component(request, skill_id, kind, pk)
            if not isinstance(request.data, dict):
                raise skillspec.SpecValidationError([skillspec.Issue("", "expected a JSON object")])
            row = services.component_update(component=row, data={**row.data, **_spec_body(request.data)})
            return Response(_component_json(row))

        @extend_schema(
            operation_id=f"{op}_destroy",
            tags=tags,
            responses={204: None, **ERRORS},
            description=f"Delete the {kind.label}; refused (400, with the references) while the skill uses it.",
        )
        def delete(self, request: AuthenticatedRequest, skill_id: int, pk: int) -> Response:
            services.component_delete(component=_component(request, skill_id, kind, pk))
            return Response(status=status.HTTP_204_NO_CONTENT)

    prefix = kind.spec.__name__
    for view, suffix in ((ListApi, "ListApi"), (DetailApi, "DetailApi")):
        view.__name__ = view.__qualname__ = prefix + suffix
    return ListApi, DetailApi


class SlotTypeValuesApi(BaseApi):
    parser_classes = [parsers.JSONParser, CSVParser, PlainTextParser, parsers.MultiPartParser]

    class TextSerializer(serializers.Serializer[Any]):
        text = serializers.CharField(
            allow_blank=True, trim_whitespace=False, help_text="One value per line, then its synonyms, comma-separated."
        )
        replace = serializers.BooleanField(default=False, help_text="Replace the catalogue instead of adding to it.")

        class Meta:
            ref_name = "CatalogueText"

    class FileSerializer(serializers.Serializer[Any]):
        file = serializers.FileField(help_text="A UTF-8 CSV file: value, then its synonyms.")
        replace = serializers.BooleanField(default=False)

        class Meta:
            ref_name = "CatalogueFile"

    class QuerySerializer(serializers.Serializer[Any]):
        replace = serializers.BooleanField(default=False)

    @extend_schema(
        operation_id="slot_types_values_import",
        tags=[SLOT_TYPES.label_plural],
        parameters=[
            OpenApiParameter(
                "replace",
                OpenApiTypes.BOOL,
                OpenApiParameter.QUERY,
                description="For text bodies: replace the catalogue instead of adding to it.",
            )
        ],
        request={
            "text/csv": OpenApiTypes.STR,
            "text/plain": OpenApiTypes.STR,
            "application/json": TextSerializer,
            "multipart/form-data": FileSerializer,
        },
        responses={200: _schemas(SLOT_TYPES).output, **ERRORS},
    )
    def post(self, request: AuthenticatedRequest, skill_id: int, pk: int) -> Response:
        """Add catalogue values (and synonyms) to a slot type in bulk; known values gain the new synonyms."""
        slot_type = _component(request, skill_id, SLOT_TYPES, pk)
        text, replace = self._catalogue(request)
        row = services.slot_type_values_import(slot_type=slot_type, text=text, replace=replace)
        return Response(_component_json(row))

    def _catalogue(self, request: AuthenticatedRequest) -> tuple[str, bool]:
        media_type = request.content_type.split(";")[0].strip().lower()
        if media_type.startswith("text/"):
            query = self.QuerySerializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            # DRF hands an empty body over as {}.
            return (request.data if isinstance(request.data, str) else ""), query.validated_data["replace"]
        if media_type.startswith("multipart/"):
            upload = self.FileSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            try:
                text = upload.validated_data["file"].read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise serializers.ValidationError({"file": ["not a UTF-8 text file"]}) from None
            return text, upload.validated_data["replace"]
        body = self.TextSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data["text"], body.validated_data["replace"]


COMPONENT_VIEWS = {kind.slug: component_views(kind) for kind in KINDS}
