"""Every error under /api/ is JSON in the documented shape; pages elsewhere keep HTML error pages."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from studio.skills import selectors

SECRET = "password=hunter2 at db.internal"


def assert_shape(response, status: int) -> list[dict[str, str]]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"path", "message"} and isinstance(error["message"], str) and error["message"]
    return body["errors"]


@pytest.fixture
def broken_skill_list(monkeypatch):
    """The skill list's selector fails as a bug or a lost database would: with a message that must not leak."""

    def fail(**kwargs):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(selectors, "skill_list", fail)


def test_an_unexpected_exception_is_a_json_500_logged_with_its_traceback(api, broken_skill_list, caplog):
    api.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="studio.api_errors"):
        response = api.get("/api/skills/")
    assert assert_shape(response, 500) == [{"path": "", "message": "internal server error"}]
    assert SECRET not in response.content.decode()
    logged = [r for r in caplog.records if r.name == "studio.api_errors"]
    assert len(logged) == 1 and "/api/skills/" in logged[0].getMessage()
    assert logged[0].exc_info is not None and SECRET in str(logged[0].exc_info[1])
    assert "Traceback" in caplog.text and "RuntimeError" in caplog.text


def test_an_unexpected_exception_is_json_with_debug_on_too(api, broken_skill_list, settings):
    settings.DEBUG = True  # Django would answer its HTML debug page
    api.raise_request_exception = False
    response = api.get("/api/skills/")
    assert assert_shape(response, 500) == [{"path": "", "message": "internal server error"}]
    assert SECRET not in response.content.decode()


def test_an_unknown_api_url_is_a_json_404(api):
    response = api.get("/api/no-such-thing/")
    assert assert_shape(response, 404) == [{"path": "", "message": "not found: no API endpoint at /api/no-such-thing/"}]
    assert assert_shape(APIClient().post("/api/skills/1/nope/", {}, format="json"), 404)


def test_a_missing_object_is_a_json_404(api, other_user):
    from studio.skills import services

    theirs = services.skill_create(owner=other_user, name="Theirs", description="")
    assert assert_shape(api.get(f"/api/skills/{theirs.pk}/"), 404) == [{"path": "", "message": "No such skill"}]


def test_a_wrong_method_is_a_json_405_with_allow(api):
    response = api.delete("/api/skills/")
    assert assert_shape(response, 405) == [{"path": "", "message": 'Method "DELETE" not allowed.'}]
    assert "GET" in response["Allow"] and "POST" in response["Allow"]


def test_refusals_keep_their_status_and_headers_with_the_shape(user, skill):
    anonymous = APIClient().get("/api/skills/")
    assert assert_shape(anonymous, 401)[0]["message"] == "Authentication credentials were not provided."
    assert anonymous["WWW-Authenticate"] == "Token"

    session = APIClient(enforce_csrf_checks=True)
    session.force_login(user)
    forged = session.patch(f"/api/skills/{skill.pk}/", {"name": "Hijacked"}, format="json")
    assert assert_shape(forged, 403)[0]["message"].startswith("CSRF Failed")

    wrong_type = session.generic("GET", "/api/skills/", HTTP_ACCEPT="application/xml")
    assert assert_shape(wrong_type, 406)


def test_bad_input_is_still_a_400_naming_each_field(api):
    response = api.post("/api/skills/", {"name": 3, "description": []}, format="json")
    paths = {e["path"] for e in assert_shape(response, 400)}
    assert paths == {"description"}


def test_pages_outside_the_api_keep_html_error_pages(web, monkeypatch):
    page = web.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")

    def fail(**kwargs):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(selectors, "skill_list", fail)
    web.raise_request_exception = False
    page = web.get("/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
    assert SECRET not in page.content.decode()


def test_the_api_docs_page_is_still_html(web):
    page = web.get("/api/docs/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
