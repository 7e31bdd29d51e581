"""Failed htmx requests in real Chromium: the message appears where the user acted, what they typed stays,
and Retry sends the same request again (static/js/request-errors.js)."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Page, Route, expect, sync_playwright

from studio.skills import models

from .conftest import PASSWORD
from .test_browser import CHROMIUM_ARGS, settled

SERVER_ERROR_PAGE = "<h1>Server Error (500)</h1>"


@contextlib.contextmanager
def signed_in(live_server, user) -> Iterator[tuple[Page, list[str]]]:
    """A Chromium page signed in as ``user``, and the script errors it raised."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(10_000)
            script_errors: list[str] = []
            page.on("pageerror", lambda exc: script_errors.append(str(exc)))
            page.goto(live_server.url + reverse("login"))
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(r"/$"))
            yield page, script_errors
        finally:
            browser.close()


def wait_until(page: Page, condition: Callable[[], bool], seconds: float = 10) -> None:
    """Wait for a condition on the Python side; route handlers run only while Playwright is called."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def only_posts(handle):
    """A route handler that applies ``handle`` to POST requests and lets the others through."""

    def handler(route: Route) -> None:
        if route.request.method == "POST":
            handle(route)
        else:
            route.continue_()

    return handler


def fail_with_500(route: Route) -> None:
    route.fulfill(status=500, content_type="text/html", body=SERVER_ERROR_PAGE)


@pytest.mark.browser
def test_a_failed_component_save_says_so_keeps_the_text_and_retries(live_server, transactional_db, user, skill):
    city = models.SlotType.objects.get(skill=skill, name="city")
    typed = "Cities <b>we</b> fly to"
    with signed_in(live_server, user) as (page, script_errors):
        page.goto(f"{live_server.url}/skills/{skill.pk}/slot-types/")
        page.locator(f"#row-{city.pk}").get_by_role("link", name="Edit").click()
        description = page.locator(f"#row-{city.pk}-description")
        expect(description).to_be_visible()
        settled(page)
        form = page.locator(f"#row-{city.pk} form")
        message = form.locator(".request-error")
        save_url = re.compile(rf"/slot-types/{city.pk}/edit/$")

        # The connection is lost: htmx:sendError.
        page.route(save_url, only_posts(lambda route: route.abort("connectionreset")))
        description.fill(typed)
        form.get_by_role("button", name="Save").click()
        expect(message).to_contain_text("Could not reach the server")
        expect(message).to_contain_text("What you typed is still here.")
        expect(message).to_have_attribute("role", "alert")
        expect(description).to_have_value(typed)  # the form was not swapped away
        # The message is at the top of the form the user pressed Save in.
        assert form.evaluate("f => f.firstElementChild.classList.contains('request-error')")
        page.unroute(save_url)

        # The server fails: htmx:responseError. Retry sends the same form again; one message, replaced.
        page.route(save_url, only_posts(fail_with_500))
        message.get_by_role("button", name="Retry").click()
        expect(message).to_contain_text("error 500")
        expect(message).to_have_count(1)
        expect(description).to_have_value(typed)
        page.unroute(save_url)

        # The server is back: Retry saves, and the message goes with the form.
        message.get_by_role("button", name="Retry").click()
        expect(page.locator(f"#row-{city.pk} .badge.ok")).to_have_text("saved")
        expect(page.locator(f"#row-{city.pk}")).to_contain_text(typed)
        expect(page.locator(".request-error")).to_have_count(0)

        # No answer in time: htmx:timeout (a short timeout here; the studio's is 30 s).
        page.locator(f"#row-{city.pk}").get_by_role("link", name="Edit").click()
        expect(description).to_be_visible()
        settled(page)
        page.evaluate("htmx.config.timeout = 1500")
        pending: list[Route] = []
        page.route(save_url, only_posts(pending.append))
        description.fill("Where we fly")
        form.get_by_role("button", name="Save").click()
        expect(form).to_have_class(re.compile(r"\bhtmx-request\b"))  # busy while it waits
        expect(message).to_contain_text("did not answer within 2 s")
        expect(form).not_to_have_class(re.compile(r"\bhtmx-request\b"))
        expect(description).to_have_value("Where we fly")
        page.unroute(save_url)
        for route in pending:
            with contextlib.suppress(Exception):  # the browser gave up on it already
                route.abort()
        message.get_by_role("button", name="Retry").click()
        expect(page.locator(f"#row-{city.pk}")).to_contain_text("Where we fly")
        expect(page.locator(".request-error")).to_have_count(0)
        assert script_errors == []
    assert models.SlotType.objects.get(pk=city.pk).data["description"] == "Where we fly"


@pytest.mark.browser
def test_a_failed_console_turn_says_so_keeps_the_text_and_retries(
    live_server, transactional_db, user, flights_deployed
):
    skill, _ = flights_deployed
    text = "Find me a flight from Boston to Chicago tomorrow"
    with signed_in(live_server, user) as (page, script_errors):
        page.goto(f"{live_server.url}/skills/{skill.pk}/console/")
        page.locator("#start-button").click()
        expect(page).to_have_url(re.compile(r"/console/[0-9a-f-]+/$"))
        # The URL changes before the page's scripts run: an Enter pressed earlier posts the form
        # without htmx (a whole page comes back, with the text as the input's default value).
        page.wait_for_load_state("load")
        say, send, form = page.locator("#say-input"), page.locator("#say-button"), page.locator("#say-form")
        message = form.locator(".request-error")
        turn_url = re.compile(r"/console/[0-9a-f-]+/turns/$")

        # The server's own 400 fragment (an empty turn) is shown as it is: no second message.
        say.fill("   ")
        say.press("Enter")
        expect(page.locator("#say-error .error")).to_be_visible()
        expect(page.locator(".request-error")).to_have_count(0)

        # While the turn is in flight, Send is busy; then the connection is lost: htmx:sendError.
        pending: list[Route] = []
        page.route(turn_url, lambda route: pending.append(route))
        say.fill(text)
        say.press("Enter")
        expect(form).to_have_class(re.compile(r"\bhtmx-request\b"))
        expect(send).to_be_disabled()
        expect(form.locator(".htmx-indicator")).to_have_css("opacity", "1")
        wait_until(page, lambda: len(pending) == 1)
        pending[0].abort("connectionreset")
        expect(message).to_contain_text("Could not reach the server")
        expect(say).to_have_value(text)
        expect(send).to_be_enabled()
        page.unroute(turn_url)

        # The server fails: htmx:responseError.
        page.route(turn_url, fail_with_500)
        message.get_by_role("button", name="Retry").click()
        expect(message).to_contain_text("error 500")
        expect(message).to_have_count(1)
        expect(say).to_have_value(text)
        expect(page.locator("#turn-0")).to_have_count(0)
        page.unroute(turn_url)

        # Back: Retry takes the turn, the message goes, the input is cleared for the next one.
        message.get_by_role("button", name="Retry").click()
        expect(page.locator("#turn-0")).to_be_visible()
        expect(page.locator("#turn-0 .utterance.system")).to_be_visible()
        expect(page.locator(".request-error")).to_have_count(0)
        expect(say).to_have_value("")
        expect(page.locator("#say-error .error")).to_have_count(0)
        assert script_errors == []
