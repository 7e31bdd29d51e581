import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from studio.skills import models, selectors, services
from studio.skills.components import BY_SLUG, KINDS, SLOT_TYPES

from .conftest import PASSWORD
from .factories import SkillFactory


def url(name: str, **kwargs) -> str:
    return reverse(f"api:{name}", kwargs=kwargs)


def errors(response) -> list[dict[str, str]]:
    assert response.status_code == 400, response.content
    return response.json()["errors"]


def first(skill, slug: str):
    return selectors.component_list(skill=skill, kind=BY_SLUG[slug]).first()


# One new component per kind (valid in the mini skill), a replacement, a partial change, and an invalid body
# with every error it must produce.
CASES = {
    "slot-types": {
        "new": {"name": "airline", "values": [{"value": "United", "synonyms": ["UA"]}]},
        "put": {"name": "airline", "description": "Carriers", "values": [{"value": "Delta"}]},
        "patch": {"description": "Who flies"},
        "bad": {"name": "airline", "builtin": "DATE", "values": [{"value": "United"}, {"value": "United"}]},
        "errors": [
            {"path": "values", "message": "a built-in DATE slot type has no catalogue values"},
            {"path": "values[1].value", "message": "duplicate value 'United'"},
        ],
    },
    "apis": {
        "new": {"name": "BookFlight", "arguments": [{"name": "flight", "slot_type": "flight"}], "transactional": True},
        "put": {"name": "BookFlight", "description": "Books it", "arguments": [], "transactional": True},
        "patch": {"transactional": False},
        "bad": {
            "name": "BookFlight",
            "arguments": [
                {"name": "flight", "slot_type": "nope"},
                {"name": "seat", "slot_type": "flight", "default": "1A"},
            ],
        },
        "errors": [
            {"path": "arguments[0].slot_type", "message": "unknown slot type 'nope'"},
            {"path": "arguments[1].default", "message": "only an optional argument can have a default"},
        ],
    },
    "response-templates": {
        "new": {
            "name": "notify_found",
            "act": "notify_success",
            "api": "SearchFlights",
            "arguments": [{"name": "flight", "slot_type": "flight"}],
            "variants": ["Found {flight}."],
        },
        "put": {"name": "notify_found", "act": "inform", "variants": ["Done."]},
        "patch": {"variants": ["All done.", "Finished."]},
        "bad": {
            "name": "notify_found",
            "act": "notify_success",
            "arguments": [{"name": "flight", "slot_type": "flight"}],
            "variants": ["Found it."],
        },
        "errors": [
            {"path": "api", "message": "a notify_success template must name its API"},
            {"path": "variants[0]", "message": "argument 'flight' has no {flight} placeholder"},
        ],
    },
    "utterance-sets": {
        "new": {
            "name": "give_date",
            "act": "inform",
            "api": "SearchFlights",
            "arguments": [{"name": "date", "slot_type": "date"}],
            "variants": ["on {date}", "{date} please"],
        },
        "put": {"name": "give_date", "act": "affirm", "variants": ["yes"]},
        "patch": {"variants": ["yes please", "sure"]},
        "bad": {
            "name": "give_date",
            "act": "inform",
            "arguments": [{"name": "date", "slot_type": "date"}],
            "variants": ["on {when}"],
        },
        "errors": [
            {"path": "variants[0]", "message": "placeholder {when} is not an argument"},
            {"path": "arguments[0].name", "message": "argument 'date' is used by no variant"},
        ],
    },
    "sample-dialogues": {
        "new": {
            "name": "d2",
            "test": True,
            "turns": [
                {
                    "speaker": "user",
                    "text": "fly from Boston tomorrow",
                    "spans": [
                        {"id": "e1", "start": 9, "end": 15, "slot_type": "city", "text": "Boston"},
                        {"id": "e2", "start": 16, "end": 24, "slot_type": "date", "text": "tomorrow"},
                    ],
                },
                {
                    "speaker": "system",
                    "actions": [
                        {
                            "kind": "api",
                            "name": "SearchFlights",
                            "id": "c1",
                            "arguments": {"origin": "e1", "date": "e2"},
                        },
                        {"kind": "response", "name": "offer_flight", "arguments": {"flight": "c1.flight"}},
                    ],
                },
            ],
        },
        "put": {"name": "d2", "turns": [{"speaker": "user", "text": "hello"}]},
        "patch": {"test": True},
        "bad": {
            "name": "d2",
            "turns": [
                {
                    "speaker": "user",
                    "text": "fly from Boston",
                    "spans": [{"id": "e1", "start": 9, "end": 15, "slot_type": "town", "text": "Boston"}],
                },
                {
                    "speaker": "system",
                    "actions": [{"kind": "response", "name": "offer_flight", "arguments": {"flight": "e1"}}],
                },
            ],
        },
        "errors": [
            {"path": "turns[0].spans[0].slot_type", "message": "unknown slot type 'town'"},
            {
                "path": "turns[1].actions[0].arguments.flight",
                "message": "entity e1 is a town, but 'flight' takes a flight",
            },
        ],
    },
}


def normalized(slug: str, body: dict) -> dict:
    """What the spec makes of a body: every field, defaults filled in."""
    return BY_SLUG[slug].spec.model_validate(body).model_dump(mode="json")


def test_cases_cover_every_kind():
    assert set(CASES) == {k.slug for k in KINDS}


# --- auth ---------------------------------------------------------------------------------------


def test_unauthenticated_requests_are_refused(skill):
    client = APIClient()
    assert client.get(url("skill-list")).status_code == 401
    assert client.get(url("skill-detail", skill_id=skill.pk)).status_code == 401
    assert client.post(url("slot-types-list", skill_id=skill.pk), {"name": "x"}, format="json").status_code == 401
    assert client.get(url("skill-export", skill_id=skill.pk)).status_code == 401
    assert SLOT_TYPES.model.objects.filter(skill=skill, name="x").count() == 0


def test_token_is_issued_for_username_and_password_and_authenticates(user, skill):
    client = APIClient()
    response = client.post(url("token"), {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listing = client.get(url("skill-list")).json()
    assert [s["id"] for s in listing["results"]] == [skill.pk]

    bad = APIClient().post(url("token"), {"username": user.username, "password": "wrong"}, format="json")
    assert errors(bad) == [{"path": "", "message": "Unable to log in with provided credentials."}]
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get(url("skill-list")).status_code == 401


def test_session_auth_works_and_unsafe_requests_need_csrf(user, skill):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(url("skill-detail", skill_id=skill.pk)).status_code == 200
    response = client.patch(url("skill-detail", skill_id=skill.pk), {"name": "Hijacked"}, format="json")
    assert response.status_code == 403
    skill.refresh_from_db()
    assert skill.name == "Mini"


# --- skills -------------------------------------------------------------------------------------


def test_skill_crud(api, user):
    response = api.post(url("skill-list"), {"name": "  Travel ", "description": "Trips"}, format="json")
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "Travel"
    assert created["description"] == "Trips"
    assert created["counts"] == {k.field: 0 for k in KINDS}
    skill_url = url("skill-detail", skill_id=created["id"])
    assert models.Skill.objects.get(pk=created["id"]).owner == user

    assert api.get(skill_url).json() == created

    patched = api.patch(skill_url, {"description": "Journeys"}, format="json").json()
    assert (patched["name"], patched["description"]) == ("Travel", "Journeys")

    put = api.put(skill_url, {"name": "Flights"}, format="json").json()
    assert (put["name"], put["description"]) == ("Flights", "")

    assert api.delete(skill_url).status_code == 204
    assert api.get(skill_url).status_code == 404
    assert not models.Skill.objects.filter(pk=created["id"]).exists()


def test_skill_list_shows_counts(api, skill):
    listing = api.get(url("skill-list")).json()
    assert listing["count"] == 1
    assert listing["results"][0]["counts"] == {
        "slot_types": 3,
        "apis": 1,
        "response_templates": 2,
        "utterance_sets": 1,
        "sample_dialogues": 1,
    }


def test_skill_input_errors_name_the_field(api, skill):
    assert errors(api.post(url("skill-list"), {"name": "   "}, format="json")) == [
        {"path": "name", "message": "a skill needs a name"}
    ]
    assert errors(api.post(url("skill-list"), {"description": "no name"}, format="json")) == [
        {"path": "name", "message": "This field is required."}
    ]
    too_long = errors(api.patch(url("skill-detail", skill_id=skill.pk), {"name": "x" * 201}, format="json"))
    assert too_long == [{"path": "name", "message": "at most 200 characters"}]
    assert models.Skill.objects.filter(owner=skill.owner).count() == 1
    skill.refresh_from_db()
    assert skill.name == "Mini"


def test_malformed_json_is_a_400_not_a_500(api, skill):
    for target in (url("skill-list"), url("apis-list", skill_id=skill.pk)):
        response = api.post(target, data='{"name": ', content_type="application/json")
        [error] = errors(response)
        assert error["path"] == ""
        assert error["message"].startswith("JSON parse error")
    assert models.Skill.objects.count() == 1
    assert selectors.component_list(skill=skill, kind=BY_SLUG["apis"]).count() == 1


def test_skill_list_is_paginated(api, user):
    SkillFactory.create_batch(55, owner=user)
    page1 = api.get(url("skill-list")).json()
    assert page1["count"] == 55
    assert len(page1["results"]) == 50
    assert page1["previous"] is None
    page2 = api.get(page1["next"]).json()
    assert len(page2["results"]) == 5
    assert page2["next"] is None
    ids = [s["id"] for s in page1["results"] + page2["results"]]
    assert sorted(ids) == sorted(models.Skill.objects.filter(owner=user).values_list("pk", flat=True))
    assert api.get(url("skill-list"), {"page": 9}).status_code == 404


def test_validation_endpoint(api, skill):
    body = api.get(url("skill-validation", skill_id=skill.pk)).json()
    errors_, warnings = selectors.skill_validation(skill=skill)
    assert body == {
        "valid": True,
        "errors": [],
        "warnings": [{"path": w.path, "message": w.message} for w in warnings],
    }
    assert errors_ == []
    empty = api.post(url("skill-list"), {"name": "Empty"}, format="json").json()
    services.component_create(skill=models.Skill.objects.get(pk=empty["id"]), kind=SLOT_TYPES, data={"name": "town"})
    body = api.get(url("skill-validation", skill_id=empty["id"])).json()
    assert body["valid"] is True
    assert {"path": "slot_types[0].values", "message": "the catalogue is empty"} in body["warnings"]


# --- components ---------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", list(CASES))
def test_component_crud(api, skill, slug):
    case = CASES[slug]
    kind = BY_SLUG[slug]
    list_url = url(f"{slug}-list", skill_id=skill.pk)
    before = selectors.component_list(skill=skill, kind=kind).count()

    response = api.post(list_url, {**case["new"], "id": 999, "position": 0}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created == {"id": created["id"], "position": before, **normalized(slug, case["new"])}
    assert created["id"] != 999
    detail_url = url(f"{slug}-detail", skill_id=skill.pk, pk=created["id"])

    listing = api.get(list_url).json()
    assert listing["count"] == before + 1
    assert listing["results"][-1] == created
    assert api.get(detail_url).json() == created

    put = api.put(detail_url, case["put"], format="json")
    assert put.status_code == 200, put.content
    assert put.json() == {"id": created["id"], "position": before, **normalized(slug, case["put"])}

    patched = api.patch(detail_url, case["patch"], format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json() == {
        "id": created["id"],
        "position": before,
        **normalized(slug, {**case["put"], **case["patch"]}),
    }
    assert selectors.skill_validation(skill=skill)[0] == []

    assert api.delete(detail_url).status_code == 204
    assert api.get(detail_url).status_code == 404
    assert selectors.component_list(skill=skill, kind=kind).count() == before


@pytest.mark.parametrize("slug", list(CASES))
def test_invalid_component_lists_every_error_with_its_path_and_saves_nothing(api, skill, slug):
    case = CASES[slug]
    before = selectors.skill_export(skill=skill)
    assert errors(api.post(url(f"{slug}-list", skill_id=skill.pk), case["bad"], format="json")) == case["errors"]
    assert selectors.skill_export(skill=skill) == before

    # The same body replacing an existing component is refused the same way (and references to the replaced
    # component, now missing, are reported after the component's own errors, with absolute paths).
    row = first(skill, slug)
    response = api.put(url(f"{slug}-detail", skill_id=skill.pk, pk=row.pk), case["bad"], format="json")
    problems = errors(response)
    assert problems[: len(case["errors"])] == case["errors"]
    assert all(p["path"].split("[")[0] in {k.field for k in KINDS} for p in problems[len(case["errors"]) :])
    assert selectors.skill_export(skill=skill) == before


def test_shape_errors_name_each_field(api, skill):
    body = {"name": "Book Flight", "arguments": [{"name": "flight"}], "colour": "red", "transactional": "maybe"}
    assert errors(api.post(url("apis-list", skill_id=skill.pk), body, format="json")) == [
        {"path": "name", "message": "must start with a letter and contain only letters, digits and _"},
        {"path": "arguments[0].slot_type", "message": "Field required"},
        {"path": "transactional", "message": "Input should be a valid boolean, unable to interpret input"},
        {"path": "colour", "message": "unknown field"},
    ]
    assert errors(api.post(url("apis-list", skill_id=skill.pk), [1, 2], format="json")) == [
        {"path": "", "message": "Input should be a valid dictionary or instance of Api"}
    ]
    row = first(skill, "apis")
    assert errors(api.patch(url("apis-detail", skill_id=skill.pk, pk=row.pk), [1], format="json")) == [
        {"path": "", "message": "expected a JSON object"}
    ]


def test_duplicate_name_is_refused(api, skill):
    response = api.post(url("slot-types-list", skill_id=skill.pk), {"name": "city", "builtin": "DATE"}, format="json")
    assert errors(response) == [{"path": "name", "message": "duplicate slot type name 'city'"}]


def test_patch_rename_is_applied_to_every_reference(api, skill):
    city = first(skill, "slot-types")
    response = api.patch(url("slot-types-detail", skill_id=skill.pk, pk=city.pk), {"name": "town"}, format="json")
    assert response.status_code == 200
    assert response.json()["values"] == city.data["values"]
    api_row = api.get(url("apis-list", skill_id=skill.pk)).json()["results"][0]
    assert api_row["arguments"][0] == {"name": "origin", "slot_type": "town", "required": True, "default": None}


def test_deleting_a_component_in_use_is_refused_with_the_references(api, skill):
    city = first(skill, "slot-types")
    response = api.delete(url("slot-types-detail", skill_id=skill.pk, pk=city.pk))
    problems = errors(response)
    assert problems[0] == {"path": "", "message": "slot type 'city' is still in use:"}
    assert {"path": "apis[0].arguments[0].slot_type", "message": "unknown slot type 'city'"} in problems
    assert {
        "path": "sample_dialogues[0].turns[0].spans[0].slot_type",
        "message": "unknown slot type 'city'",
    } in problems
    assert api.get(url("slot-types-detail", skill_id=skill.pk, pk=city.pk)).status_code == 200

    search = first(skill, "apis")
    problems = errors(api.delete(url("apis-detail", skill_id=skill.pk, pk=search.pk)))
    assert problems[0] == {"path": "", "message": "API 'SearchFlights' is still in use:"}
    assert {"path": "response_templates[1].api", "message": "unknown API 'SearchFlights'"} in problems


def test_component_list_is_paginated(api, skill):
    for i in range(52):
        services.component_create(skill=skill, kind=SLOT_TYPES, data={"name": f"t{i}", "builtin": "NUMBER"})
    page1 = api.get(url("slot-types-list", skill_id=skill.pk)).json()
    assert page1["count"] == 55
    assert len(page1["results"]) == 50
    page2 = api.get(page1["next"]).json()
    assert [r["name"] for r in page2["results"]] == ["t47", "t48", "t49", "t50", "t51"]
    assert [r["position"] for r in page1["results"][:4]] == [0, 1, 2, 3]


# --- export and import --------------------------------------------------------------------------


def test_export_is_the_skill_spec_file(api, skill):
    response = api.get(url("skill-export", skill_id=skill.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="mini.skill.json"'
    assert response.content.decode() == selectors.skill_export(skill=skill)


def test_export_import_round_trip_over_http(api, user, skill):
    exported = api.get(url("skill-export", skill_id=skill.pk)).content
    response = api.post(url("skill-import"), data=exported, content_type="application/json")
    assert response.status_code == 201, response.content
    imported = response.json()
    assert imported["name"] == "Mini"
    assert imported["counts"] == selectors.skill_counts(skill=skill)
    assert imported["id"] != skill.pk
    assert api.get(url("skill-export", skill_id=imported["id"])).content == exported

    upload = SimpleUploadedFile("mini.skill.json", exported, content_type="application/json")
    response = api.post(url("skill-import"), {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    assert api.get(url("skill-export", skill_id=response.json()["id"])).content == exported
    assert models.Skill.objects.filter(owner=user).count() == 3


def _import_errors(api, body: bytes) -> list[dict[str, str]]:
    count = models.Skill.objects.count()
    as_json = errors(api.post(url("skill-import"), data=body, content_type="application/json"))
    upload = SimpleUploadedFile("bad.json", body, content_type="application/json")
    as_file = errors(api.post(url("skill-import"), {"file": upload}, format="multipart"))
    assert as_json == as_file
    assert models.Skill.objects.count() == count
    return as_json


def test_bad_import_files_are_refused_with_paths_and_create_nothing(api, skill, mini_spec):
    [error] = _import_errors(api, b'{"name": "Mini", ')
    assert error["path"] == ""
    assert error["message"].startswith("not valid JSON")

    spec = json.loads(json.dumps(mini_spec))
    spec["slot_types"][0]["colour"] = "red"
    spec["apis"][0]["arguments"][1]["required"] = "sometimes"
    assert _import_errors(api, json.dumps(spec).encode()) == [
        {"path": "slot_types[0].colour", "message": "unknown field"},
        {
            "path": "apis[0].arguments[1].required",
            "message": "Input should be a valid boolean, unable to interpret input",
        },
    ]

    spec = json.loads(json.dumps(mini_spec))
    spec["apis"][0]["arguments"][0]["slot_type"] = "town"
    spec["sample_dialogues"][0]["turns"][0]["spans"][0]["end"] = 99
    assert _import_errors(api, json.dumps(spec).encode()) == [
        {"path": "apis[0].arguments[0].slot_type", "message": "unknown slot type 'town'"},
        {"path": "sample_dialogues[0].turns[0].spans[0].end", "message": "span end 99 is beyond the text's length 15"},
        {
            "path": "sample_dialogues[0].turns[3].actions[0].arguments.origin",
            "message": "entity e1 is a city, but 'origin' takes a town",
        },
    ]

    assert _import_errors(api, b"[]") == [{"path": "", "message": "a skill must be a JSON object"}]
    assert errors(api.post(url("skill-import"), {}, format="multipart")) == [
        {"path": "file", "message": "No file was submitted."}
    ]


def test_oversized_bodies_are_refused(api, skill, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    exported = selectors.skill_export(skill=skill)
    assert len(exported) > 1000
    response = api.post(url("skill-import"), data=exported, content_type="application/json")
    assert response.status_code == 413
    assert models.Skill.objects.count() == 1


# --- catalogue upload ---------------------------------------------------------------------------


def test_bulk_catalogue_upload_of_thousands_of_values_as_csv(api, skill):
    city = first(skill, "slot-types")
    lines = ["value,synonyms"] + [f"City {i},C{i},Town {i}" for i in range(5000)] + ["Boston,Beantown"]
    values_url = url("slot-type-values", skill_id=skill.pk, pk=city.pk)
    response = api.post(values_url, data="\n".join(lines), content_type="text/csv")
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert (body["id"], body["name"]) == (city.pk, "city")
    assert len(body["values"]) == 5001
    assert body["values"][0] == {"value": "Boston", "synonyms": ["BOS", "Beantown"]}
    assert body["values"][4321] == {"value": "City 4320", "synonyms": ["C4320", "Town 4320"]}
    city.refresh_from_db()
    assert len(city.data["values"]) == 5001

    replaced = api.post(values_url + "?replace=true", data="Paris\nRome,Roma\n", content_type="text/csv").json()
    assert replaced["values"] == [{"value": "Paris", "synonyms": []}, {"value": "Rome", "synonyms": ["Roma"]}]


def test_catalogue_upload_formats(api, skill):
    city = first(skill, "slot-types")
    values_url = url("slot-type-values", skill_id=skill.pk, pk=city.pk)
    body = api.post(values_url, {"text": "Denver,DEN"}, format="json").json()
    assert [v["value"] for v in body["values"]] == ["Boston", "Denver"]
    body = api.post(values_url, data="\ufeffParis,PAR".encode(), content_type="text/csv; charset=utf-8").json()
    assert body["values"][-1] == {"value": "Paris", "synonyms": ["PAR"]}
    body = api.post(values_url, data="Zürich".encode("latin-1"), content_type="text/plain; charset=latin-1").json()
    assert body["values"][-1] == {"value": "Zürich", "synonyms": []}
    upload = SimpleUploadedFile("cities.csv", "\ufeffLyon,LYS\n".encode(), content_type="text/csv")
    body = api.post(values_url, {"file": upload, "replace": "true"}, format="multipart").json()
    assert body["values"] == [{"value": "Lyon", "synonyms": ["LYS"]}]


def test_catalogue_upload_errors(api, skill):
    city = first(skill, "slot-types")
    values_url = url("slot-type-values", skill_id=skill.pk, pk=city.pk)
    before = dict(city.data)
    assert errors(api.post(values_url, data="Paris,BOS\n", content_type="text/csv")) == [
        {"path": "values[1].synonyms[0]", "message": "'BOS' already stands for value 'Boston'"}
    ]
    assert errors(api.post(values_url, {"replace": True}, format="json")) == [
        {"path": "text", "message": "This field is required."}
    ]
    assert errors(api.post(values_url + "?replace=perhaps", data="Paris", content_type="text/csv")) == [
        {"path": "replace", "message": "Must be a valid boolean."}
    ]
    assert errors(api.post(values_url, data=b"Z\xfcrich", content_type="text/csv")) == [
        {"path": "", "message": "the body is not utf-8 text"}
    ]
    upload = SimpleUploadedFile("cities.csv", b"\xff\xfeP\x00", content_type="text/csv")
    assert errors(api.post(values_url, {"file": upload}, format="multipart")) == [
        {"path": "file", "message": "not a UTF-8 text file"}
    ]
    city.refresh_from_db()
    assert city.data == before
    api_row = first(skill, "apis")
    # Only slot types have a catalogue.
    assert (
        api.post(f"/api/skills/{skill.pk}/apis/{api_row.pk}/values/", data="x", content_type="text/csv").status_code
        == 404
    )


# --- isolation ----------------------------------------------------------------------------------


def _component_endpoints(skill_id: int, components: dict[str, int]) -> list[tuple[str, str, object]]:
    calls: list[tuple[str, str, object]] = [
        ("post", url("slot-type-values", skill_id=skill_id, pk=components["slot-types"]), {"text": "Paris"}),
    ]
    for slug in CASES:
        detail = url(f"{slug}-detail", skill_id=skill_id, pk=components[slug])
        calls += [("get", detail, None), ("put", detail, CASES[slug]["new"]), ("patch", detail, {"name": "stolen"})]
        calls += [("delete", detail, None)]
    return calls


def _every_endpoint(skill_id: int, components: dict[str, int]) -> list[tuple[str, str, object]]:
    calls: list[tuple[str, str, object]] = [
        ("get", url("skill-detail", skill_id=skill_id), None),
        ("put", url("skill-detail", skill_id=skill_id), {"name": "Mine now"}),
        ("patch", url("skill-detail", skill_id=skill_id), {"name": "Mine now"}),
        ("delete", url("skill-detail", skill_id=skill_id), None),
        ("get", url("skill-validation", skill_id=skill_id), None),
        ("get", url("skill-export", skill_id=skill_id), None),
    ]
    for slug in CASES:
        calls += [
            ("get", url(f"{slug}-list", skill_id=skill_id), None),
            ("post", url(f"{slug}-list", skill_id=skill_id), CASES[slug]["new"]),
        ]
    return calls + _component_endpoints(skill_id, components)


def test_another_users_skill_and_components_are_404_everywhere(api, skill, other_user, mini_spec):
    theirs = services.skill_import(owner=other_user, data=mini_spec)
    before = selectors.skill_export(skill=theirs)
    mine_before = selectors.skill_export(skill=skill)
    their_components = {slug: first(theirs, slug).pk for slug in CASES}

    # Their skill; then their components reached through my own skill's URLs.
    calls = _every_endpoint(theirs.pk, their_components) + _component_endpoints(skill.pk, their_components)
    assert len(calls) == 6 + 2 * 5 + 2 * (1 + 4 * 5)
    for method, target, body in calls:
        response = getattr(api, method)(target, body, format="json")
        assert response.status_code == 404, (method, target, response.status_code)

    assert selectors.skill_export(skill=theirs) == before
    assert selectors.skill_export(skill=skill) == mine_before
    assert [s["id"] for s in api.get(url("skill-list")).json()["results"]] == [skill.pk]


# --- schema -------------------------------------------------------------------------------------


def test_openapi_schema_documents_every_endpoint_and_the_spec_bodies(api, tmp_path):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for slug in CASES:
        assert set(paths[f"/api/skills/{{skill_id}}/{slug}/"]) == {"get", "post"}
        assert set(paths[f"/api/skills/{{skill_id}}/{slug}/{{id}}/"]) == {"get", "put", "patch", "delete"}
    for p in (
        "/api/skills/",
        "/api/skills/import/",
        "/api/skills/{skill_id}/export/",
        "/api/skills/{skill_id}/validation/",
        "/api/skills/{skill_id}/slot-types/{id}/values/",
        "/api/auth/token/",
    ):
        assert p in paths
    components = schema["components"]["schemas"]
    assert set(components["ApiRequest"]["properties"]) == {
        "name",
        "description",
        "arguments",
        "returns",
        "transactional",
    }
    assert {"id", "position", "turns", "test"} <= set(components["SampleDialogueComponent"]["properties"])
    assert "required" not in components["PatchedSlotTypeRequest"]
    assert components["Errors"]["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/Issue"}

    # The same check as `manage.py spectacular --validate --fail-on-warn`.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
