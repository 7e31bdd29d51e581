"""The test console's pages: starting, chatting (htmx fragments), corrections, saving, escaping, access."""

import datetime
import re

import pytest
from django.test import Client

from studio.runtime import managers
from studio.runtime.models import ApiBinding, ConversationSession, ConversationTurn
from studio.skills.models import SampleDialogue

SEARCH = "Find me a flight from Boston to Chicago tomorrow"
HTMX = {"HTTP_HX_REQUEST": "true"}


def open_session(web, skill):
    r = web.post(f"/skills/{skill.pk}/console/", {})
    assert r.status_code == 302, r.content
    return ConversationSession.objects.get(), r["Location"]


def test_start_page_offers_ready_builds_and_api_backends(web, flights_deployed):
    skill, build = flights_deployed
    page = web.get(f"/skills/{skill.pk}/console/").content.decode()
    assert f'<option value="{build.pk}" selected>Build 1 (live)' in page
    assert 'id="binding-SearchFlights"' in page and 'id="binding-BookFlight"' in page
    session, location = open_session(web, skill)
    assert location == f"/console/{session.pk}/" and session.build == build


def test_a_turn_comes_back_as_a_fragment_with_tags_actions_pointers_and_context(web, flights_deployed):
    skill, _ = flights_deployed
    session, url = open_session(web, skill)
    page = web.get(url).content.decode()
    assert 'id="say-input"' in page and "autofocus" in page
    r = web.post(f"{url}turns/", {"text": SEARCH}, **HTMX)
    assert r.status_code == 200
    html = r.content.decode()
    assert "<html" not in html  # a fragment, appended by htmx
    assert re.search(r'<mark class="span" data-entity-key="e1"[^>]*title="city = Boston', html)
    assert "SearchFlights" in html and "wait_for_user" in html
    assert 'data-points-to="e1"' in html  # origin points at "Boston"
    assert 'aria-label="attention of origin"' in html
    assert "request</span>" in html and "c1.flight" in html
    assert 'id="context" hx-swap-oob="true"' in html  # the context panel, swapped out of band
    turn = ConversationTurn.objects.get(session=session)
    assert turn.result["response"] and turn.result["response"].split()[0] in html


def test_an_empty_utterance_gets_an_error_and_keeps_nothing(web, flights_deployed):
    skill, _ = flights_deployed
    _, url = open_session(web, skill)
    r = web.post(f"{url}turns/", {"text": "  "}, **HTMX)
    assert r.status_code == 400 and "type what the user says" in r.content.decode()
    assert not ConversationTurn.objects.exists()


def test_forms_need_the_csrf_token(user, flights_deployed):
    skill, _ = flights_deployed
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(f"/skills/{skill.pk}/console/", {}).status_code == 403
    page = strict.get(f"/skills/{skill.pk}/console/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert strict.post(f"/skills/{skill.pk}/console/", {"csrfmiddlewaretoken": token}).status_code == 302


def test_other_users_cannot_see_or_use_a_conversation(web, flights_deployed, other_user, client):
    skill, _ = flights_deployed
    session, url = open_session(web, skill)
    web.post(f"{url}turns/", {"text": SEARCH})
    stranger = Client()
    stranger.force_login(other_user)
    for method, path in (
        ("get", url),
        ("post", f"{url}turns/"),
        ("get", f"{url}turns/0/correct/"),
        ("post", f"{url}save/"),
        ("post", f"{url}reset/"),
        ("get", f"/skills/{skill.pk}/console/"),
    ):
        assert getattr(stranger, method)(path, {"text": "hi", "name": "x"}).status_code == 404, path
    assert ConversationTurn.objects.count() == 1 and ConversationSession.objects.count() == 1


def test_user_text_template_text_and_api_responses_are_escaped(web, flights_deployed, settings):
    skill, build = flights_deployed
    skill.name = '<script>alert("skill")</script>'
    skill.save()
    manager = managers.manager_for(build)
    index = manager.index(datetime.date.today())
    offer = index.templates["offer_flight"]
    # A template's text as an author could write it.
    index.templates["offer_flight"] = offer.model_copy(
        update={"variants": ['<script>alert("template")</script> {flight}']}
    )

    def backend(api, arguments):  # an API answering with markup
        return {"flight": '<img src=x onerror=alert("api")>', "departure_time": "07:45", "price": "199"}

    session, url = open_session(web, skill)
    state = managers.session_state(session.pk, manager, 0, load=list)
    for number, text in enumerate((SEARCH, '<script>alert("user")</script>')):
        turn = manager.respond(state, text, executor=backend)
        ConversationTurn.objects.create(session=session, number=number, text=turn.text, result=turn.to_dict())
        if number == 0:
            assert [a.name for a in turn.actions][:2] == ["SearchFlights", "offer_flight"]
    managers.forget_session(session.pk)
    page = web.get(url).content.decode()
    for payload in (
        '<script>alert("skill")',
        '<script>alert("user")',
        '<script>alert("template")',
        "<img src=x onerror",
    ):
        assert payload not in page, payload
    # (The tiny model may tag a piece of the payload: the text is then cut by a <mark>, escaped all the same.)
    assert "script&gt;alert(&quot;user&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(&quot;api&quot;)&gt;" in page
    assert "&lt;script&gt;alert(&quot;template&quot;)&lt;/script&gt;" in page


def test_a_turn_is_corrected_in_place_and_the_conversation_saved_as_a_sample(web, flights_deployed):
    skill, _ = flights_deployed
    session, url = open_session(web, skill)
    web.post(f"{url}turns/", {"text": SEARCH}, **HTMX)
    form = web.get(f"{url}turns/0/correct/", **HTMX).content.decode()
    assert 'name="span-0-slot_type"' in form and 'name="action-0-name"' in form
    spans = ConversationTurn.objects.get(session=session).result["spans"]
    fields = {"span_count": str(len(spans)), "action_count": "1", "apply": "save"}
    for i, s in enumerate(spans):
        fields |= {f"span-{i}-id": s["entity"], f"span-{i}-start": s["start"], f"span-{i}-end": s["end"]}
        fields[f"span-{i}-slot_type"] = s["slot_type"]
    fields["span-2-remove"] = "on"  # "tomorrow" is not to be tagged (say)
    # The developer wants the route confirmed before searching.
    fields |= {"action-0-name": "request_date"}
    r = web.post(f"{url}turns/0/correct/", fields, **HTMX)
    assert r.status_code == 200 and "corrected" in r.content.decode()
    correction = ConversationTurn.objects.get(session=session).correction
    assert [s["text"] for s in correction["spans"]] == ["Boston", "Chicago"]
    assert correction["actions"] == [{"kind": "response", "name": "request_date", "arguments": {}}]
    # A bad correction: the form comes back with the reason, nothing is stored.
    bad = fields | {"action-0-name": "SearchFlights", "action-0-arg-origin": "e42"}
    r = web.post(f"{url}turns/0/correct/", bad, **HTMX)
    assert r.status_code == 400 and "no entity" in r.content.decode()
    assert ConversationTurn.objects.get(session=session).correction == correction
    r = web.post(f"{url}save/", {"name": "from the console"}, **HTMX)
    assert r.status_code == 200 and r["HX-Redirect"].startswith(f"/skills/{skill.pk}/dialogues/")
    saved = SampleDialogue.objects.get(skill=skill, name="from the console").data
    assert saved["turns"][0]["text"] == SEARCH and saved["turns"][1]["actions"][0]["name"] == "request_date"
    r = web.post(f"{url}save/", {"name": "from the console"}, **HTMX)  # the name is taken now
    assert r.status_code == 400 and "errorlist" in r.content.decode()


def test_reset_starts_a_new_conversation_with_the_same_build(web, flights_deployed):
    skill, build = flights_deployed
    session, url = open_session(web, skill)
    r = web.post(f"{url}reset/", **HTMX)
    fresh = ConversationSession.objects.exclude(pk=session.pk).get()
    assert r["HX-Redirect"] == f"/console/{fresh.pk}/" and fresh.build == build


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mode": "webhook", "url": "https://127.0.0.1/x", "secret": "s" * 20}, "loopback"),
        ({"mode": "webhook", "url": "https://example.com/x", "secret": "short"}, "at least 16"),
        ({"mode": "mock", "timeout": "soon"}, "number of seconds"),
    ],
)
def test_binding_form_shows_field_errors(web, flights_deployed, fields, message):
    skill, _ = flights_deployed
    r = web.post(f"/skills/{skill.pk}/console/apis/SearchFlights/", {"timeout": "5", **fields}, **HTMX)
    assert r.status_code == 400 and message in r.content.decode()


def test_binding_form_saves_a_mock_backend(web, flights_deployed):
    skill, _ = flights_deployed
    r = web.post(f"/skills/{skill.pk}/console/apis/SearchFlights/", {"mode": "mock", "timeout": "3"}, **HTMX)
    assert r.status_code == 200 and "saved" in r.content.decode()
    assert ApiBinding.objects.get(skill=skill).timeout == 3.0


def test_saving_a_conversation_whose_correction_breaks_a_later_turn_names_the_turn(web, flights_deployed):
    """Remove the search that a later turn's booking points at: the save is refused, saying where."""
    skill, _ = flights_deployed
    session, url = open_session(web, skill)
    web.post(f"{url}turns/", {"text": SEARCH}, **HTMX)
    web.post(f"{url}turns/", {"text": "Book it for two people"}, **HTMX)
    later = ConversationTurn.objects.get(session=session, number=1)
    assert any(g.get("entity") == "c1.flight" for a in later.result["actions"] for g in a["arguments"])
    web.post(f"{url}turns/0/correct/", {"span_count": "0", "action_count": "0", "new_action": "request_date"}, **HTMX)
    r = web.post(f"{url}save/", {"name": "broken"}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 400 and "turns[3]" in html and "c1.flight" in html, html
    assert not SampleDialogue.objects.filter(name="broken").exists()


def test_a_new_span_for_words_not_in_the_utterance_is_refused_in_the_form(web, flights_deployed):
    skill, _ = flights_deployed
    session, url = open_session(web, skill)
    web.post(f"{url}turns/", {"text": SEARCH}, **HTMX)
    fields = {"span_count": "many", "action_count": "0", "new_span_text": "Paris", "new_span_slot_type": "city"}
    r = web.post(f"{url}turns/0/correct/", fields | {"apply": "save"}, **HTMX)
    assert r.status_code == 400 and "“Paris” is not in the utterance" in r.content.decode()
    assert ConversationTurn.objects.get(session=session).correction is None
    fields |= {"new_span_text": "Boston", "span_count": "0"}
    r = web.post(f"{url}turns/0/correct/", fields | {"apply": "save"}, **HTMX)
    assert r.status_code == 200
    assert [s["text"] for s in ConversationTurn.objects.get(session=session).correction["spans"]] == ["Boston"]
