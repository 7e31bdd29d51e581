"""The web studio pages: skills, slot types, APIs, response templates and utterance sets."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from studio.skills import models, selectors, services
from studio.skills.components import APIS, BY_SLUG, RESPONSE_TEMPLATES, SAMPLE_DIALOGUES, SLOT_TYPES, UTTERANCE_SETS

HX = {"HTTP_HX_REQUEST": "true"}
SLUGS = ["slot-types", "apis", "response-templates", "utterance-sets"]
XSS = "<script>alert(1)</script>"


def text(response) -> str:
    return response.content.decode()


def field_block(html: str, name: str) -> str:
    """The HTML from the input named ``name`` to the end of its field: where its errors must be."""
    start = html.index(f'name="{name}"')
    end = min(i for i in (html.find("</div>", start), html.find("</fieldset>", start)) if i != -1)
    return html[start:end]


def fieldset_block(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</fieldset>", start)]


def components_url(skill, slug: str) -> str:
    return reverse("skills:components", args=[skill.pk, slug])


def create_url(skill, slug: str) -> str:
    return reverse("skills:component_create", args=[skill.pk, slug])


def row(skill, kind, name):
    return selectors.component_list(skill=skill, kind=kind).get(name=name)


# ------------------------------------------------------------------ skills


def test_pages_need_a_signed_in_user(client, skill):
    response = client.get(reverse("skills:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.get(components_url(skill, "apis"), **HX)
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_skill_list_shows_counts_and_validity(web, skill):
    response = web.get(reverse("skills:list"))
    assert response.status_code == 200
    html = text(response)
    assert "Mini" in html and reverse("skills:detail", args=[skill.pk]) in html
    assert "<td>3</td>" in html  # slot types
    assert 'class="badge ok"' in html or 'class="badge warn"' in html
    assert 'name="file"' in html and 'action="/skills/new/"' in html


def test_create_skill_keeps_input_and_shows_errors_in_place(web):
    response = web.post(reverse("skills:create"), {"name": "  ", "description": "kept <b>text</b>"})
    html = text(response)
    assert response.status_code == 200 and "<html" in html
    assert "a skill needs a name" in field_block(html, "name")
    assert "kept &lt;b&gt;text&lt;/b&gt;" in html
    response = web.post(reverse("skills:create"), {"name": "x" * 300}, **HX)
    html = text(response)
    assert "<html" not in html and 'id="create-skill"' in html
    assert "at most 200 characters" in field_block(html, "name")
    assert not models.Skill.objects.exists()


def test_create_skill_goes_to_its_dashboard(web, user):
    response = web.post(reverse("skills:create"), {"name": "Pizza", "description": "Orders pizza"})
    skill = models.Skill.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == reverse("skills:detail", args=[skill.pk])
    response = web.post(reverse("skills:create"), {"name": "Tacos"}, **HX)
    skill = models.Skill.objects.get(owner=user, name="Tacos")
    assert response["HX-Redirect"] == reverse("skills:detail", args=[skill.pk])


def test_import_skill_file(web, user, mini_spec):
    upload = SimpleUploadedFile("mini.json", json.dumps(mini_spec).encode(), "application/json")
    response = web.post(reverse("skills:import"), {"file": upload})
    skill = models.Skill.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == reverse("skills:detail", args=[skill.pk])
    assert selectors.skill_counts(skill=skill)["sample_dialogues"] == 1


def test_import_of_a_bad_file_lists_every_problem_and_creates_nothing(web, mini_spec):
    mini_spec["apis"][0]["arguments"][0]["slot_type"] = "nope"
    mini_spec["response_templates"][0]["variants"] = ["How about {flihgt}?"]
    upload = SimpleUploadedFile("bad.json", json.dumps(mini_spec).encode())
    html = text(web.post(reverse("skills:import"), {"file": upload}))
    assert "Nothing was imported" in html
    assert escape("apis[0].arguments[0].slot_type: unknown slot type 'nope'") in html
    assert escape("response_templates[0].variants[0]: placeholder {flihgt} is not an argument") in html
    html = text(web.post(reverse("skills:import"), {"file": SimpleUploadedFile("x.json", b"{not json")}, **HX))
    assert "<html" not in html and "not valid JSON" in html
    html = text(web.post(reverse("skills:import"), {"file": SimpleUploadedFile("x.json", b"\xff\xfe\x00")}))
    assert "not UTF-8" in html
    html = text(web.post(reverse("skills:import"), {}))
    assert "choose a file" in html
    assert not models.Skill.objects.exists()


def test_dashboard_shows_counts_validation_and_actions(web, skill):
    services.component_create(skill=skill, kind=SLOT_TYPES, data={"name": "empty"})
    response = web.get(reverse("skills:detail", args=[skill.pk]))
    html = text(response)
    assert response.status_code == 200
    assert components_url(skill, "apis") in html and reverse("skills:dialogues", args=[skill.pk]) in html
    assert '<div class="num">4</div><div>Slot types</div>' in html
    assert 'class="badge ok">valid' in html
    # the warning names the component and links to its row
    empty = row(skill, SLOT_TYPES, "empty")
    assert f"{components_url(skill, 'slot-types')}#row-{empty.pk}" in html and "the catalogue is empty" in html
    assert reverse("skills:export", args=[skill.pk]) in html
    services.component_delete(component=selectors.component_list(skill=skill, kind=SAMPLE_DIALOGUES).get())
    html = text(web.get(reverse("skills:detail", args=[skill.pk])))
    assert "sample dialogues</a>: no sample dialogues" in html
    assert f'hx-post="{reverse("skills:delete", args=[skill.pk])}"' in html and "hx-confirm" in html


def test_edit_skill_inline(web, skill):
    url = reverse("skills:edit", args=[skill.pk])
    html = text(web.get(url, **HX))
    assert "<html" not in html and 'id="skill-header"' in html and 'value="Mini"' in html
    html = text(web.post(url, {"name": "", "description": "still here"}, **HX))
    assert "a skill needs a name" in field_block(html, "name") and "still here" in html
    html = text(web.post(url, {"name": "Flights", "description": "New words"}, **HX))
    assert "<h1>Flights</h1>" in html and "New words" in html and "hx-swap-oob" in html
    skill.refresh_from_db()
    assert (skill.name, skill.description) == ("Flights", "New words")
    assert "<h1>Flights</h1>" in text(web.get(reverse("skills:detail", args=[skill.pk]), **HX))
    response = web.post(url, {"name": "Again", "description": ""})
    assert response.status_code == 302
    assert "<html" in text(web.get(url))


def test_export_downloads_the_skill_json(web, skill):
    response = web.get(reverse("skills:export", args=[skill.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="mini.json"'
    assert response["Content-Type"].startswith("application/json")
    assert text(response) == selectors.skill_export(skill=skill)


def test_delete_skill_with_confirmation(web, skill, user):
    url = reverse("skills:delete", args=[skill.pk])
    assert "Delete the skill" in text(web.get(url))
    response = web.post(url, **HX)
    assert response["HX-Redirect"] == reverse("skills:list")
    assert not models.Skill.objects.filter(pk=skill.pk).exists()
    other = services.skill_create(owner=user, name="Other")
    response = web.post(reverse("skills:delete", args=[other.pk]))
    assert response.status_code == 302 and not models.Skill.objects.exists()


# -------------------------------------------------------------- components


@pytest.mark.parametrize("slug", SLUGS)
def test_component_pages_render_full_and_as_fragments(web, skill, slug):
    response = web.get(components_url(skill, slug))
    html = text(response)
    assert response.status_code == 200 and "<html" in html and 'id="items"' in html
    assert 'aria-current="page"' in html and "js/rows.js" in html
    for component in selectors.component_list(skill=skill, kind=BY_SLUG[slug]):
        assert f'id="row-{component.pk}"' in html
    html = text(web.get(create_url(skill, slug), **HX))
    assert "<html" not in html and 'id="new-form"' in html
    assert web.get(create_url(skill, slug)).status_code == 302


def test_create_catalogue_slot_type(web, skill):
    values = 'New York, NYC, Big Apple\n"Washington, D.C.", DC\n\nParis\n'
    response = web.post(create_url(skill, "slot-types"), {"name": "town", "kind": "catalogue", "values": values}, **HX)
    html = text(response)
    town = row(skill, SLOT_TYPES, "town")
    assert town.data["values"] == [
        {"value": "New York", "synonyms": ["NYC", "Big Apple"]},
        {"value": "Washington, D.C.", "synonyms": ["DC"]},
        {"value": "Paris", "synonyms": []},
    ]
    # fresh form, new row appended out of band, count updated
    assert 'id="new-form"' in html and 'hx-swap-oob="beforeend:#items"' in html and f'id="row-{town.pk}"' in html
    assert 'id="items-summary" class="badge" hx-swap-oob="true">4 slot types' in html
    # the edit form shows the catalogue back, CSV-quoted
    html = text(web.get(reverse("skills:component_edit", args=[skill.pk, "slot-types", town.pk]), **HX))
    assert escape('"Washington, D.C.",DC') in html


def test_create_builtin_slot_type_shows_examples(web, skill):
    response = web.post(create_url(skill, "slot-types"), {"name": "when", "kind": "TIME", "values": ""})
    assert response.status_code == 302
    assert row(skill, SLOT_TYPES, "when").data["builtin"] == "TIME"
    html = text(web.get(components_url(skill, "slot-types")))
    assert "built-in TIME" in html and "noon" in html


def test_slot_type_errors_are_next_to_their_fields_and_input_is_kept(web, skill):
    values = "Rome, Roma\nMilan, roma\n"
    response = web.post(create_url(skill, "slot-types"), {"name": "bad name", "kind": "catalogue", "values": values})
    html = text(response)
    assert response.status_code == 200 and "<html" in html
    assert "must start with a letter" in field_block(html, "name") and 'value="bad name"' in html
    assert escape(values) in html
    html = text(
        web.post(create_url(skill, "slot-types"), {"name": "town", "kind": "catalogue", "values": values}, **HX)
    )
    assert escape("Milan: 'roma' already stands for value 'Rome'") in field_block(html, "values")
    assert "errorlist" not in field_block(html, "name")
    html = text(web.post(create_url(skill, "slot-types"), {"name": "d", "kind": "DATE", "values": "x"}, **HX))
    assert "a built-in DATE slot type has no catalogue values" in field_block(html, "values")
    html = text(web.post(create_url(skill, "slot-types"), {"name": "d", "kind": "WEEKDAY"}, **HX))
    assert "&#x27;DATE&#x27;" in field_block(html, "kind")  # the error next to the kind lists the valid ones
    html = text(web.post(create_url(skill, "slot-types"), {"name": "city", "kind": "catalogue"}, **HX))
    assert "duplicate slot type name" in field_block(html, "name")
    assert not selectors.component_list(skill=skill, kind=SLOT_TYPES).filter(name="d").exists()


def test_slot_type_values_upload_adds_or_replaces(web, skill):
    city = row(skill, SLOT_TYPES, "city")
    url = reverse("skills:slot_type_values", args=[skill.pk, city.pk])
    upload = SimpleUploadedFile("cities.csv", b"value,synonyms\nBoston,Beantown\nChicago,Windy City\n")
    html = text(web.post(url, {"file": upload, "mode": "add"}, **HX))
    assert "<html" not in html and f'id="row-{city.pk}"' in html and "2 values now (1 added)" in html
    city.refresh_from_db()
    assert city.data["values"][0] == {"value": "Boston", "synonyms": ["BOS", "Beantown"]}
    response = web.post(url, {"file": SimpleUploadedFile("c.txt", b"Denver\n"), "mode": "replace"})
    assert response.status_code == 302
    city.refresh_from_db()
    assert city.data["values"] == [{"value": "Denver", "synonyms": []}]
    html = text(web.post(url, {"file": SimpleUploadedFile("c.txt", b"Aspen,denver\n")}, **HX))
    assert "Nothing was imported" in html and escape("'denver' already stands for value 'Denver'") in html
    html = text(web.post(url, {"file": SimpleUploadedFile("c.txt", "Zürich".encode("latin-1"))}))
    assert "<html" in html and "not UTF-8" in html
    city.refresh_from_db()
    assert city.data["values"] == [{"value": "Denver", "synonyms": []}]


def test_big_catalogue_lists_its_count_and_first_values(web, skill):
    lines = "\n".join(f"value{i:05d},syn{i:05d}" for i in range(3000))
    city = row(skill, SLOT_TYPES, "flight")
    upload = SimpleUploadedFile("big.csv", lines.encode())
    web.post(reverse("skills:slot_type_values", args=[skill.pk, city.pk]), {"file": upload, "mode": "replace"})
    html = text(web.get(components_url(skill, "slot-types")))
    assert "3000 values" in html and "value00049" in html and "value00050" not in html
    assert "and 2950 more" in html


def test_create_api_with_argument_rows(web, skill):
    post = {
        "name": "BookFlight",
        "description": "Books it",
        "transactional": "on",
        "arguments-0-name": "flight",
        "arguments-0-slot_type": "flight",
        "arguments-0-required": "on",
        "arguments-0-default": "",
        # a gap (a removed row) and a blank row are both fine
        "arguments-5-name": "seats",
        "arguments-5-slot_type": "city",
        "arguments-5-default": "1",
        "arguments-6-name": "",
        "arguments-6-slot_type": "",
        "arguments-6-required": "on",
        "returns-0-name": "confirmation",
        "returns-0-slot_type": "flight",
    }
    response = web.post(create_url(skill, "apis"), post)
    assert response.status_code == 302
    assert row(skill, APIS, "BookFlight").data == {
        "name": "BookFlight",
        "description": "Books it",
        "transactional": True,
        "arguments": [
            {"name": "flight", "slot_type": "flight", "required": True, "default": None},
            {"name": "seats", "slot_type": "city", "required": False, "default": "1"},
        ],
        "returns": [{"name": "confirmation", "slot_type": "flight"}],
    }
    html = text(web.get(components_url(skill, "apis")))
    assert "transactional" in html and "default “1”" in html


def test_api_row_errors_are_next_to_the_offending_input(web, skill):
    post = {
        "name": "Book",
        "arguments-0-name": "flight",
        "arguments-0-slot_type": "flight",
        "arguments-0-required": "on",
        "arguments-0-default": "UA 100",
        "arguments-3-name": "when",
        "arguments-3-slot_type": "nope",
        "arguments-3-required": "on",
        "returns-0-name": "flight",
        "returns-0-slot_type": "flight",
    }
    html = text(web.post(create_url(skill, "apis"), post, **HX))
    assert "<html" not in html
    assert "only an optional argument can have a default" in field_block(html, "arguments-0-default")
    # rows are numbered 0.. again in the form shown back; "nope" is in the second one
    assert escape("unknown slot type 'nope'") in field_block(html, "arguments-1-slot_type")
    assert '<option value="nope" selected>nope</option>' in html
    assert 'value="UA 100"' in html and 'value="when"' in html
    # the shape is checked before the references: bad names first
    post |= {
        "arguments-4-name": "",
        "arguments-4-slot_type": "city",
        "returns-0-name": "2bad",
        "returns-0-slot_type": "",
    }
    html = text(web.post(create_url(skill, "apis"), post))
    assert "required" in field_block(html, "arguments-2-name")
    assert "must start with a letter" in field_block(html, "returns-0-name")
    assert "required" in field_block(html, "returns-0-slot_type")
    assert 'value="2bad"' in html
    assert not selectors.component_list(skill=skill, kind=APIS).filter(name="Book").exists()


def test_create_response_template_with_requested_arguments(web, skill):
    post = {
        "name": "request_origin",
        "act": "request_args",
        "api": "SearchFlights",
        "requested": ["origin"],
        "variants": "Where from?\n\n  Leaving from where?  \n",
    }
    html = text(web.post(create_url(skill, "response-templates"), post, **HX))
    assert "hx-swap-oob" in html
    assert row(skill, RESPONSE_TEMPLATES, "request_origin").data == {
        "name": "request_origin",
        "act": "request_args",
        "api": "SearchFlights",
        "requested": ["origin"],
        "arguments": [],
        "variants": ["Where from?", "Leaving from where?"],
    }


def test_response_template_errors(web, skill):
    post = {
        "name": "confirm",
        "act": "request_args",
        "api": "SearchFlights",
        "requested": ["origin", "seat"],
        "arguments-0-name": "flight",
        "arguments-0-slot_type": "flight",
        "variants": "Book {flight}?\nBook it?\nBook {flihgt}",
    }
    html = text(web.post(create_url(skill, "response-templates"), post, **HX))
    requested = fieldset_block(html, "new-form-requested")
    assert escape("'seat' is not an argument of API 'SearchFlights'") in requested
    assert 'value="seat" checked' in requested and 'value="date"' in requested
    variants = field_block(html, "variants")
    assert escape("“Book it?”: argument 'flight' has no {flight} placeholder") in variants
    assert "“Book {flihgt}”: placeholder {flihgt} is not an argument" in variants
    assert "Book {flight}?\nBook it?\nBook {flihgt}" in html
    html = text(web.post(create_url(skill, "response-templates"), {"name": "t", "act": "", "variants": ""}, **HX))
    assert "required" in field_block(html, "act")
    assert "write at least one variant" in field_block(html, "variants")
    html = text(
        web.post(create_url(skill, "response-templates"), {"name": "t", "act": "confirm_api", "variants": "Ok?"})
    )
    assert "a confirm_api template must name its API" in field_block(html, "api")
    html = text(
        web.post(
            create_url(skill, "response-templates"), {"name": "SearchFlights", "act": "goodbye", "variants": "Bye"}
        )
    )
    assert "already an API name" in field_block(html, "name")


def test_requested_field_lists_the_chosen_apis_arguments(web, skill):
    url = reverse("skills:requested_field", args=[skill.pk])
    html = text(web.get(url, {"form_id": "new-form", "api": "SearchFlights", "requested": ["date", "gone"]}, **HX))
    assert 'id="new-form-requested"' in html
    assert 'value="origin">' in html and 'value="date" checked' in html and 'value="gone" checked' in html
    html = text(web.get(url, {"form_id": "new-form", "api": ""}, **HX))
    assert "Choose an API" in html
    assert web.get(url, {"form_id": '"><script>'}).status_code == 404


def test_utterance_sets_create_and_errors(web, skill):
    post = {
        "name": "book",
        "act": "invoke",
        "api": "",
        "arguments-0-name": "origin",
        "arguments-0-slot_type": "city",
        "variants": "book it",
    }
    html = text(web.post(create_url(skill, "utterance-sets"), post, **HX))
    assert "must name the API it invokes" in field_block(html, "api")
    assert escape("argument 'origin' is used by no variant") in field_block(html, "arguments-0-name")
    post |= {"api": "SearchFlights", "variants": "book from {origin}\nbook it"}
    web.post(create_url(skill, "utterance-sets"), post, **HX)
    assert row(skill, UTTERANCE_SETS, "book").data["variants"] == ["book from {origin}", "book it"]


def test_edit_component_swaps_the_row_and_renames_references(web, skill):
    city = row(skill, SLOT_TYPES, "city")
    url = reverse("skills:component_edit", args=[skill.pk, "slot-types", city.pk])
    html = text(web.get(url, **HX))
    assert "<html" not in html and f'<section id="row-{city.pk}"' in html and 'value="city"' in html
    html = text(web.post(url, {"name": "town", "kind": "catalogue", "values": "Boston, BOS, Beantown"}, **HX))
    assert f'<article id="row-{city.pk}"' in html and "saved" in html and "Beantown" in html
    assert selectors.skill_to_spec(skill=skill).apis[0].arguments[0].slot_type == "town"
    html = text(web.post(url, {"name": "flight", "kind": "catalogue", "values": "Boston"}, **HX))
    assert f'<section id="row-{city.pk}"' in html and "duplicate slot type name" in field_block(html, "name")
    assert row(skill, SLOT_TYPES, "town").data["values"][0]["synonyms"] == ["BOS", "Beantown"]
    # without JavaScript: a full page, errors on it, then a redirect back to the list
    assert "<html" in text(web.get(url))
    html = text(web.post(url, {"name": "", "kind": "catalogue", "values": "Boston"}))
    assert "<html" in html and "required" in field_block(html, "name")
    response = web.post(url, {"name": "town", "kind": "catalogue", "values": "Boston"})
    assert response.status_code == 302 and response["Location"].endswith(f"#row-{city.pk}")
    html = text(web.get(reverse("skills:component", args=[skill.pk, "slot-types", city.pk]), **HX))
    assert f'<article id="row-{city.pk}"' in html


def test_edit_api_keeps_rows_after_an_error(web, skill):
    api = row(skill, APIS, "SearchFlights")
    url = reverse("skills:component_edit", args=[skill.pk, "apis", api.pk])
    html = text(web.get(url, **HX))
    assert 'name="arguments-0-name" type="text" value="origin"' in html
    assert 'name="arguments-2-name" type="text" value=""' in html  # the blank row
    assert "data-row-template" in html and "arguments-__i__-name" in html
    post = {
        "name": "SearchFlights",
        "arguments-0-name": "origin",
        "arguments-0-slot_type": "city",
        "arguments-0-required": "on",
    }
    html = text(web.post(url, post, **HX))
    # dropping "date" breaks the dialogue that binds it
    assert "date" in html and "Not saved" in html
    assert 'value="origin"' in html


def test_delete_component_and_refusal_in_place(web, skill):
    city = row(skill, SLOT_TYPES, "city")
    url = reverse("skills:component_delete", args=[skill.pk, "slot-types", city.pk])
    html = text(web.post(url, **HX))
    assert f'<article id="row-{city.pk}"' in html and "still in use" in html
    assert "API “SearchFlights” arguments[0].slot_type" in html
    html = text(web.post(url))
    assert "<html" in html and "It cannot be deleted" in html and "still in use" in html
    assert "Delete slot type" in text(web.get(url))
    unused = services.component_create(skill=skill, kind=SLOT_TYPES, data={"name": "unused", "builtin": "NUMBER"})
    url = reverse("skills:component_delete", args=[skill.pk, "slot-types", unused.pk])
    response = web.post(url, **HX)
    html = text(response)
    assert response.status_code == 200 and "<article" not in html
    assert 'id="items-summary" class="badge" hx-swap-oob="true">3 slot types' in html
    assert not models.SlotType.objects.filter(pk=unused.pk).exists()
    tpl = row(skill, RESPONSE_TEMPLATES, "offer_flight")
    response = web.post(reverse("skills:component_delete", args=[skill.pk, "response-templates", tpl.pk]))
    assert response.status_code == 200 and "still in use" in text(response)


def test_row_delete_button_asks_for_confirmation(web, skill):
    html = text(web.get(components_url(skill, "apis")))
    assert 'hx-confirm="Delete API “SearchFlights”?"' in html


# ------------------------------------------------------------- robustness


def test_user_text_is_escaped_everywhere(web, user):
    skill = services.skill_create(owner=user, name=XSS, description=XSS)
    services.component_create(
        skill=skill, kind=SLOT_TYPES, data={"name": "thing", "description": XSS, "values": [{"value": XSS}]}
    )
    services.component_create(
        skill=skill, kind=UTTERANCE_SETS, data={"name": "hi", "act": "goodbye", "variants": [XSS]}
    )
    pages = [
        reverse("skills:list"),
        reverse("skills:detail", args=[skill.pk]),
        components_url(skill, "slot-types"),
        components_url(skill, "utterance-sets"),
        reverse("skills:edit", args=[skill.pk]),
        reverse("skills:delete", args=[skill.pk]),
    ]
    for url in pages:
        html = text(web.get(url))
        assert XSS not in html, url
        assert escape(XSS) in html, url
    # what a user typed into a failing form comes back escaped too
    html = text(web.post(create_url(skill, "apis"), {"name": XSS, "arguments-0-name": XSS}, **HX))
    assert XSS not in html and escape(XSS) in html
    html = text(
        web.post(
            create_url(skill, "response-templates"),
            {"name": "t", "act": XSS, "api": XSS, "requested": [XSS], "variants": XSS},
        )
    )
    assert XSS not in html


@pytest.mark.parametrize(
    "slug,post",
    [
        ("slot-types", {}),
        ("slot-types", {"name": "x" * 100_000, "kind": "catalogue", "values": "v\n" * 20_000}),
        ("slot-types", {"name": "", "kind": "", "values": ',,,\n\n"\n'}),
        ("apis", {"name": "A", "transactional": "maybe", "arguments-0-required": "no", "arguments-0-name": "a"}),
        ("apis", {"name": "A", "arguments-999999-name": "a", "arguments-x-name": "b", "arguments-1-bogus": "c"}),
        ("response-templates", {"name": "t", "act": "123", "api": "??", "requested": ["", "a b"], "variants": "{"}),
        ("response-templates", {"name": ["a", "b"], "variants": "{0} {x!r} {y:>3}"}),
        ("utterance-sets", {"act": "invoke", "variants": "x" * 5000}),
    ],
)
def test_bad_input_gets_errors_not_a_crash(web, skill, slug, post):
    before = selectors.skill_export(skill=skill)
    for headers in ({}, HX):
        response = web.post(create_url(skill, slug), post, **headers)
        assert response.status_code == 200
        assert "errorlist" in text(response)
    assert selectors.skill_export(skill=skill) == before


def test_oversized_posts_and_files_are_refused_cleanly(web, skill, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    response = web.post(create_url(skill, "utterance-sets"), {"name": "u", "variants": "x" * 60_000})
    assert response.status_code == 400
    city = row(skill, SLOT_TYPES, "city")
    upload = SimpleUploadedFile("big.csv", b"v\n" * 30_000)
    html = text(web.post(reverse("skills:slot_type_values", args=[skill.pk, city.pk]), {"file": upload}, **HX))
    assert "more than the 48 KiB allowed" in html
    upload = SimpleUploadedFile("big.json", b" " * 60_000)
    assert "more than the 48 KiB allowed" in text(web.post(reverse("skills:import"), {"file": upload}))


def test_unknown_things_are_404(web, skill):
    api = row(skill, APIS, "SearchFlights")
    assert web.get(components_url(skill, "widgets")).status_code == 404
    assert web.get(components_url(skill, "sample-dialogues")).status_code == 404
    assert web.get(reverse("skills:component_edit", args=[skill.pk, "slot-types", api.pk + 10_000])).status_code == 404
    assert web.get(reverse("skills:detail", args=[99999999999999999999])).status_code == 404
    assert web.get(f"/skills/{skill.pk}/apis/99999999999999999999/edit/").status_code == 404
    assert web.post(reverse("skills:slot_type_values", args=[skill.pk, api.pk])).status_code == 404
    assert web.delete(reverse("skills:detail", args=[skill.pk])).status_code == 405


def test_another_users_skill_is_404_on_every_page(client, other_user, skill):
    client.force_login(other_user)
    city = row(skill, SLOT_TYPES, "city")
    before = selectors.skill_export(skill=skill)
    urls = [
        reverse("skills:detail", args=[skill.pk]),
        reverse("skills:edit", args=[skill.pk]),
        reverse("skills:delete", args=[skill.pk]),
        reverse("skills:export", args=[skill.pk]),
        reverse("skills:requested_field", args=[skill.pk]) + "?form_id=new-form",
        reverse("skills:slot_type_values", args=[skill.pk, city.pk]),
        *[components_url(skill, slug) for slug in SLUGS],
        *[create_url(skill, slug) for slug in SLUGS],
        reverse("skills:component", args=[skill.pk, "slot-types", city.pk]),
        reverse("skills:component_edit", args=[skill.pk, "slot-types", city.pk]),
        reverse("skills:component_delete", args=[skill.pk, "slot-types", city.pk]),
    ]
    for url in urls:
        for method in (client.get, client.post):
            response = method(url, {"name": "stolen", "values": "x"})
            assert response.status_code in (404, 405), (url, method)
            assert method(url, **HX).status_code in (404, 405)
    assert selectors.skill_export(skill=skill) == before
    assert "Mini" not in text(client.get(reverse("skills:list")))
