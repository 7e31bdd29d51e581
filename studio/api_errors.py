"""Every error under ``/api/`` is JSON of one shape: ``{"errors": [{"path": ..., "message": ...}, ...]}``.

Two pieces, one per layer that can fail:

* :func:`api_exception_handler`, DRF's exception handler: bad input (the spec services'
  :class:`skillspec.SpecValidationError`, DRF's validation and parse errors) becomes a 400
  listing each problem with its field path; DRF's other refusals (401, 403, 404, 405,
  415, 429, ...) keep their status and headers and get the same body (in the format
  the client negotiated: JSON, or the browsable API's page for a browser).
* :class:`ApiErrorsMiddleware`, for what DRF does not see: an exception escaping a view
  is logged with its traceback and answered ``500 internal server error`` (nothing of
  the exception goes to the client), and any other error response under ``/api/`` that
  is not JSON (Django's 404 for an unknown URL, a CSRF refusal, a 500 page from another
  middleware) is replaced by the shape, keeping its status and headers.

Pages outside ``/api/`` keep Django's HTML error pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

import skillspec

API_PREFIX = "/api/"
# Headers of an error response that still mean something once its body is JSON.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")

logger = logging.getLogger(__name__)


def error_body(message: str, path: str = "") -> dict[str, list[dict[str, str]]]:
    """The body of an error response with one problem."""
    return {"errors": [{"path": path, "message": message}]}


def _detail_issues(detail: Any, path: str = "") -> Iterator[skillspec.Issue]:
    """Flatten DRF's nested error detail into path-named issues (``values[2].value``)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = path if key in (api_settings.NON_FIELD_ERRORS_KEY, "detail") else skillspec.join_path(path, key)
            yield from _detail_issues(value, sub)
    elif isinstance(detail, list):
        for i, item in enumerate(detail):
            if isinstance(item, dict | list):
                yield from _detail_issues(item, skillspec.join_path(path, i))
            else:
                yield skillspec.Issue(path, str(item))
    else:
        yield skillspec.Issue(path, str(detail))


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: bad input is a 400 listing each problem with its field path; every other
    refusal DRF knows keeps its status and headers, with the same body. Anything else is left to
    :class:`ApiErrorsMiddleware` (``None``: DRF re-raises it)."""
    if isinstance(exc, skillspec.SpecValidationError):
        issues = exc.issues
    elif isinstance(exc, exceptions.ValidationError | exceptions.ParseError):
        issues = list(_detail_issues(exc.detail))
    else:
        response = drf_exception_handler(exc, context)  # Http404, PermissionDenied, any APIException
        if response is not None:  # its data is the exception's detail, {"detail": ...} for most
            response.data = {"errors": [{"path": i.path, "message": i.message} for i in _detail_issues(response.data)]}
        return response
    set_rollback()
    return Response({"errors": [{"path": i.path, "message": i.message} for i in issues]}, status=HTTPStatus.BAD_REQUEST)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _is_json(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() in ("application/json", "application/problem+json")


class ApiErrorsMiddleware:
    """JSON errors under ``/api/``, whatever raised or answered them (see the module's docstring).

    It goes first in ``MIDDLEWARE``, so it also sees the answers of the middleware after it
    (CSRF, common)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # A DRF response already has the shape (api_exception_handler), in the format the client asked for.
        if not _is_api(request) or response.status_code < 400 or _is_json(response) or isinstance(response, Response):
            return response
        if response.status_code == HTTPStatus.NOT_FOUND and request.resolver_match is None:
            message = f"not found: no API endpoint at {request.path}"
        else:
            try:
                message = HTTPStatus(response.status_code).phrase.lower()
            except ValueError:
                message = f"error {response.status_code}"
        json_response = JsonResponse(error_body(message), status=response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                json_response[header] = response[header]
        return json_response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """An exception escaping a view under ``/api/``: logged with its traceback, answered without it."""
        if not _is_api(request):
            return None  # Django's own handling: the debug page or handler500
        logger.error("Internal Server Error: %s", request.path, exc_info=exception)
        return JsonResponse(error_body("internal server error"), status=HTTPStatus.INTERNAL_SERVER_ERROR)
