"""The SGD importer: a service of the Schema-Guided Dialogue dataset as a skill, plus gold data."""

from __future__ import annotations

import copy
import json
import random
import re
import string
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from simulator.checker import Checker
from simulator.sgd import SgdImport, SgdImportError, import_sgd, snake, valid_name
from skillspec import ActionKind, DialogAct, SystemTurn, UserAct, UserTurn, dump_skill, parse_skill, placeholders
from skillspec.annotated import ASystemTurn, AUserTurn, Source
from skillspec.builtins import number_words

from .conftest import SGD_DIR, needs_sgd

SGD = SGD_DIR
SERVICES = ["Restaurants_1", "Homes_1", "Flights_1", "RentalCars_1"]

pytestmark = needs_sgd()


@cache
def schema() -> list[dict[str, Any]]:
    return json.loads((SGD / "schema.json").read_text())


@cache
def dialogues(service: str) -> list[dict[str, Any]]:
    return json.loads((SGD / f"dialogues_{service}.json").read_text())


@cache
def imported(service: str, samples: int = 10, seed: int | None = None) -> SgdImport:
    return import_sgd(schema(), [dialogues(service)], service, samples, seed)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_imports_as_a_valid_skill_with_checked_gold(service):
    result = imported(service)
    skill, report = result.skill, result.report

    assert parse_skill(dump_skill(skill)) == skill
    assert skill.name == service
    sgd_service = next(s for s in schema() if s["service_name"] == service)
    assert {a.name for a in skill.apis} == {i["name"] for i in sgd_service["intents"]}
    for api, intent in zip(skill.apis, sgd_service["intents"], strict=True):
        assert api.transactional == intent["is_transactional"]
        required = [a.name for a in api.arguments if a.required]
        assert required == intent["required_slots"]
        optional = {a.name: a.default for a in api.arguments if not a.required}
        assert optional == intent["optional_slots"]
        assert [r.name for r in api.returns if r.name != "count"] == intent["result_slots"]
    assert len(skill.response_templates) > 5
    acts = {t.act for t in skill.response_templates}
    assert {DialogAct.REQUEST_ARGS, DialogAct.OFFER, DialogAct.GOODBYE} <= acts
    assert {u.act for u in skill.utterance_sets} >= {UserAct.INVOKE, UserAct.INFORM, UserAct.GOODBYE}
    assert len(skill.sample_dialogues) == 10

    total = len(dialogues(service))
    assert report.dialogues_total == total
    assert report.converted + report.skipped == total - len(report.samples)
    assert report.converted == len(result.gold)
    assert sum(report.skipped_by_reason.values()) == report.skipped
    assert not any(reason.startswith("fails the checker") for reason in report.skipped_by_reason)
    assert report.converted > 0.9 * (total - 10)
    assert report.samples == [d.name for d in skill.sample_dialogues]
    assert report.values_not_located == sum(report.not_located_by_reason.values())

    ids = [g.id for g in result.gold]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {f"sgd-{s}" for s in report.samples}
    assert all(g.source is Source.SGD and g.skill == service for g in result.gold)
    json.dumps(report.as_dict())  # plain data
    assert f"converted to gold: {report.converted}" in report.summary()


def test_gold_passes_the_checker():
    result = imported("RentalCars_1")
    checker = Checker(result.skill)
    assert len(result.gold) >= 50  # the service's dialogues, converted: there is gold to check
    for gold in result.gold:
        assert checker.check(gold) == [], gold.id


def _frames(d: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for turn in d["turns"]:
        for frame in turn["frames"]:
            yield turn["speaker"], turn["utterance"], frame


def _surfaces(d: dict[str, Any], speakers: tuple[str, ...] = ("USER", "SYSTEM")) -> set[str]:
    """Every way a dialogue spells a value: action values (as said and canonical) and span texts."""
    out = set()
    for speaker, text, frame in _frames(d):
        if speaker not in speakers:
            continue
        for action in frame["actions"]:
            out.update(v.strip().lower() for v in [*action["values"], *action.get("canonical_values", [])])
        out.update(text[s["start"] : s["exclusive_end"]].strip().lower() for s in frame["slots"])
    return out


def _pattern(variant: str) -> re.Pattern[str]:
    parts = []
    for literal, name, _, _ in string.Formatter().parse(variant):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append("(.+?)")
    return re.compile("".join(parts), re.DOTALL)


def test_no_evaluation_language_enters_the_skill():
    """Catalogues, synonyms and variants come from the schema, the provider's database (every
    dialogue's service_results) and the samples; never from what the evaluation dialogues say."""
    result = imported("Restaurants_1")
    skill, report = result.skill, result.report
    by_id = {d["dialogue_id"]: d for d in dialogues("Restaurants_1")}
    samples = [by_id[i] for i in report.samples]
    evaluation = [d for i, d in by_id.items() if i not in report.samples and d["services"] == ["Restaurants_1"]]
    sample_forms = set().union(*(_surfaces(d) for d in samples))
    evaluation_only = set().union(*(_surfaces(d, ("USER",)) for d in evaluation)) - sample_forms
    database = {
        str(v).lower()
        for d in by_id.values()
        for _, _, frame in _frames(d)
        for row in frame.get("service_results", [])
        for v in row.values()
    }
    schema_values = {
        v.lower()
        for s in schema()
        if s["service_name"] == "Restaurants_1"
        for slot in s["slots"]
        for v in slot["possible_values"]
    }

    synonyms = values = 0
    for st in skill.slot_types:
        for v in st.values:
            values += 1
            assert v.value.lower() in schema_values | database | sample_forms, (st.name, v.value)
            for synonym in v.synonyms:
                synonyms += 1
                number = v.value.isdigit() and synonym == number_words(int(v.value))
                assert synonym.lower() in sample_forms or number, (st.name, synonym)
                assert synonym.lower() not in evaluation_only or number, (st.name, synonym)
    assert values > 100 and synonyms > 10
    # The evaluation dialogues do say things the skill does not know, and the gold keeps them.
    assert len(evaluation_only) > 100
    assert report.notes["user values not in the catalogue (annotated as said; evaluation dialogues)"] > 0
    assert report.notes["user wordings that are no catalogue form of their value (evaluation dialogues)"] > 0
    assert not any("seen only in evaluation" in note for note in report.notes)

    sample_texts = [t["utterance"] for d in samples for t in d["turns"] if t["speaker"] == "SYSTEM"]
    evaluation_texts = [t["utterance"] for d in evaluation for t in d["turns"] if t["speaker"] == "SYSTEM"]
    in_samples = {
        a.name for d in skill.sample_dialogues for turn in d.turns if isinstance(turn, SystemTurn) for a in turn.actions
    }
    generated = 0
    for template in skill.response_templates:
        if template.name in in_samples:
            for variant in template.variants:
                pattern = _pattern(variant)
                assert any(pattern.fullmatch(text) for text in sample_texts), (template.name, variant)
            continue
        generated += 1
        [variant] = template.variants
        assert sorted(placeholders(variant)) == sorted(a.name for a in template.arguments)
        pattern = _pattern(variant)
        assert not any(pattern.fullmatch(text) for text in evaluation_texts), (template.name, variant)
    assert generated == report.templates_without_sample_text == 83

    # The gold passes the checker, keeping the real words, which the skill's language does not cover.
    checker = Checker(skill)
    language_issues = 0
    for gold in result.gold:
        assert checker.check(gold) == [], gold.id
        language_issues += len(checker.check(gold.model_copy(update={"source": Source.SIMULATED})))
    assert language_issues > 1000


def test_templates_no_sample_shows_get_a_variant_from_the_schema():
    templates = {t.name: t for t in imported("Restaurants_1").skill.response_templates}
    assert templates["request_city_reserve_restaurant"].variants == [
        "Could you tell me the city in which the restaurant is located?"
    ]
    confirm = templates["confirm_date_time"]
    assert confirm.act is DialogAct.CONFIRM_API and [a.name for a in confirm.arguments] == ["date", "time"]
    assert confirm.variants == [
        "Please confirm: the date for the reservation or to find availability is {date}"
        " and the time for the reservation or to find availability is {time}."
    ]
    assert templates["notify_success_inform_phone_number"].variants == [
        "All set: I was able to reserve a table at a restaurant. The phone number of the restaurant is {phone_number}."
    ]
    # A categorical value that names the template is said through its description.
    assert templates["inform_phone_number_serves_alcohol_false"].variants == [
        "The phone number of the restaurant is {phone_number} and whether the restaurant serves alcohol: no."
    ]
    offers = [
        t for t in imported("RentalCars_1").skill.response_templates if t.name == "inform_count_offer_type_pickup_date"
    ]
    assert offers[0].variants == [
        "I found {count} results. How about this one? The category to which rental car belongs is {type}"
        " and the date of rental car pickup is {pickup_date}."
    ]


def test_a_sample_dialogue_by_hand():
    skill = imported("Restaurants_1").skill
    d = next(d for d in skill.sample_dialogues if d.name == "1_00000")
    user = d.turns[2]
    assert isinstance(user, UserTurn) and user.text == "I would like for it to be in San Jose."
    assert [(s.id, s.start, s.end, s.slot_type, s.text) for s in user.spans] == [("e1", 29, 37, "city", "San Jose")]
    system = d.turns[5]
    assert isinstance(system, SystemTurn)
    call, offer = system.actions
    assert (call.kind, call.name, call.id) == (ActionKind.API, "FindRestaurants", "c1")
    assert call.arguments == {"city": "e1", "cuisine": "e2"}
    assert (offer.kind, offer.name) == (ActionKind.RESPONSE, "offer_restaurant_name_city")
    assert offer.arguments == {"restaurant_name": "c1.restaurant_name", "city": "c1.city"}
    template = next(t for t in skill.response_templates if t.name == "offer_restaurant_name_city")
    assert "I see that at {restaurant_name} there is a good restaurant which is in {city}." in template.variants
    # The user asks for "another restaurant ... economical": price_range is not located, so the
    # optional argument is left out rather than bound to a result that happens to agree.
    later = d.turns[13]
    assert isinstance(later, SystemTurn)
    assert later.actions[0].arguments == {"cuisine": "e2", "city": "e3"}


def test_a_gold_dialogue_by_hand():
    gold = next(g for g in imported("Restaurants_1").gold if g.id == "sgd-1_00010")
    first = gold.turns[0]
    assert isinstance(first, AUserTurn)
    assert first.acts == ["inform", "invoke"]
    assert [(s.start, s.end, s.slot_type, s.value, s.entity) for s in first.spans] == [
        (60, 69, "cuisine", "Breakfast", "e1"),
        (73, 82, "city", "Fairfield", "e2"),
    ]
    # "half past 5 in the evening" is a TIME span with its canonical value.
    eighth = gold.turns[8]
    assert isinstance(eighth, AUserTurn)
    assert [(s.slot_type, s.value, eighth.text[s.start : s.end]) for s in eighth.spans] == [
        ("time", "17:30", "half past 5 in the evening")
    ]
    # A correction after a confirmation is a change of mind.
    assert gold.turns[10].acts == ["change", "deny"]  # type: ignore[union-attr]
    booking = gold.turns[15]
    assert isinstance(booking, ASystemTurn)
    call, response, wait = booking.actions
    assert (call.kind, call.name, call.id) == ("api", "ReserveRestaurant", "c2")
    assert [(a.name, a.entity, a.turn, a.value) for a in call.arguments] == [
        ("restaurant_name", "c1.restaurant_name", 1, "Mimi's Cafe"),
        ("city", "e2", 0, "Fairfield"),
        ("time", "e8", 12, "12:30"),
        ("date", "e7", 12, "2019-03-04"),
        ("party_size", "e6", 10, "3"),
    ]
    assert {r.field: r.value for r in call.results}["phone_number"] == "707-421-0835"
    assert response.kind == "response" and response.text == booking.text
    assert [(a.name, a.entity) for a in response.arguments] == [("phone_number", "c2.phone_number")]
    assert (wait.kind, wait.name) == ("wait", "wait_for_user")


def test_schema_mapping_choices():
    skill = imported("Restaurants_1").skill
    types = {s.name: s for s in skill.slot_types}
    assert types["time"].builtin is not None and types["time"].builtin.value == "TIME"
    assert types["date"].builtin is None and "2019-03-01" in {v.value for v in types["date"].values}
    party = {v.value: v.synonyms for v in types["party_size"].values}
    assert "two" in party["2"]
    assert types["count"].builtin is not None and types["count"].builtin.value == "NUMBER"
    reserve = next(t for t in skill.response_templates if t.act is DialogAct.CONFIRM_API)
    assert reserve.api == "ReserveRestaurant"
    request = next(t for t in skill.response_templates if t.name == "request_cuisine")
    assert request.act is DialogAct.REQUEST_ARGS and request.requested == ["cuisine"]
    offer_api = next(t for t in skill.response_templates if t.act is DialogAct.OFFER_API)
    assert offer_api.api == "ReserveRestaurant"
    # A categorical value said in words of its own names its template.
    assert any(t.name == "inform_has_live_music_false" for t in skill.response_templates)
    invoke = next(u for u in skill.utterance_sets if u.act is UserAct.INVOKE and u.api == "FindRestaurants")
    assert invoke.name == "find_restaurants"


def test_seeded_choice_is_reproducible():
    subset = dialogues("RentalCars_1")[:40]
    a = import_sgd(schema(), [subset], "RentalCars_1", 5, 3)
    b = import_sgd(schema(), [copy.deepcopy(subset)], "RentalCars_1", 5, 3)
    c = import_sgd(schema(), [subset], "RentalCars_1", 5, 4)
    first = sorted(d["dialogue_id"] for d in subset)[:5]
    assert a.report.samples == b.report.samples
    assert first != a.report.samples != c.report.samples
    assert dump_skill(a.skill) == dump_skill(b.skill)
    assert [g.model_dump_json() for g in a.gold] == [g.model_dump_json() for g in b.gold]
    assert a.report.converted + a.report.skipped == 40 - 5
    unseeded = import_sgd(schema(), [subset], "RentalCars_1", 5, None)
    assert unseeded.report.samples == first


def test_no_samples_makes_every_dialogue_gold():
    result = import_sgd(schema(), [dialogues("RentalCars_1")[:15]], "RentalCars_1", 0, None)
    assert result.skill.sample_dialogues == [] and result.skill.utterance_sets == []
    assert result.report.converted + result.report.skipped == 15


def test_dialogues_of_other_services_and_broken_ones_are_skipped_with_a_reason():
    own = copy.deepcopy(dialogues("RentalCars_1")[:12])
    other = copy.deepcopy(dialogues("Homes_1")[0])
    mixed = copy.deepcopy(own[0])
    mixed["dialogue_id"] = "x_mixed"
    mixed["services"] = ["RentalCars_1", "Homes_1"]
    broken = copy.deepcopy(own[1])
    broken["dialogue_id"] = "x_broken"
    del broken["turns"][1]["frames"][0]["actions"]
    duplicate = copy.deepcopy(own[2])
    result = import_sgd(schema(), [own, [other, mixed, broken, duplicate]], "RentalCars_1", 3, None)
    report = result.report
    assert report.dialogues_total == 16
    assert report.skipped_by_reason["does not involve the service"] == 1
    assert report.skipped_by_reason["involves other services"] == 1
    assert report.skipped_by_reason["duplicate dialogue_id"] == 1
    assert (
        report.skipped_by_reason["a system turn without acts"] + report.skipped_by_reason["malformed SGD dialogue"] == 1
    )
    assert any("x_mixed" in e for e in report.skip_examples["involves other services"])
    assert report.converted + report.skipped == 16 - 3


def test_input_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(SgdImportError, match="'Nope_1' is not in the schema; it has: .*Restaurants_1"):
        import_sgd(schema(), [dialogues("RentalCars_1")[:3]], "Nope_1", 1)
    with pytest.raises(SgdImportError, match="none of the 3 given dialogues"):
        import_sgd(schema(), [dialogues("RentalCars_1")[:3]], "Homes_1", 1)
    with pytest.raises(SgdImportError, match="cannot read the schema"):
        import_sgd(tmp_path / "missing.json", [], "Homes_1", 1)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SgdImportError, match="not valid JSON"):
        import_sgd(schema(), [bad], "Homes_1", 1)
    with pytest.raises(SgdImportError, match="list of dialogues"):
        import_sgd(schema(), [{"dialogue_id": "x"}], "Homes_1", 1)
    with pytest.raises(SgdImportError, match="list of SGD services"):
        import_sgd([{"no": "name"}], [], "Homes_1", 1)
    with pytest.raises(SgdImportError, match="negative"):
        import_sgd(schema(), [], "Homes_1", -1)


def test_reads_files_from_paths():
    result = import_sgd(SGD / "schema.json", [str(SGD / "dialogues_RentalCars_1.json")], "RentalCars_1", 2, None)
    assert len(result.skill.sample_dialogues) == 2


def _rename(data: Any, names: dict[str, str]) -> Any:
    """SGD data with slot and intent names replaced, wherever SGD uses them."""
    if isinstance(data, list):
        return [_rename(x, names) for x in data]
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            key = names.get(key, key)
            if isinstance(value, str) and key in ("slot", "name", "method", "active_intent"):
                value = names.get(value, value)
            out[key] = _rename(value, names)
        return out
    if isinstance(data, str):
        return names.get(data, data)
    return data


def test_any_service_naming_works():
    """Nothing is tied to the four services: a renamed service with awkward names imports too."""
    names = {
        "RentalCars_1": "Car Hire-2",
        "pickup_city": "pick-up city",
        "type": "1st type",
        "GetCarsAvailable": "get cars",
        "ReserveCar": "Reserve.Car",
    }
    sgd_schema = _rename(copy.deepcopy(next(s for s in schema() if s["service_name"] == "RentalCars_1")), names)
    sgd_dialogues = _rename(copy.deepcopy(dialogues("RentalCars_1")[:20]), names)
    result = import_sgd([sgd_schema], [sgd_dialogues], "Car Hire-2", 5, None)
    skill = result.skill
    assert skill.name == "Car Hire-2"
    assert {a.name for a in skill.apis} == {"get_cars", "Reserve_Car"}
    slot_names = {s.name for s in skill.slot_types}
    assert {"pick_up_city", "x_1st_type"} <= slot_names
    assert result.report.renamed["slot pick-up city"] == "pick_up_city"
    assert result.report.renamed["intent Reserve.Car"] == "Reserve_Car"
    assert result.report.converted == 15 - result.report.skipped
    assert result.report.converted > 10


def test_name_helpers():
    assert valid_name("pick-up city") == "pick_up_city"
    assert valid_name("2nd") == "x_2nd"
    assert snake("SearchOnewayFlight") == "search_oneway_flight"
    assert len(valid_name("a" * 100)) == 64


def _corrupt(data: Any, rng: random.Random) -> Any:
    """``data`` with one thing somewhere broken: a key removed, or a value of the wrong type."""
    path: list[Any] = []
    node = data
    while isinstance(node, dict | list) and node and rng.random() < 0.85:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append(key)
        node = node[key]
    if not path:
        return data
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and rng.random() < 0.4:
        del parent[path[-1]]
    else:
        parent[path[-1]] = rng.choice([None, 7, "x", [], {}, [1], {"a": 1}, -1])
    return data


def test_malformed_dialogues_are_skipped_never_crash():
    rng = random.Random(5)
    base = dialogues("RentalCars_1")[:8]
    imported_ok = refused = skipped = 0
    for _ in range(25):
        broken = [_corrupt(copy.deepcopy(d), rng) for d in base[:4]] + copy.deepcopy(base[4:])
        for d in broken:
            d["dialogue_id"] = str(d.get("dialogue_id", "")) or "x"
        try:
            result = import_sgd(schema(), [broken], "RentalCars_1", 2, None)
        except SgdImportError:
            refused += 1
            continue
        report = result.report
        assert report.converted + report.skipped == 8 - len(report.samples)
        assert parse_skill(dump_skill(result.skill)) == result.skill
        imported_ok += 1
        skipped += report.skipped
    # Most corrupted sets still import (the broken dialogues skipped), and some dialogues were skipped.
    assert imported_ok + refused == 25 and imported_ok >= 10 and skipped > 0, (imported_ok, refused, skipped)
