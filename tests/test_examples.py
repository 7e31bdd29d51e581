"""The example skills and the published JSON Schema."""

import datetime
import json
import re

import jsonschema
import pytest

import skillspec
from skillspec import ActionKind, SystemTurn, UserAct, UserTurn

from .conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
SCHEMA_FILE = ROOT / "docs" / "skill-spec.schema.json"


def load(name: str) -> skillspec.Skill:
    return skillspec.parse_skill((ROOT / "examples" / f"{name}.json").read_bytes())


def calls(dialogue: skillspec.SampleDialogue, api: str) -> list[skillspec.Action]:
    return [
        a
        for t in dialogue.turns
        if isinstance(t, SystemTurn)
        for a in t.actions
        if a.kind is ActionKind.API and a.name == api
    ]


def span_text(dialogue: skillspec.SampleDialogue, entity: str) -> str:
    return next(s.text for t in dialogue.turns if isinstance(t, UserTurn) for s in t.spans if s.id == entity)


def test_both_examples_exist():
    assert [p.name for p in EXAMPLES] == ["flights.json", "pizza.json"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_valid_without_warnings(path):
    skill = skillspec.parse_skill(path.read_bytes())
    assert skillspec.lint_skill(skill) == []
    assert skillspec.parse_skill(skillspec.dump_skill(skill)) == skill


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_matches_the_json_schema(path):
    jsonschema.validate(json.loads(path.read_text()), json.loads(SCHEMA_FILE.read_text()))


def test_committed_schema_is_current():
    assert json.loads(SCHEMA_FILE.read_text()) == skillspec.json_schema(), "run `make schema`"


def test_schema_rejects_what_the_spec_rejects_structurally():
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "colour": "red"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "slot_types": [{"name": "1st"}]}, schema)


def test_the_example_in_the_reference_is_valid():
    text = (ROOT / "docs" / "skill-spec.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    skill = skillspec.parse_skill(blocks[0])
    assert skillspec.lint_skill(skill) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_builtin_spans_are_recognised(path):
    skill = skillspec.parse_skill(path.read_bytes())
    builtin = {st.name: st.builtin for st in skill.slot_types if st.builtin}
    spans = [s for d in skill.sample_dialogues for t in d.turns if isinstance(t, UserTurn) for s in t.spans]
    checked = [s for s in spans if s.slot_type in builtin]
    assert checked
    for s in checked:
        assert skillspec.normalize(builtin[s.slot_type], s.text, today=datetime.date(2026, 3, 3)), s.text


def test_flights_covers_every_act_and_has_the_key_dialogues():
    skill = load("flights")
    assert len(skill.sample_dialogues) >= 6
    assert {t.act for t in skill.response_templates} == set(skillspec.DialogAct)
    assert {u.act for u in skill.utterance_sets} == set(UserAct)
    assert [d.name for d in skill.sample_dialogues if d.test] == ["test: changes the origin and books"]
    assert len({c.value for c in skill.slot_types[0].values}) >= 20
    book = next(a for a in skill.apis if a.name == "BookFlight")
    assert book.transactional

    # Change of mind: the date is replaced, and the later search and booking use the new one.
    d = next(d for d in skill.sample_dialogues if d.name == "changes the date before booking")
    searches, bookings = calls(d, "SearchFlights"), calls(d, "BookFlight")
    assert [s.arguments["date"] for s in searches] == ["e3", "e4"]
    assert (span_text(d, "e3"), span_text(d, "e4")) == ("March 3rd", "March 5th")
    assert bookings[0].arguments == {"flight": "c2.flight", "passengers": "e5", "date": "e4"}

    # Carried over: the booking binds the date span of the search; "book it" is the offered flight.
    d = next(d for d in skill.sample_dialogues if d.name == "search and book it")
    (search,) = calls(d, "SearchFlights")
    (booking,) = calls(d, "BookFlight")
    assert booking.arguments["date"] == search.arguments["date"] == "e3"
    assert booking.arguments["flight"] == f"{search.id}.flight"
    assert "book it" in d.turns[2].text

    # A change of destination: later searches use the new city.
    d = next(d for d in skill.sample_dialogues if d.name == "changes the destination")
    assert [s.arguments["destination"] for s in calls(d, "SearchFlights")] == ["e2", "e4", "e4"]

    # Denied at confirmation and corrected: the booking uses the corrected number.
    d = next(d for d in skill.sample_dialogues if d.name == "corrects the passengers at confirmation")
    (booking,) = calls(d, "BookFlight")
    assert span_text(d, booking.arguments["passengers"]) == "4"


def test_pizza_has_five_dialogues_and_a_transactional_order():
    skill = load("pizza")
    assert len(skill.sample_dialogues) >= 5
    assert next(a for a in skill.apis if a.name == "OrderPizza").transactional
    assert {u.act for u in skill.utterance_sets} == set(UserAct)
    assert sum(d.test for d in skill.sample_dialogues) == 1
    d = next(d for d in skill.sample_dialogues if d.name == "price check, then order")
    (check,) = calls(d, "CheckPrice")
    (order,) = calls(d, "OrderPizza")
    assert order.arguments["size"] == check.arguments["size"]
    assert order.arguments["topping"] == check.arguments["topping"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["flights", "pizza"])
def test_examples_survive_the_studio_round_trip(user, name):
    from studio.skills import selectors, services

    text = (ROOT / "examples" / f"{name}.json").read_text()
    skill = services.skill_import(owner=user, data=text)
    exported = selectors.skill_export(skill=skill)
    assert skillspec.parse_skill(exported) == skillspec.parse_skill(text)
    assert json.loads(exported) == json.loads(skillspec.dump_skill(skillspec.parse_skill(text)))
