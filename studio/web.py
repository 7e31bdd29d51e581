"""What every page view shares: the request type they see and the sign-in check htmx understands."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as these views see it: django-htmx's details, and a signed-in user (see login_required)."""

    htmx: HtmxDetails
    user: User


def login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like Django's, but an expired session in an htmx request reloads the whole page to the login form."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.htmx:
                path = request.htmx.current_url_abs_path or "/"
                return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?next={quote(path)}")
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper
