"""The studio's "Import from SGD" page and its service."""

from __future__ import annotations

import json
import re
from functools import cache

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studio.skills import models, selectors
from studio.skills.sgd_services import SgdImportProblem, SgdUpload, skill_import_sgd

from .conftest import SGD_DIR, needs_sgd

SGD = SGD_DIR
URL = "/skills/import-sgd/"

pytestmark = needs_sgd()


@cache
def schema_text() -> str:
    return (SGD / "schema.json").read_text()


@cache
def subset_text(service: str = "RentalCars_1", n: int = 15) -> str:
    """The first ``n`` dialogues of a service: a small dialogues file."""
    return json.dumps(json.loads((SGD / f"dialogues_{service}.json").read_text())[:n])


def files(schema: str | None = None, *dialogues: tuple[str, str]) -> dict[str, object]:
    data: dict[str, object] = {}
    if schema is not None:
        data["schema"] = SimpleUploadedFile("schema.json", schema.encode(), "application/json")
    if dialogues:
        data["dialogues"] = [SimpleUploadedFile(name, text.encode(), "application/json") for name, text in dialogues]
    return data


def post(web, *, htmx: bool = False, **fields):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return web.post(URL, fields, **headers)


def test_url_and_link_from_the_skill_list(web):
    assert reverse("skills:import_sgd") == URL
    page = web.get(reverse("skills:list")).content.decode()
    assert f'href="{URL}"' in page


def test_login_required(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response["Location"]
    response = client.post(URL, {})
    assert response.status_code == 302
    assert not models.Skill.objects.exists()


def test_the_form(web):
    page = web.get(URL).content.decode()
    assert 'name="schema"' in page and 'name="dialogues"' in page and "multiple" in page
    assert 'name="service"' in page and 'name="samples"' in page and 'value="10"' in page


def test_import_creates_a_skill_and_shows_the_report(web, user):
    response = post(
        web,
        service="RentalCars_1",
        samples="5",
        seed="",
        **files(schema_text(), ("dialogues_RentalCars_1.json", subset_text())),
    )
    assert response.status_code == 302 and response["Location"] == URL
    skill = models.Skill.objects.get(owner=user)
    assert skill.name == "RentalCars_1"
    spec = selectors.skill_to_spec(skill=skill)
    assert len(spec.sample_dialogues) == 5 and spec.apis and spec.response_templates and spec.utterance_sets
    errors, _ = selectors.skill_validation(skill=skill)
    assert errors == []

    page = web.get(URL).content.decode()  # the report, once
    assert reverse("skills:detail", args=[skill.pk]) in page
    assert "converted to gold" in page and "dialogues given" in page
    assert "only in evaluation dialogues" not in page  # nothing of theirs is added to the skill
    assert '<div class="num">15</div>' in page and '<div class="num">5</div>' in page
    assert reverse("skills:detail", args=[skill.pk]) not in web.get(URL).content.decode()


def test_the_stored_skill_holds_no_system_text_of_the_other_dialogues(user):
    skill, report = skill_import_sgd(
        owner=user,
        schema=SgdUpload("schema.json", schema_text()),
        dialogues=[SgdUpload("d.json", subset_text())],
        service="RentalCars_1",
        samples=5,
    )
    spec = selectors.skill_to_spec(skill=skill)
    raw = json.loads(subset_text())
    other = [t["utterance"] for d in raw if d["dialogue_id"] not in report.samples for t in d["turns"]]
    in_samples = {a.name for d in spec.sample_dialogues for turn in d.turns for a in getattr(turn, "actions", [])}
    generated = [t for t in spec.response_templates if t.name not in in_samples]
    assert len(generated) == report.templates_without_sample_text > 0
    for template in generated:
        [variant] = template.variants
        pattern = re.compile(re.sub(r"\\\{\w+\\\}", "(.+?)", re.escape(variant)))
        assert not any(pattern.fullmatch(text) for text in other), variant


def test_htmx_import_answers_with_the_fragment(web, user):
    response = post(
        web,
        htmx=True,
        service="",  # the schema below has one service: it is taken
        samples="3",
        seed="7",
        **files(
            json.dumps([s for s in json.loads(schema_text()) if s["service_name"] == "RentalCars_1"]),
            ("a.json", subset_text()),
        ),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.startswith('<section class="card" id="sgd-import">') and "<html" not in page
    skill = models.Skill.objects.get(owner=user)
    assert reverse("skills:detail", args=[skill.pk]) in page
    assert "Report" in page


def test_several_dialogues_files_are_read_together(web, user):
    first = json.loads(subset_text())
    response = post(
        web,
        htmx=True,
        service="RentalCars_1",
        samples="2",
        **files(schema_text(), ("one.json", json.dumps(first[:6])), ("two.json", json.dumps(first[6:]))),
    )
    assert response.status_code == 200
    assert '<div class="num">15</div>' in response.content.decode()
    assert models.Skill.objects.filter(owner=user).count() == 1


@pytest.mark.parametrize(
    ("fields", "schema", "field", "message"),
    [
        ({"service": "RentalCars_1", "samples": "5"}, None, "schema", "choose the schema.json file"),
        ({"service": "RentalCars_1", "samples": "5"}, "{oops", "schema", "schema.json is not valid JSON"),
        ({"service": "RentalCars_1", "samples": "5"}, "[1, 2]", "schema", "list of SGD services"),
        ({"service": "Nope_9", "samples": "5"}, "", "service", "&#x27;Nope_9&#x27; is not in schema.json; it has"),
        ({"service": "", "samples": "5"}, "", "service", "choose one of the schema&#x27;s services"),
        ({"service": "RentalCars_1", "samples": "many"}, "", "samples", "&#x27;many&#x27; is not a whole number"),
        ({"service": "RentalCars_1", "samples": "-1"}, "", "samples", "must be between 0 and"),
        ({"service": "RentalCars_1", "samples": "5", "seed": "x"}, "", "seed", "is not a whole number"),
        ({"service": "Homes_1", "samples": "5"}, "", "dialogues", "none of the 15 given dialogues"),
    ],
)
def test_bad_input_is_reported_in_place_and_nothing_is_imported(web, user, fields, schema, field, message):
    uploads = files(schema_text() if schema == "" else schema, ("d.json", subset_text()))
    response = post(web, htmx=True, **fields, **uploads)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert f'id="sgd-{field}"' in page and "Nothing was imported" in page
    assert 'aria-invalid="true"' in page
    # What was typed is kept.
    assert f'value="{fields["service"]}"' in page
    assert not models.Skill.objects.filter(owner=user).exists()


def test_bad_dialogues_files(web, user):
    page = post(web, service="RentalCars_1", samples="5", **files(schema_text())).content.decode()
    assert "choose one or more dialogues files" in page
    page = post(
        web, service="RentalCars_1", samples="5", **files(schema_text(), ("broken.json", "[{"))
    ).content.decode()
    assert "broken.json is not valid JSON" in page
    page = post(
        web, service="RentalCars_1", samples="5", **files(schema_text(), ("obj.json", '{"a": 1}'))
    ).content.decode()
    assert "obj.json: " in page and "list of dialogues" in page
    latin = {"dialogues": [SimpleUploadedFile("latin.json", '["caf\xe9"]'.encode("latin-1"))]}
    page = post(web, service="RentalCars_1", samples="5", **files(schema_text()), **latin).content.decode()
    assert "latin.json is not UTF-8 text" in page
    assert not models.Skill.objects.filter(owner=user).exists()


def test_size_limits(web, user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    big = files(schema_text(), ("big.json", subset_text()))
    page = post(web, service="RentalCars_1", samples="5", **big).content.decode()
    assert "big.json is" in page and "more than the 19 KiB allowed" in page
    dialogues = json.loads(subset_text())
    parts = [(f"part{i}.json", json.dumps([d])) for i, d in enumerate(dialogues)]
    assert all(len(text) < 20_000 for _, text in parts) and sum(len(text) for _, text in parts) > 80_000
    page = post(web, service="RentalCars_1", samples="5", **files(schema_text(), *parts)).content.decode()
    assert "the files add up to more than the 78 KiB allowed" in page
    assert not models.Skill.objects.filter(owner=user).exists()


def test_the_page_escapes_what_it_shows(web, user):
    page = post(web, htmx=True, service="<b>x</b>", samples="5", **files(schema_text(), ("d.json", subset_text())))
    text = page.content.decode()
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text


def test_service_function(user, other_user):
    skill, report = skill_import_sgd(
        owner=user,
        schema=SgdUpload("schema.json", schema_text()),
        dialogues=[SgdUpload("d.json", subset_text())],
        service="RentalCars_1",
        samples=4,
        seed=None,
    )
    assert skill.owner == user
    assert report.converted + report.skipped == 15 - 4
    assert selectors.skill_list(user=other_user).count() == 0
    with pytest.raises(SgdImportProblem) as exc:
        skill_import_sgd(
            owner=user,
            schema=SgdUpload("schema.json", schema_text()),
            dialogues=[],
            service="RentalCars_1",
            samples=4,
        )
    assert exc.value.field == "dialogues"
    assert models.Skill.objects.filter(owner=user).count() == 1
