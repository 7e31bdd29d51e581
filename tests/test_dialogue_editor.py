import pytest
from django.urls import reverse

import skillspec
from studio.skills import dialogue_services as ds
from studio.skills import selectors, services
from studio.skills.components import APIS, SAMPLE_DIALOGUES

HTMX = {"HTTP_HX_REQUEST": "true"}


def issues(exc_info) -> list[str]:
    return [str(i) for i in exc_info.value.issues]


@pytest.fixture
def d1(skill):
    """The mini skill's dialogue: fly from Boston / request_date / tomorrow / SearchFlights c1 + offer_flight."""
    return selectors.component_list(skill=skill, kind=SAMPLE_DIALOGUES).get(name="d1")


@pytest.fixture
def fresh(skill):
    return ds.dialogue_create(skill=skill, name="fresh")


def specs(skill, row):
    row.refresh_from_db()
    return selectors.skill_to_spec(skill=skill), skillspec.SampleDialogue.model_validate(row.data)


# --- services -----------------------------------------------------------------


def test_create_rename_and_mark_as_test(skill):
    row = ds.dialogue_create(skill=skill, name="  happy path ", test=False)
    assert row.data == {"name": "happy path", "test": False, "turns": []}
    ds.dialogue_update(dialogue=row, name="happy path 2", test=True)
    row.refresh_from_db()
    assert (row.name, row.data["test"]) == ("happy path 2", True)


def test_create_and_rename_refusals(skill, d1):
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_create(skill=skill, name="d1")
    assert issues(exc) == ["name: duplicate sample dialogue name 'd1'"]
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_create(skill=skill, name="   ")
    assert issues(exc) == ["name: a sample dialogue needs a name"]
    other = ds.dialogue_create(skill=skill, name="other")
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_update(dialogue=other, name="d1", test=True)
    assert issues(exc) == ["name: duplicate sample dialogue name 'd1'"]
    other.refresh_from_db()
    assert other.data == {"name": "other", "test": False, "turns": []}


def test_spans_take_text_from_offsets_and_get_the_next_free_ids(skill, fresh):
    ds.dialogue_add_user_turn(dialogue=fresh, text="  fly from BOS on friday ")
    # The selection " BOS " takes its spaces along; the span is the word, and BOS is a synonym of Boston.
    ds.dialogue_add_span(dialogue=fresh, turn=0, start=8, end=13, slot_type="city")
    ds.dialogue_add_span(dialogue=fresh, turn=0, start=15, end=22, slot_type="date")
    fresh.refresh_from_db()
    turn = fresh.data["turns"][0]
    assert turn["text"] == "fly from BOS on friday"
    assert turn["spans"] == [
        {"id": "e1", "start": 9, "end": 12, "slot_type": "city", "text": "BOS", "value": "Boston"},
        {"id": "e2", "start": 16, "end": 22, "slot_type": "date", "text": "friday", "value": None},
    ]
    # An earlier span is inserted in text order and takes the lowest free id.
    ds.dialogue_remove_span(dialogue=fresh, turn=0, span_id="e1")
    ds.dialogue_add_span(dialogue=fresh, turn=0, start=0, end=3, slot_type="city")
    fresh.refresh_from_db()
    assert [(s["id"], s["text"]) for s in fresh.data["turns"][0]["spans"]] == [("e1", "fly"), ("e2", "friday")]


def test_span_refusals_have_exact_messages_and_save_nothing(d1):
    before = d1.data
    cases = [
        (dict(turn=0, start=12, end=15, slot_type="city"), ["turns[0].spans[1]: span overlaps span 0 (9:15)"]),
        (dict(turn=0, start=0, end=3, slot_type="nope"), ["turns[0].spans[0].slot_type: unknown slot type 'nope'"]),
        (
            dict(turn=0, start=3, end=99, slot_type="city"),
            ["turns[0].spans: the selection 3:99 is not inside the text (0:15)"],
        ),
        (dict(turn=0, start=3, end=4, slot_type="city"), ["turns[0].spans: the selection holds only spaces"]),
        (dict(turn=1, start=0, end=1, slot_type="city"), ["turns[1]: this is not a user turn"]),
        (dict(turn=9, start=0, end=1, slot_type="city"), ["turns[9]: there is no such turn"]),
    ]
    for kwargs, expected in cases:
        with pytest.raises(skillspec.SpecValidationError) as exc:
            ds.dialogue_add_span(dialogue=d1, **kwargs)
        assert issues(exc) == expected, kwargs
    d1.refresh_from_db()
    assert d1.data == before


def test_removing_a_span_bound_later_is_refused(d1):
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_remove_span(dialogue=d1, turn=0, span_id="e1")
    assert issues(exc) == [
        "turns[0].spans[0]: span e1 is still bound; remove the actions that use it first",
        "turns[3].actions[0].arguments.origin: SearchFlights argument 'origin' is bound to e1",
    ]
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_remove_span(dialogue=d1, turn=0, span_id="e7")
    assert issues(exc) == ["turns[0].spans: there is no span 'e7' in this turn"]


def test_user_turns_alternate_and_need_text(d1, fresh):
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_add_user_turn(dialogue=fresh, text="   ")
    assert issues(exc) == ["turns[0].text: type what the user says"]
    ds.dialogue_add_user_turn(dialogue=fresh, text="hello")
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_add_user_turn(dialogue=fresh, text="hello again")
    assert issues(exc) == ["turns[1]: the last turn is a user turn: the system speaks next"]
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_add_action(
            dialogue=ds.dialogue_create(skill=fresh.skill, name="empty"),
            kind="response",
            name="offer_flight",
            arguments={},
        )
    assert issues(exc) == ["turns[0]: a dialogue starts with a user turn: add what the user says first"]


def test_actions_start_a_system_turn_then_append_and_calls_get_ids(skill, d1):
    ds.dialogue_add_user_turn(dialogue=d1, text="and from Boston tomorrow?")
    ds.dialogue_add_span(dialogue=d1, turn=4, start=9, end=15, slot_type="city")
    ds.dialogue_add_action(dialogue=d1, kind="api", name="SearchFlights", arguments={"origin": "e3", "date": "e2"})
    ds.dialogue_add_action(dialogue=d1, kind="response", name="offer_flight", arguments={"flight": "c2.flight"})
    d1.refresh_from_db()
    assert d1.data["turns"][5] == {
        "speaker": "system",
        "actions": [
            {"kind": "api", "name": "SearchFlights", "id": "c2", "arguments": {"origin": "e3", "date": "e2"}},
            {"kind": "response", "name": "offer_flight", "id": None, "arguments": {"flight": "c2.flight"}},
        ],
    }
    assert skillspec.validate_skill(selectors.skill_to_spec(skill=skill)) == []


def test_action_refusals_name_the_binding(d1):
    before = d1.data
    ds.dialogue_add_user_turn(dialogue=d1, text="ok")
    cases = [
        (
            dict(kind="api", name="SearchFlights", arguments={"origin": "e2", "date": ""}),
            [
                "turns[5].actions[0].arguments.origin: entity e2 is a date, but 'origin' takes a city",
                "turns[5].actions[0].arguments.date: required argument 'date' is not bound",
            ],
        ),
        (
            dict(kind="response", name="offer_flight", arguments={"flight": "c9.flight"}),
            ["turns[5].actions[0].arguments.flight: bound to unknown entity 'c9.flight'"],
        ),
        (dict(kind="api", name="Nope", arguments={}), ["turns[5].actions[0].name: unknown API 'Nope'"]),
        (dict(kind="", name="", arguments={}), ["turns[5].actions[0].name: choose an API or a response template"]),
    ]
    for kwargs, expected in cases:
        with pytest.raises(skillspec.SpecValidationError) as exc:
            ds.dialogue_add_action(dialogue=d1, **kwargs)
        assert issues(exc) == expected, kwargs
    d1.refresh_from_db()
    assert len(d1.data["turns"]) == 5
    assert d1.data["turns"][:4] == before["turns"]


def test_removing_actions_and_turns(d1):
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_remove_action(dialogue=d1, turn=3, action=0)
    assert issues(exc) == [
        "turns[3].actions[0]: the results of c1 are still bound; remove the actions that use it first",
        "turns[3].actions[1].arguments.flight: offer_flight argument 'flight' is bound to c1.flight",
    ]
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_remove_action(dialogue=d1, turn=1, action=0)
    assert issues(exc) == [
        "turns[1].actions[0]: a system turn that later turns follow needs an action (turns alternate); "
        "delete the turn instead"
    ]
    ds.dialogue_remove_action(dialogue=d1, turn=3, action=1)
    ds.dialogue_remove_action(dialogue=d1, turn=3, action=0)  # its last action: the turn goes too
    d1.refresh_from_db()
    assert [t["speaker"] for t in d1.data["turns"]] == ["user", "system", "user"]
    ds.dialogue_remove_last_turn(dialogue=d1)
    d1.refresh_from_db()
    assert [t["speaker"] for t in d1.data["turns"]] == ["user", "system"]


def test_removing_a_turn_whose_entity_is_bound_later_is_refused(d1):
    before = d1.data
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_remove_turn(dialogue=d1, turn=0)  # with turn 1, so that turns still alternate
    assert issues(exc) == [
        "turns[0]: e1 is still bound in a later turn; remove the actions that use it first",
        "turns[3].actions[0].arguments.origin: SearchFlights argument 'origin' is bound to e1",
    ]
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_remove_turn(dialogue=d1, turn=1)  # with turn 2, which introduces e2
    assert issues(exc)[0] == "turns[1]: e2 is still bound in a later turn; remove the actions that use it first"
    d1.refresh_from_db()
    assert d1.data == before
    ds.dialogue_remove_turn(dialogue=d1, turn=2)  # the last two turns: nothing later binds them
    d1.refresh_from_db()
    assert [t["speaker"] for t in d1.data["turns"]] == ["user", "system"]
    ds.dialogue_remove_last_turn(dialogue=d1)
    ds.dialogue_remove_last_turn(dialogue=d1)
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_remove_last_turn(dialogue=d1)
    assert issues(exc) == ["turns: the dialogue has no turns"]


def test_editing_a_user_turn_moves_its_spans(d1):
    ds.dialogue_edit_user_turn(dialogue=d1, turn=0, text="please fly me from Boston")
    d1.refresh_from_db()
    assert d1.data["turns"][0]["spans"][0] == {
        "id": "e1",
        "start": 19,
        "end": 25,
        "slot_type": "city",
        "text": "Boston",
        "value": None,
    }
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_edit_user_turn(dialogue=d1, turn=0, text="fly from Denver")
    assert issues(exc) == [
        "turns[0].spans[0]: span e1 ('Boston') is not in the new text; keep its words or remove the span first"
    ]


def test_entity_and_argument_options_are_type_compatible_with_labels(skill, d1):
    spec, dialogue = specs(skill, d1)
    assert [o.label for o in ds.dialogue_entity_options(skill=spec, dialogue=dialogue, turn=3, action=1)] == [
        'e1 "Boston" (city, turn 1)',
        'e2 "tomorrow" (date, turn 3)',
        "c1.flight (result of SearchFlights, turn 4)",
    ]
    args = ds.dialogue_argument_options(
        skill=spec, dialogue=dialogue, turn=3, action=0, kind="api", name="SearchFlights"
    )
    assert [(a.name, a.required, [o.id for o in a.options]) for a in args] == [
        ("origin", True, ["e1"]),
        ("date", True, ["e2"]),
    ]
    # Before the call, its result is not available; after it, it is.
    before = ds.dialogue_argument_options(
        skill=spec, dialogue=dialogue, turn=3, action=0, kind="response", name="offer_flight"
    )
    after = ds.dialogue_argument_options(
        skill=spec, dialogue=dialogue, turn=3, action=1, kind="response", name="offer_flight"
    )
    assert [o.id for o in before[0].options] == []
    assert [o.label for o in after[0].options] == ["c1.flight (result of SearchFlights, turn 4)"]
    assert ds.next_action_point(dialogue) == (3, 2)
    with pytest.raises(skillspec.SpecValidationError) as exc:
        ds.dialogue_argument_options(skill=spec, dialogue=dialogue, turn=3, action=0, kind="api", name="Nope")
    assert issues(exc) == ["name: unknown API 'Nope'"]


def test_optional_api_arguments_are_not_required(skill, d1):
    search = selectors.component_list(skill=skill, kind=APIS).get(name="SearchFlights")
    data = {**search.data}
    data["arguments"] = [data["arguments"][0], {**data["arguments"][1], "required": False, "default": "today"}]
    services.component_update(component=search, data=data)
    spec, dialogue = specs(skill, d1)
    args = ds.dialogue_argument_options(
        skill=spec, dialogue=dialogue, turn=3, action=0, kind="api", name="SearchFlights"
    )
    assert [(a.name, a.required, a.default) for a in args] == [("origin", True, None), ("date", False, "today")]
    ds.dialogue_add_user_turn(dialogue=d1, text="from Boston")
    ds.dialogue_add_action(dialogue=d1, kind="api", name="SearchFlights", arguments={"origin": "e1", "date": ""})
    d1.refresh_from_db()
    assert d1.data["turns"][-1]["actions"][0]["arguments"] == {"origin": "e1"}


# --- views ------------------------------------------------------------------


def url(name, skill, row=None, *extra):
    args = [skill.pk] + ([row.pk] if row is not None else []) + list(extra)
    return reverse(f"skills:{name}", args=args)


def test_list_page_and_create(web, skill, d1):
    page = web.get(url("dialogues", skill))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and "d1" in html and ">4<" in html
    response = web.post(url("dialogues", skill), {"name": "booking", "test": "on"}, **HTMX)
    row = selectors.component_list(skill=skill, kind=SAMPLE_DIALOGUES).get(name="booking")
    assert response.status_code == 200
    assert response["HX-Redirect"] == url("dialogue", skill, row)
    assert row.data["test"] is True
    assert "test conversation" in web.get(url("dialogues", skill)).content.decode()


def test_create_error_is_shown_in_place_and_keeps_input(web, skill, d1):
    response = web.post(url("dialogues", skill), {"name": "d1", "test": "on"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "duplicate sample dialogue name" in html and 'value="d1"' in html and "checked" in html
    plain = web.post(url("dialogues", skill), {"name": ""})
    assert plain.status_code == 422 and "a sample dialogue needs a name" in plain.content.decode()


def test_delete_from_the_list(web, skill, d1):
    response = web.post(url("dialogue_delete", skill, d1), **HTMX)
    assert response.status_code == 200 and 'id="dialogue-list"' in response.content.decode()
    assert not selectors.component_list(skill=skill, kind=SAMPLE_DIALOGUES).exists()


def test_editor_renders_transcript_full_page_and_fragment(web, skill, d1):
    page = web.get(url("dialogue", skill, d1))
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html and "dialogue-editor.js" in html
    # Text is split into runs that carry their offsets in the original text.
    assert '<span data-seg data-start="0">fly from </span><mark class="span st-0" data-span-id="e1"' in html
    assert '<span data-seg data-start="9">Boston</span></mark>' in html
    assert "e2 &quot;tomorrow&quot; (date, turn 3)" in html  # the binding of SearchFlights.date
    assert "c1.flight (result of SearchFlights, turn 4)" in html
    assert html.count("wait for user") == 2
    fragment = web.get(url("dialogue", skill, d1), **HTMX).content.decode()
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="dialogue-editor"')


def test_user_turn_span_and_action_through_htmx(web, skill, fresh):
    r = web.post(url("dialogue_user_turn_add", skill, fresh), {"text": "fly from Boston"}, **HTMX)
    assert r.status_code == 200 and "<html" not in r.content.decode() and "fly from " in r.content.decode()
    r = web.post(url("dialogue_span_add", skill, fresh, 0), {"start": "9", "end": "15", "slot_type": "city"}, **HTMX)
    assert 'data-span-id="e1"' in r.content.decode()
    r = web.get(url("dialogue_action_arguments", skill, fresh), {"action": "api:SearchFlights"}, **HTMX)
    html = r.content.decode()
    assert 'name="arg_origin"' in html and 'value="e1"' in html and "e1 &quot;Boston&quot; (city, turn 1)" in html
    assert 'name="arg_date"' in html and "No date entity is available" in html
    r = web.post(url("dialogue_action_add", skill, fresh), {"action": "response:request_date"}, **HTMX)
    assert "request_date" in r.content.decode()
    fresh.refresh_from_db()
    assert fresh.data["turns"][1]["actions"] == [
        {"kind": "response", "name": "request_date", "id": None, "arguments": {}}
    ]


def test_errors_are_shown_in_place_and_input_is_kept(web, skill, d1):
    r = web.post(url("dialogue_span_add", skill, d1, 0), {"start": "12", "end": "15", "slot_type": "city"}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html
    assert '<code class="issue-path">turns[0].spans[1]</code> span overlaps span 0 (9:15)' in html
    assert 'name="start" value="12"' in html and 'name="end" value="15"' in html
    r = web.post(url("dialogue_span_add", skill, d1, 0), {"slot_type": "city"}, **HTMX)
    assert "select the words to tag with the mouse first" in r.content.decode()
    r = web.post(url("dialogue_turn_remove", skill, d1, 0), **HTMX)
    assert "e1 is still bound in a later turn" in r.content.decode()
    r = web.post(url("dialogue_span_remove", skill, d1, 9, "e1"), **HTMX)  # a turn that is not there
    assert '<code class="issue-path">turns[9]</code> there is no such turn' in r.content.decode()
    web.post(url("dialogue_user_turn_add", skill, d1), {"text": "tomorrow at noon"}, **HTMX)
    # A wrong binding keeps the chosen action and bindings.
    r = web.post(
        url("dialogue_action_add", skill, d1),
        {"action": "api:SearchFlights", "arg_origin": "e2", "arg_date": "e2"},
        **HTMX,
    )
    html = r.content.decode()
    assert "turns[5].actions[0].arguments.origin" in html
    assert "entity e2 is a date, but &#x27;origin&#x27; takes a city" in html
    assert '<option value="api:SearchFlights" selected>' in html
    assert '<option value="e2" selected>' in html
    r = web.post(url("dialogue_settings", skill, d1), {"name": ""}, **HTMX)
    assert "a sample dialogue needs a name" in r.content.decode()
    plain = web.post(url("dialogue_user_turn_add", skill, d1), {"text": "x"})
    assert plain.status_code == 422 and "<html" in plain.content.decode()


def test_plain_posts_redirect_back_to_the_editor(web, skill, fresh):
    r = web.post(url("dialogue_user_turn_add", skill, fresh), {"text": "hi"})
    assert r.status_code == 302 and r["Location"] == url("dialogue", skill, fresh)
    r = web.post(url("dialogue_settings", skill, fresh), {"name": "renamed", "test": "on"})
    assert r.status_code == 302
    fresh.refresh_from_db()
    assert (fresh.name, fresh.data["test"]) == ("renamed", True)


def test_user_text_is_escaped(web, skill, fresh):
    web.post(url("dialogue_user_turn_add", skill, fresh), {"text": "<script>alert(1)</script> from Boston"}, **HTMX)
    web.post(url("dialogue_span_add", skill, fresh, 0), {"start": "0", "end": "8", "slot_type": "city"}, **HTMX)
    html = web.get(url("dialogue", skill, fresh)).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def all_urls(skill, row):
    return [
        ("get", url("dialogues", skill)),
        ("post", url("dialogues", skill)),
        ("get", url("dialogue", skill, row)),
        ("post", url("dialogue_delete", skill, row)),
        ("post", url("dialogue_settings", skill, row)),
        ("post", url("dialogue_user_turn_add", skill, row)),
        ("post", url("dialogue_user_turn_edit", skill, row, 0)),
        ("post", url("dialogue_turn_remove", skill, row, 0)),
        ("post", url("dialogue_span_add", skill, row, 0)),
        ("post", url("dialogue_span_remove", skill, row, 0, "e1")),
        ("post", url("dialogue_action_add", skill, row)),
        ("get", url("dialogue_action_arguments", skill, row)),
        ("post", url("dialogue_action_remove", skill, row, 3, 0)),
    ]


def test_another_users_skill_and_dialogue_are_404_everywhere(client, other_user, skill, d1, mini_spec):
    client.force_login(other_user)
    for method, u in all_urls(skill, d1):
        for headers in ({}, HTMX):
            r = getattr(client, method)(u, {"name": "x", "text": "x"}, **headers)
            assert r.status_code == 404, (method, u)
    # Another user's dialogue under one's own skill id is not found either.
    own = services.skill_import(owner=other_user, data=mini_spec)
    for method, u in all_urls(own, d1):
        if "/dialogues/" + str(d1.pk) + "/" in u:
            assert getattr(client, method)(u, **HTMX).status_code == 404, (method, u)
    d1.refresh_from_db()
    assert d1.name == "d1" and len(d1.data["turns"]) == 4


def test_anonymous_users_are_sent_to_sign_in(client, skill, d1):
    urls = all_urls(skill, d1)
    assert len(urls) >= 5  # the editor's pages and actions, each checked
    for method, u in urls:
        r = getattr(client, method)(u)
        assert r.status_code == 302 and r["Location"].startswith(reverse("login")), u
