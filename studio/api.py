"""The REST API's shared infrastructure: the base view, body parsers, pagination and the error shape.

Every app's ``api.py`` builds on this: :class:`BaseApi` (size limit on raw bodies), the
parsers for bodies DRF does not read itself, :func:`paginate` (the settings' paginator over
a queryset) and :data:`ERRORS`, the documented 400 body that
``studio.api_errors.api_exception_handler`` produces.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

import skillspec

# --- errors -------------------------------------------------------------------------------------


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


# --- parsers and base view ----------------------------------------------------------------------


class RawJSONParser(parsers.BaseParser):
    """Hands a JSON body over unparsed, so the skill-spec reader reports bad JSON itself."""

    media_type = "application/json"

    # DRF takes whatever parse() returns as request.data; the stubs allow only mappings (parsed JSON or forms).
    def parse(  # type: ignore[override]
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> bytes:
        body: bytes = stream.read()
        return body


class CSVParser(parsers.BaseParser):
    """A ``text/csv`` body as text."""

    media_type = "text/csv"

    def parse(  # type: ignore[override]  # any return is fine by DRF, as above
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> str:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw: bytes = stream.read()
        try:
            # Spreadsheets save UTF-8 CSV with a byte-order mark; it must not end up in the first value.
            return raw.decode("utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding)
        except (UnicodeDecodeError, LookupError):
            raise exceptions.ParseError(f"the body is not {encoding} text") from None


class PlainTextParser(CSVParser):
    """A ``text/plain`` body as text."""

    media_type = "text/plain"


class AuthenticatedRequest(Request):
    """A request as the API views see it: IsAuthenticated (the default permission) lets in only signed-in users."""

    user: User


class BaseApi(APIView):
    # No docstring: drf-spectacular would show it as the description of every operation.

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # DRF reads JSON and text bodies from the raw stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None and length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise PayloadTooLarge()


def paginate(request: Request, view: APIView, queryset: QuerySet[Any], represent: Callable[[Any], Any]) -> Response:
    """One page of ``queryset``, each item through ``represent``, as the settings' paginator answers it."""
    # api_settings imports the class the setting names; the stubs type it as the setting's dotted path.
    paginator = cast(type[BasePagination], api_settings.DEFAULT_PAGINATION_CLASS)()
    page = paginator.paginate_queryset(queryset, request, view=view)
    if page is None:  # pagination switched off in settings
        return Response([represent(x) for x in queryset])
    return paginator.get_paginated_response([represent(x) for x in page])


# --- the error shape ---------------------------------------------------------------


class IssueSerializer(serializers.Serializer[skillspec.Issue]):
    path = serializers.CharField(help_text="Where the problem is, e.g. `arguments[0].slot_type`; empty for the whole.")
    message = serializers.CharField()


class ErrorsSerializer(serializers.Serializer[Any]):
    # A field named like the Serializer.errors property: DRF's metaclass takes declared fields off the class, so
    # the property still works, but the stubs see the field replacing it.
    errors = IssueSerializer(many=True)  # type: ignore[assignment]


ERRORS = {400: ErrorsSerializer}
"""The ``responses`` entry every writing endpoint documents: the 400 body listing each problem."""
