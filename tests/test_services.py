import pytest

import skillspec
from studio.skills import selectors, services
from studio.skills.components import APIS, SAMPLE_DIALOGUES, SLOT_TYPES


def test_import_export_round_trip_is_lossless(user, mini_spec):
    skill = services.skill_import(owner=user, data=mini_spec)
    exported = selectors.skill_export(skill=skill)
    again = services.skill_import(owner=user, data=exported)
    assert selectors.skill_export(skill=again) == exported
    assert skillspec.parse_skill(exported) == skillspec.parse_skill(mini_spec)


def test_invalid_component_is_not_saved_and_errors_are_relative(skill):
    before = selectors.skill_export(skill=skill)
    bad = {"name": "Book", "arguments": [{"name": "flight", "slot_type": "nope"}]}
    with pytest.raises(skillspec.SpecValidationError) as exc:
        services.component_create(skill=skill, kind=APIS, data=bad)
    assert [str(i) for i in exc.value.issues] == ["arguments[0].slot_type: unknown slot type 'nope'"]
    assert selectors.skill_export(skill=skill) == before


def test_deleting_a_slot_type_in_use_is_refused_with_the_reason(skill):
    city = selectors.component_list(skill=skill, kind=SLOT_TYPES).get(name="city")
    with pytest.raises(skillspec.SpecValidationError) as exc:
        services.component_delete(component=city)
    text = str(exc.value)
    assert "still in use" in text
    assert "apis[0].arguments[0].slot_type: unknown slot type 'city'" in text
    assert selectors.component_list(skill=skill, kind=SLOT_TYPES).filter(name="city").exists()


def test_renaming_a_slot_type_renames_every_reference(skill):
    city = selectors.component_list(skill=skill, kind=SLOT_TYPES).get(name="city")
    services.component_update(component=city, data={**city.data, "name": "airport_city"})
    spec = selectors.skill_to_spec(skill=skill)
    assert spec.apis[0].arguments[0].slot_type == "airport_city"
    assert spec.utterance_sets[0].arguments[0].slot_type == "airport_city"
    assert spec.sample_dialogues[0].turns[0].spans[0].slot_type == "airport_city"
    assert skillspec.validate_skill(spec) == []


def test_renaming_an_api_renames_actions_and_templates(skill):
    api = selectors.component_list(skill=skill, kind=APIS).get(name="SearchFlights")
    services.component_update(component=api, data={**api.data, "name": "FindFlights"})
    spec = selectors.skill_to_spec(skill=skill)
    assert spec.response_templates[1].api == "FindFlights"
    assert spec.sample_dialogues[0].turns[3].actions[0].name == "FindFlights"


def test_catalogue_import_merges_synonyms_and_reports_bad_csv(skill):
    city = selectors.component_list(skill=skill, kind=SLOT_TYPES).get(name="city")
    services.slot_type_values_import(slot_type=city, text='value,synonyms\nBoston,Beantown\n"New York",NYC,Big Apple\n')
    city.refresh_from_db()
    assert city.data["values"] == [
        {"value": "Boston", "synonyms": ["BOS", "Beantown"]},
        {"value": "New York", "synonyms": ["NYC", "Big Apple"]},
    ]
    with pytest.raises(skillspec.SpecValidationError) as exc:
        services.slot_type_values_import(slot_type=city, text="Paris,NYC\n")
    assert "'NYC' already stands for value 'New York'" in str(exc.value)


def test_dialogue_with_binding_to_a_future_entity_is_refused(skill):
    row = selectors.component_list(skill=skill, kind=SAMPLE_DIALOGUES).get()
    data = row.data
    data["turns"][3]["actions"][0]["arguments"]["origin"] = "e1"
    data["turns"].insert(
        1,
        {
            "speaker": "system",
            "actions": [
                {"kind": "api", "name": "SearchFlights", "id": "c0", "arguments": {"origin": "e1", "date": "e2"}}
            ],
        },
    )
    data["turns"].insert(2, {"speaker": "user", "text": "ok"})
    with pytest.raises(skillspec.SpecValidationError) as exc:
        services.component_update(component=row, data=data)
    assert "turns[1].actions[0].arguments.date: bound to entity e2 which is not available before turn 1" in [
        str(i) for i in exc.value.issues
    ]


def test_nul_characters_are_refused_with_their_path(skill, user):
    with pytest.raises(skillspec.SpecValidationError) as exc:
        services.component_create(
            skill=skill, kind=SLOT_TYPES, data={"name": "a", "builtin": "DATE", "description": "x\x00y"}
        )
    assert [str(i) for i in exc.value.issues] == ["description: must not contain the NUL character"]
    with pytest.raises(skillspec.SpecValidationError) as exc:
        services.skill_create(owner=user, name="bad\x00name")
    assert [str(i) for i in exc.value.issues] == ["name: must not contain the NUL character"]


def test_a_bad_name_and_a_bad_reference_are_reported_together(skill):
    bad = {"name": "Book flight", "arguments": [{"name": "flight", "slot_type": "nope"}]}
    with pytest.raises(skillspec.SpecValidationError) as exc:
        services.component_create(skill=skill, kind=APIS, data=bad)
    assert [str(i) for i in exc.value.issues] == [
        "name: must start with a letter and contain only letters, digits and _",
        "arguments[0].slot_type: unknown slot type 'nope'",
    ]
