"""End to end in real Chromium: from signing in to a sample dialogue tagged with the mouse."""

import os
import re
import sys

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect, sync_playwright

from studio.skills import models

from .conftest import PASSWORD

# A loaded CI machine can be slow to answer; waiting longer costs nothing when it is not.
expect.set_options(timeout=15_000)

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls there unless told.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

# Where characters [start, end) of a user turn are on screen, whatever highlighting markup surrounds them.
TEXT_BOX_JS = """([turn, start, end]) => {
  const p = document.querySelector(`[data-utterance][data-turn="${turn}"]`);
  const runs = [...p.querySelectorAll("[data-seg]")];
  const rect = (offset) => {
    // Offsets count code points, as the server does; DOM ranges count UTF-16 units.
    const run = runs.find((r) => offset >= +r.dataset.start && offset < +r.dataset.start + [...r.textContent].length);
    const units = (n) => [...run.textContent].slice(0, n).join("").length;
    const k = offset - +run.dataset.start;
    const range = document.createRange();
    range.setStart(run.firstChild, units(k));
    range.setEnd(run.firstChild, units(k + 1));
    return range.getBoundingClientRect();
  };
  const a = rect(start), b = rect(end - 1);
  return {x1: a.left + 1, y1: a.top + a.height / 2, x2: b.right - 1, y2: b.top + b.height / 2};
}"""


def settled(page: Page) -> None:
    """Wait until htmx has settled: it binds hx-* attributes of swapped-in content only then (20 ms later)."""
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    page.wait_for_function(f"() => !document.querySelector('{busy}')")


def drag_select(page: Page, turn: int, start: int, end: int) -> None:
    """Select characters [start, end) of a user turn by dragging the mouse over them."""
    settled(page)
    box = page.evaluate(TEXT_BOX_JS, [turn, start, end])
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=8)
    page.mouse.up()


@pytest.mark.browser
def test_author_a_sample_dialogue_with_the_mouse(live_server, transactional_db, user):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(10_000)
            script_errors: list[str] = []

            def note(problem: str) -> None:
                # Printed as it happens, so a failing expectation's report shows it too.
                script_errors.append(problem)
                print(problem, file=sys.stderr)

            page.on("pageerror", lambda exc: note(str(exc)))
            # A failed request matters: an htmx fragment that errored swaps nothing.
            page.on("response", lambda r: note(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None)

            page.goto(live_server.url + reverse("login"))
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()

            page.locator("#new-skill-name").fill("Flights")
            page.get_by_role("button", name="Create skill").click()
            page.wait_for_url(re.compile(r"/skills/\d+/$"))

            page.locator("nav.sidenav").get_by_role("link", name="Slot types").click()
            page.locator("#new-form-name").fill("city")
            page.locator("#new-form-values").fill("Boston, BOS\nDenver")
            page.get_by_role("button", name="Create slot type").click()
            expect(page.locator("#items")).to_contain_text("city")
            page.reload()
            page.locator("#new-form summary").click()
            page.locator("#new-form-name").fill("date")
            page.get_by_label("Built-in DATE").check()
            page.get_by_role("button", name="Create slot type").click()
            expect(page.locator("#items")).to_contain_text("date")

            page.locator("nav.sidenav").get_by_role("link", name="APIs").click()
            page.locator("#new-form-name").fill("SearchFlights")
            page.locator("[name=arguments-0-name]").fill("origin")
            settled(page)
            page.locator("[name=arguments-0-slot_type]").select_option("city")
            page.locator("[name=arguments-0-required]").check()
            page.get_by_role("button", name="+ Add argument").click()
            page.locator("[name=arguments-1-name]").fill("date")
            settled(page)
            page.locator("[name=arguments-1-slot_type]").select_option("date")
            page.locator("[name=arguments-1-required]").uncheck()
            page.get_by_role("button", name="Create API").click()
            expect(page.locator("#items")).to_contain_text("SearchFlights")

            page.locator("nav.sidenav").get_by_role("link", name="Sample dialogues").click()
            page.get_by_label("Name").fill("booking")
            page.get_by_role("button", name="Create and edit").click()
            page.wait_for_url(re.compile(r"/dialogues/\d+/$"))

            utterance_box = page.get_by_label("User says")
            # The plane is one code point but two UTF-16 units: offsets must not shift because of it.
            utterance_box.fill("\U0001f6eb I want to fly from BOS tomorrow")
            utterance_box.press("Enter")  # Enter submits the utterance
            utterance = page.locator('[data-utterance][data-turn="0"]')
            expect(utterance).to_have_text("\U0001f6eb I want to fly from BOS tomorrow")

            drag_select(page, 0, 21, 24)
            expect(page.locator("[data-selection-preview]")).to_have_text("Selected “BOS” (21–24)")
            settled(page)
            page.locator("#slot-type-0").select_option("city")
            page.get_by_role("button", name="Tag span").click()
            expect(page.locator('mark[data-span-id="e1"]')).to_have_text("BOS")

            # The second selection comes after the first span's markup; offsets stay those of the text.
            drag_select(page, 0, 25, 33)
            expect(page.locator("[data-selection-preview]")).to_have_text("Selected “tomorrow” (25–33)")
            settled(page)
            page.locator("#slot-type-0").select_option("date")
            page.get_by_role("button", name="Tag span").click()
            expect(page.locator('mark[data-span-id="e2"]')).to_have_text("tomorrow")

            settled(page)
            page.get_by_label("Action").select_option("api:SearchFlights")
            origin = page.locator("select[name=arg_origin]")
            expect(origin.locator("option")).to_have_text(["— choose an entity —", 'e1 "BOS" (city, turn 1)'])
            date = page.locator("select[name=arg_date]")
            expect(date.locator("option")).to_have_text(["— leave unbound —", 'e2 "tomorrow" (date, turn 1)'])
            settled(page)
            origin.select_option("e1")
            page.get_by_role("button", name="Add action").click()
            expect(page.locator(".action")).to_contain_text("SearchFlights")
            expect(page.locator(".bindings")).to_contain_text('e1 "BOS" (city, turn 1)')
            expect(page.locator(".wait")).to_have_text("wait for user")
            assert script_errors == []
        finally:
            browser.close()

    # Queried only now: inside the Playwright block, the ORM would open a connection that is never closed.
    dialogue = models.SampleDialogue.objects.get(skill__owner=user, skill__name="Flights", name="booking")
    assert dialogue.data["turns"] == [
        {
            "speaker": "user",
            "text": "\U0001f6eb I want to fly from BOS tomorrow",
            "spans": [
                {"id": "e1", "start": 21, "end": 24, "slot_type": "city", "text": "BOS", "value": "Boston"},
                {"id": "e2", "start": 25, "end": 33, "slot_type": "date", "text": "tomorrow", "value": None},
            ],
        },
        {
            "speaker": "system",
            "actions": [{"kind": "api", "name": "SearchFlights", "id": "c1", "arguments": {"origin": "e1"}}],
        },
    ]


@pytest.mark.browser
def test_build_watch_it_live_browse_and_deploy(live_server, transactional_db, worker, user):
    from studio.skills import services as skill_services

    from .conftest import ROOT

    skill = skill_services.skill_import(owner=user, data=(ROOT / "examples" / "flights.json").read_bytes())
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(live_server.url + reverse("login"))
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{live_server.url}/skills/{skill.pk}/builds/")
            page.get_by_text("Settings (leave empty").click()
            for field, value in {"dialogues": "40", "heldout": "10", "epochs": "1", "shards": "2"}.items():
                page.locator(f"#id_{field}").fill(value)
            page.locator("#build-button").click()
            expect(page).to_have_url(re.compile(r"/builds/\d+/$"))
            # The page updates itself (htmx polling) until the build is ready: no reload here.
            expect(page.locator("#build-status")).to_have_text("ready", timeout=180_000)
            expect(page.locator(".charts svg")).to_have_count(2)
            expect(page.locator("#metrics-heldout")).to_contain_text("action_signature_accuracy")
            expect(page.locator("#build-log")).to_contain_text("ready: artifact")
            page.locator("#deploy-button").click()
            expect(page.locator(".badge", has_text="live")).to_be_visible()
            page.get_by_role("link", name="generated dialogues").click()
            expect(page.locator("mark.span").first).to_be_visible()
            assert not errors, errors
        finally:
            browser.close()


@pytest.mark.browser
def test_chat_in_the_console_see_every_decision_correct_a_turn_and_save_it(
    live_server, transactional_db, user, flights_deployed
):
    skill, _ = flights_deployed
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(live_server.url + reverse("login"))
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{live_server.url}/skills/{skill.pk}/")
            page.locator("nav.sidenav").get_by_role("link", name="Test console").click()
            expect(page.locator("#id_build")).to_contain_text("(live)")
            page.locator("#start-button").click()
            expect(page).to_have_url(re.compile(r"/console/[0-9a-f-]+/$"))
            page.evaluate("window.__stillHere = true")  # gone if anything reloads the page
            say = page.locator("#say-input")
            expect(say).to_be_focused()
            dialogue = [
                "Find me a flight from Boston to Chicago tomorrow",
                "Actually, make that from Denver",  # a change of mind
                "Book it for two people",
                "Yes please",
            ]
            for n, text in enumerate(dialogue):
                say.type(text)
                say.press("Enter")  # the keyboard is enough
                turn = page.locator(f"#turn-{n}")
                expect(turn).to_be_visible()
                expect(say).to_have_value("")
                expect(say).to_be_focused()
                # Every turn shows its actions, each with a probability, and the rendered response.
                expect(turn.locator(".action").first).to_be_visible()
                assert turn.locator(".action .prob").count() == turn.locator(".action").count()
                expect(turn.locator(".utterance.system")).to_be_visible()
            assert page.evaluate("window.__stillHere") is True  # four turns, no page reload
            first = page.locator("#turn-0")
            expect(first.locator("mark.span")).to_have_count(3)
            expect(first.locator("mark.span").first).to_have_attribute(
                "title", re.compile(r"city = Boston .*confidence")
            )
            expect(first.locator(".action-head", has_text="SearchFlights")).to_be_visible()
            # An argument's pointer: hovering it highlights the span it points to, in the turn it came from.
            origin = first.locator(".argument", has_text="origin").first
            origin.hover()
            expect(first.locator("mark.span.pointed")).to_have_count(1)
            expect(first.locator("mark.span.pointed")).to_contain_text("Boston")
            expect(origin.locator("table.attention tr")).not_to_have_count(0)
            expect(first.locator(".api-call")).to_contain_text("request")
            first.locator(".alternatives summary").first.click()
            expect(first.locator(".alternatives li").first).to_be_visible()
            expect(page.locator("#context table.entities tr[data-entity-key]")).not_to_have_count(0)

            # Correct the last turn: after booking, the system should have asked "anything else?".
            last = page.locator("#turn-3")
            last.get_by_role("button", name="Correct this turn").click()
            form = page.locator("#turn-3 form.correct-form")
            expect(form).to_be_visible()
            settled(page)
            for i in range(form.locator("select[name$='-name']").count()):
                form.locator(f"[name=action-{i}-remove]").check()
            form.locator("select[name=new_action]").select_option("anything_else")
            expect(page.locator("#turn-3 select[name=action-0-name]")).to_have_value("anything_else")
            settled(page)
            page.locator("#turn-3 button[value=save]").click()
            expect(page.locator("#turn-3 .corrected")).to_contain_text("anything_else")

            page.locator("#id_save_name").fill("console: Denver change of mind")
            page.locator("#save-button").click()
            expect(page).to_have_url(re.compile(r"/skills/\d+/dialogues/\d+/$"))
            expect(page.locator("body")).to_contain_text("anything_else")
            assert not errors, errors
        finally:
            browser.close()
