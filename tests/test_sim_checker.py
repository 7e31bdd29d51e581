"""The annotated-dialogue checker: a valid dialogue passes, and each rule catches its own breach."""

import copy
import datetime
import json
import re
from pathlib import Path

import pydantic
import pytest

import skillspec
from simulator import checker as checker_module
from simulator.checker import REFERENCE_DATE, Checker, check_dialogue, check_file
from simulator.samples import samples_to_annotated
from skillspec import Issue
from skillspec.annotated import FORMAT, AnnotatedDialogue, dumps_dialogue

ROOT = Path(__file__).resolve().parent.parent
FLIGHTS = skillspec.parse_skill((ROOT / "examples" / "flights.json").read_bytes())
CHECKER = Checker(FLIGHTS)


def base() -> dict:
    """Sample 0 of flights ("search and book it"), as a JSON object.

    0 user "I need a flight from Boston to San Francisco for tomorrow" (e1, e2, e3)
    1 system SearchFlights c1, offer_flight, wait
    2 user "Great, book it for 2 passengers" (e4)
    3 system confirm_booking, wait
    4 user "Yes please" (affirm)
    5 system BookFlight c2, booked, anything_else, wait
    6 user "No, that's all. Thanks!"
    7 system goodbye, wait
    """
    return copy.deepcopy(BASE)


BASE = samples_to_annotated(FLIGHTS)[0].model_dump(mode="json")


def check(d: dict) -> list[Issue]:
    return CHECKER.check(d)


def set_value(d: dict, entity: str, value: str) -> None:
    """Give an entity a new value everywhere: where it is introduced and where it is bound."""
    for turn in d["turns"]:
        for span in turn.get("spans", []):
            if span["entity"] == entity:
                span["value"] = value
        for action in turn.get("actions", []):
            for r in action["results"]:
                if r["entity"] == entity:
                    r["value"] = value
            for arg in action["arguments"]:
                if arg["entity"] == entity:
                    arg["value"] = value


def set_response(d: dict, t: int, a: int, name: str, text: str, arguments: list | None = None) -> None:
    """Replace a response (and keep the turn's text consistent)."""
    d["turns"][t]["actions"][a] |= {"name": name, "text": text, "arguments": arguments or []}
    texts = [x["text"] for x in d["turns"][t]["actions"] if x["kind"] == "response" and x["text"]]
    d["turns"][t]["text"] = " ".join(texts)


def I(path: str, message: str) -> Issue:  # noqa: E743 - short on purpose, used in long tables
    return Issue(path, message)


def test_the_base_dialogue_is_valid_in_every_input_form():
    assert check(base()) == []
    model = AnnotatedDialogue.model_validate(base())
    assert CHECKER.check(model) == []
    assert CHECKER.check(dumps_dialogue(model)) == []
    assert CHECKER.check(dumps_dialogue(model).encode()) == []
    assert check_dialogue(FLIGHTS, model) == []


def test_the_example_in_the_reference_is_valid():
    text = (ROOT / "docs" / "annotated-dialogues.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    assert check(json.loads(blocks[0])) == []


def _paths(node, path=()):
    """Every (path, dict) of the dicts in a JSON value."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*path, i))


def _mutations(record):
    """The record with one thing changed: a key removed or added, a value of another type."""
    for path, node in _paths(record):
        for key in [*node, "colour"]:
            replacements = ["<missing>", None, -1, "x", True, [], [{}]]
            for new in replacements:
                if key == "colour" and new == "<missing>":
                    continue
                mutated = copy.deepcopy(record)
                target = mutated
                for part in path:
                    target = target[part]
                if new == "<missing>":
                    del target[key]
                else:
                    target[key] = new
                yield f"{path}.{key}={new!r}", mutated


def test_the_fast_typed_dicts_accept_exactly_what_the_records_accept():
    # The checker validates with typed dicts mirroring skillspec.annotated for speed; this keeps them in step.
    fast = checker_module._DIALOGUE
    record = base()
    assert len(list(_mutations(record))) > 1000
    for what, mutated in _mutations(record):
        try:
            AnnotatedDialogue.model_validate(mutated)
            accepted = "format" in mutated
        except pydantic.ValidationError:
            accepted = False
        try:
            fast.validate_python(mutated)
            fast_accepted = True
        except pydantic.ValidationError:
            fast_accepted = False
        assert fast_accepted == accepted, what


# ---------------------------------------------------------------- the record


def test_unsupported_format_is_reported_alone():
    d = base() | {"format": "colloquy-dialogue/2", "colour": "red"}
    assert check(d) == [I("format", f"unsupported format 'colloquy-dialogue/2'; this checker reads {FORMAT!r}")]


def test_missing_format():
    d = base()
    del d["format"]
    assert check(d) == [I("format", f"missing; a record starts with the format {FORMAT!r}")]


def test_structural_problems_are_reported_with_paths():
    d = base()
    d["turns"][0]["colour"] = "red"
    d["turns"][1]["actions"][0]["arguments"][0]["turn"] = "zero"
    del d["turns"][2]["text"]
    d["turns"][3]["actions"] = []
    d["turns"][4]["speaker"] = "bot"
    issues = check(d)
    paths = [i.path for i in issues]
    assert paths == [
        "turns[0].colour",
        "turns[1].actions[0].arguments[0].turn",
        "turns[2].text",
        "turns[3].actions",
        "turns[4]",
    ]
    assert issues[0].message == "unknown field"


def test_bad_json():
    assert CHECKER.check("{not json") == [
        I("", "not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")
    ]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("id", "", I("id", "must not be empty")),
        ("skill", "Trains", I("skill", "written for skill 'Trains', not 'Flights'")),
        ("turns", [], I("turns", "a dialogue has at least one turn")),
    ],
)
def test_record_fields(field, value, expected):
    assert check(base() | {field: value}) == [expected]


def test_spec_hash_of_another_version():
    h = skillspec.spec_hash(FLIGHTS)
    assert check(base() | {"spec_hash": "0" * 64}) == [
        I("spec_hash", f"written for another version of the skill (000000000000…, the skill is {h[:12]}…)")
    ]
    assert check(base() | {"spec_hash": None}) == []
    assert Checker(FLIGHTS, check_spec_hash=False).check(base() | {"spec_hash": "0" * 64}) == []


def test_turns_alternate_starting_with_the_user():
    d = base()
    d["turns"] = [d["turns"][0], d["turns"][6]]
    assert check(d) == [I("turns[1].speaker", "turns alternate, starting with the user: turn 1 must be a system turn")]
    d = base()
    d["turns"] = d["turns"][1:2]
    issues = check(d)
    assert issues[0] == I("turns[0].speaker", "turns alternate, starting with the user: turn 0 must be a user turn")


def test_a_dialogue_may_end_with_a_user_turn():
    d = base()
    d["turns"] = d["turns"][:7]
    assert check(d) == []


# ---------------------------------------------------------------- user turns


def test_unknown_user_act():
    d = base()
    d["turns"][0]["acts"] = ["invoke", "shout"]
    assert check(d) == [I("turns[0].acts[1]", "unknown user act 'shout'")]


def test_span_end_before_start():
    d = base()
    d["turns"][0]["spans"][0]["end"] = 21
    assert check(d) == [I("turns[0].spans[0].end", "span end 21 must be greater than its start 21")]


def test_span_beyond_the_text():
    d = base()
    d["turns"][2]["spans"][0] |= {"start": 30, "end": 40}
    assert check(d) == [I("turns[2].spans[0].end", "span end 40 is beyond the text's length 31")]


def test_overlapping_spans():
    d = base()
    d["turns"][0]["spans"].append({"start": 21, "end": 27, "slot_type": "city", "value": "Boston", "entity": "e9"})
    assert check(d) == [I("turns[0].spans[3]", "span overlaps span 0 (21:27)")]


def test_a_long_span_overlapping_several():
    d = base()
    text = d["turns"][0]["text"]
    d["turns"][0]["spans"].append(
        {"start": 0, "end": len(text), "slot_type": "city", "value": "Boston", "entity": "e9"}
    )
    issues = check(d)
    assert I("turns[0].spans[0]", "span overlaps span 3 (0:57)") in issues
    assert I("turns[0].spans[1]", "span overlaps span 3 (0:57)") in issues
    assert I("turns[0].spans[2]", "span overlaps span 3 (0:57)") in issues


def test_span_with_surrounding_whitespace():
    d = base()
    d["turns"][0]["spans"][0]["start"] = 20
    assert check(d) == [I("turns[0].spans[0]", "span text ' Boston' has surrounding whitespace")]


def test_unknown_slot_type_of_a_span():
    d = base()
    d["turns"][2]["spans"][0]["slot_type"] = "headcount"
    assert check(d) == [
        I("turns[2].spans[0].slot_type", "unknown slot type 'headcount'"),
        I("turns[3].actions[0].arguments[1].entity", "entity 'e4' is a headcount, but 'passengers' takes a number"),
        I("turns[5].actions[0].arguments[1].entity", "entity 'e4' is a headcount, but 'passengers' takes a number"),
    ]


def test_duplicate_entity_id():
    d = base()
    d["turns"][2]["spans"][0]["entity"] = "e3"
    issues = check(d)
    assert issues[0] == I("turns[2].spans[0].entity", "duplicate entity id 'e3'")
    assert (
        I("turns[3].actions[0].arguments[1].entity", "unknown entity 'e4': no earlier span or API result introduces it")
        in issues
    )


def test_entity_id_with_a_dot():
    d = base()
    d["turns"][2]["spans"][0]["entity"] = "e.4"
    assert check(d)[0] == I("turns[2].spans[0].entity", "entity id 'e.4' contains '.', which only API results' ids do")


def test_catalogue_value_not_in_the_catalogue():
    d = base()
    set_value(d, "e1", "Bostn")
    assert check(d) == [I("turns[0].spans[0].value", "'Bostn' is not a value of slot type 'city'")]


def test_catalogue_value_the_text_does_not_spell():
    d = base()
    set_value(d, "e1", "Chicago")
    assert check(d) == [I("turns[0].spans[0].value", "span text 'Boston' is neither 'Chicago' nor one of its synonyms")]


def test_catalogue_spellings_in_any_case_are_fine():
    d = base()
    d["turns"][0]["text"] = d["turns"][0]["text"].replace("Boston", "BOSTON")
    assert check(d) == []


def test_builtin_value_the_text_does_not_mean():
    d = base()
    set_value(d, "e3", "2026-01-17")
    assert check(d) == [
        I(
            "turns[0].spans[2].value",
            "span text 'tomorrow' means '2026-01-16' (today being 2026-01-15), not '2026-01-17'",
        )
    ]


def test_the_reference_date_can_be_changed():
    checker = Checker(FLIGHTS, today=datetime.date(2026, 3, 3))
    assert checker.check(base())[0].message.startswith("span text 'tomorrow' means '2026-03-04'")
    assert REFERENCE_DATE.isoformat() == "2026-01-15"


def test_an_unreadable_builtin_text_needs_a_canonical_value():
    d = base()
    d["turns"][2]["text"] = "Great, book it for X passengers"
    assert check(d) == []  # "X" is beyond normalize, the value "2" is canonical: accepted
    set_value(d, "e4", "two")
    assert check(d) == [I("turns[2].spans[0].value", "'two' is not a canonical NUMBER value (a decimal integer)")]


def test_open_catalogues_accept_any_value():
    data = json.loads((ROOT / "examples" / "flights.json").read_text())
    references = next(s for s in data["slot_types"] if s["name"] == "booking_reference")
    references["values"] = []
    skill = skillspec.parse_skill(data)
    d = base() | {"spec_hash": skillspec.spec_hash(skill)}
    old = d["turns"][5]["actions"][0]["results"][0]["value"]
    set_value(d, "c2.booking_reference", "no. 12")
    for x in (d["turns"][5], d["turns"][5]["actions"][1]):
        x["text"] = x["text"].replace(old, "no. 12")
    assert Checker(skill).check(d) == []
    assert check(d | {"spec_hash": None}) == [
        I("turns[5].actions[0].results[0].value", "'no. 12' is not a value of slot type 'booking_reference'")
    ]


# ---------------------------------------------------------------- system turns


def test_turn_text_must_join_the_responses():
    d = base()
    d["turns"][5]["text"] = "Done."
    expected = " ".join(a["text"] for a in d["turns"][5]["actions"] if a["kind"] == "response")
    assert check(d) == [I("turns[5].text", f"must be the responses' texts joined by spaces: {expected!r}")]


def test_response_text_must_be_a_variant():
    d = base()
    set_response(d, 7, 0, "goodbye", "See ya")
    assert check(d) == [I("turns[7].actions[0].text", "'See ya' is no variant of template 'goodbye'")]


def test_response_text_placeholders_take_any_text():
    d = base()
    set_response(d, 7, 0, "goodbye", "Have a great trip!")
    assert check(d) == []
    args = d["turns"][3]["actions"][0]["arguments"]
    set_response(d, 3, 0, "confirm_booking", "Shall I book the red-eye for Monday for a party of many?", args)
    assert check(d) == []


def test_response_without_text():
    d = base()
    d["turns"][7]["actions"][0]["text"] = None
    d["turns"][7]["text"] = ""
    assert check(d) == [I("turns[7].actions[0].text", "a response needs its text")]


# ---------------------------------------------------------------- gold from real dialogues


def real_words() -> dict:
    """The base dialogue as a real user and system might have said it: "Beantown" is no synonym
    of Boston, "Frisco Bay" no value of the city catalogue, "See ya" no variant of goodbye."""
    d = base()
    first = d["turns"][0]
    first["text"] = first["text"].replace("Boston", "Beantown")
    first["spans"][0]["end"] += 2
    for span in first["spans"][1:]:
        span["start"] += 2
        span["end"] += 2
    set_value(d, "e2", "Frisco Bay")
    set_response(d, 7, 0, "goodbye", "See ya")
    return d


def test_sgd_gold_is_not_held_to_the_skills_language():
    assert Checker(FLIGHTS).check(real_words() | {"source": "sgd"}) == []
    assert checker_module.language_rules("sgd") is False
    assert all(checker_module.language_rules(s) for s in ("sample", "simulated"))


def test_the_same_words_break_the_language_rules_of_simulated_dialogues():
    assert check(real_words() | {"source": "simulated"}) == [
        I("turns[0].spans[0].value", "span text 'Beantown' is neither 'Boston' nor one of its synonyms"),
        I("turns[0].spans[1].value", "'Frisco Bay' is not a value of slot type 'city'"),
        I("turns[7].actions[0].text", "'See ya' is no variant of template 'goodbye'"),
    ]
    assert [i.path for i in check(real_words() | {"source": "sample"})] == [
        "turns[0].spans[0].value",
        "turns[0].spans[1].value",
        "turns[7].actions[0].text",
    ]


def test_sgd_gold_is_held_to_everything_structural():
    d = real_words() | {"source": "sgd"}
    d["turns"][0]["spans"][2]["end"] = 99  # beyond the text
    d["turns"][2]["spans"][0]["value"] = "3"  # the text says 2 (built-in values stay checked)
    d["turns"][3]["actions"][0]["arguments"][0]["entity"] = "c9.flight"
    set_value(d, "c2.booking_reference", "ZZ 999")  # results come from the catalogue
    d["turns"][7]["text"] = "Bye"
    del d["turns"][7]["actions"][1]
    d["turns"][4]["acts"] = ["deny"]
    assert check(d) == [
        I("turns[0].spans[2].end", "span end 99 is beyond the text's length 59"),
        I("turns[2].spans[0].value", "span text '2' means '2' (today being 2026-01-15), not '3'"),
        I(
            "turns[3].actions[0].arguments[0].entity",
            "unknown entity 'c9.flight': no earlier span or API result introduces it",
        ),
        I("turns[3].actions[0].arguments[1].value", "entity 'e4' has the value '3', not '2'"),
        I("turns[5].actions[0].arguments[1].value", "entity 'e4' has the value '3', not '2'"),
        I(
            "turns[5].actions[0]",
            "transactional API 'BookFlight' is called, but the user did not affirm its confirmation in turn 3",
        ),
        I("turns[5].actions[0].results[0].value", "'ZZ 999' is not a value of slot type 'booking_reference'"),
        I("turns[7].actions", "a system turn ends with a 'wait_for_user' action"),
        I("turns[7].text", "must be the responses' texts joined by spaces: 'See ya'"),
    ]


def test_unknown_api():
    d = base()
    d["turns"][5]["actions"][0]["name"] = "ReserveFlight"
    issues = check(d)
    assert issues[0] == I("turns[5].actions[0].name", "unknown API 'ReserveFlight'")
    # Its results are unknown, so what is bound to them is reported too.
    assert issues[1:] == [
        I(
            "turns[5].actions[1].arguments[1].entity",
            "entity 'c2.booking_reference' comes from an invalid span or API call (turn 5)",
        )
    ]


def test_unknown_template():
    d = base()
    d["turns"][7]["actions"][0]["name"] = "farewell"
    assert check(d) == [I("turns[7].actions[0].name", "unknown response template 'farewell'")]


def test_api_call_without_id():
    d = base()
    d["turns"][5]["actions"][0]["id"] = None
    issues = check(d)
    assert issues[0] == I("turns[5].actions[0].id", "an API call needs an id so that its results can be referred to")


def test_duplicate_call_id():
    d = base()
    call = d["turns"][5]["actions"][0]
    call["id"] = "c1"
    call["results"][0]["entity"] = "c1.booking_reference"
    assert check(d)[0] == I("turns[5].actions[0].id", "call id 'c1' is already used")


def test_a_call_id_must_not_be_a_span_id():
    d = base()
    d["turns"][1]["actions"][0]["id"] = "e1"
    assert check(d)[0] == I("turns[1].actions[0].id", "call id 'e1' is already used")


@pytest.mark.parametrize(
    ("t", "a", "change", "expected"),
    [
        (1, 1, {"id": "r1"}, I("turns[1].actions[1].id", "only an API call has an id")),
        (
            7,
            0,
            {"results": [{"entity": "x.y", "field": "y", "slot_type": "city", "value": "Boston"}]},
            I("turns[7].actions[0].results", "only an API call has results"),
        ),
        (1, 0, {"text": "Searching…"}, I("turns[1].actions[0].text", "only a response has a text")),
        (
            7,
            1,
            {"name": "listen"},
            I("turns[7].actions[1].name", "the wait action is named 'wait_for_user', not 'listen'"),
        ),
        (7, 1, {"id": "w"}, I("turns[7].actions[1].id", "only an API call has an id")),
        (7, 1, {"text": ""}, I("turns[7].actions[1].text", "only a response has a text")),
        (
            7,
            1,
            {"arguments": [{"name": "x", "entity": "e1", "turn": 0, "value": "Boston"}]},
            I("turns[7].actions[1].arguments", "the wait action has no arguments"),
        ),
    ],
)
def test_fields_an_action_of_its_kind_does_not_have(t, a, change, expected):
    d = base()
    d["turns"][t]["actions"][a] |= change
    assert check(d) == [expected]


def test_missing_wait():
    d = base()
    d["turns"][7]["actions"].pop()
    assert check(d) == [I("turns[7].actions", "a system turn ends with a 'wait_for_user' action")]


def test_wait_not_last():
    d = base()
    actions = d["turns"][7]["actions"]
    actions.insert(0, actions.pop())
    assert check(d) == [I("turns[7].actions[0]", "the wait action must be the turn's last action")]


def test_two_waits():
    d = base()
    d["turns"][7]["actions"].append({"kind": "wait", "name": "wait_for_user"})
    assert check(d) == [
        I("turns[7].actions[1]", "the wait action must be the turn's last action"),
        I("turns[7].actions[2]", "a system turn has exactly one wait action"),
    ]


def test_argument_the_api_does_not_have():
    d = base()
    d["turns"][1]["actions"][0]["arguments"].append({"name": "seat", "entity": "e1", "turn": 0, "value": "Boston"})
    assert check(d) == [I("turns[1].actions[0].arguments[3].name", "'SearchFlights' has no argument 'seat'")]


def test_argument_bound_twice():
    d = base()
    args = d["turns"][1]["actions"][0]["arguments"]
    args.append(dict(args[0]))
    assert check(d) == [I("turns[1].actions[0].arguments[3].name", "argument 'origin' is bound more than once")]


def test_required_api_argument_not_bound():
    d = base()
    d["turns"][1]["actions"][0]["arguments"].pop(2)
    assert check(d) == [I("turns[1].actions[0].arguments", "required argument 'date' is not bound")]


def test_optional_api_argument_may_be_left_out_and_may_be_bound():
    d = base()
    assert [a["name"] for a in d["turns"][1]["actions"][0]["arguments"]] == ["origin", "destination", "date"]
    assert check(d) == []  # cabin, optional with a default, is not bound


def test_template_argument_not_bound():
    d = base()
    d["turns"][1]["actions"][1]["arguments"].pop(2)
    assert check(d) == [I("turns[1].actions[1].arguments", "argument 'price' is not bound")]


def test_unknown_entity():
    d = base()
    d["turns"][1]["actions"][0]["arguments"][0]["entity"] = "e9"
    assert check(d) == [
        I("turns[1].actions[0].arguments[0].entity", "unknown entity 'e9': no earlier span or API result introduces it")
    ]


def test_entity_of_a_later_turn():
    d = base()
    arg = d["turns"][1]["actions"][0]["arguments"][0]
    arg |= {"name": "origin", "entity": "e4", "turn": 2, "value": "2"}
    assert check(d) == [I("turns[1].actions[0].arguments[0].entity", "entity 'e4' is introduced later, in turn 2")]


def test_entity_of_a_later_action_of_the_same_turn():
    d = base()
    actions = d["turns"][1]["actions"]
    actions[0], actions[1] = actions[1], actions[0]
    assert check(d) == [
        I(f"turns[1].actions[0].arguments[{k}].entity", f"entity 'c1.{f}' is produced by a later action of this turn")
        for k, f in enumerate(["flight", "departure_time", "price"])
    ]


def test_argument_turn_must_be_the_entitys():
    d = base()
    d["turns"][1]["actions"][0]["arguments"][0]["turn"] = 1
    assert check(d) == [I("turns[1].actions[0].arguments[0].turn", "entity 'e1' was introduced in turn 0, not 1")]


def test_argument_value_must_be_the_entitys():
    d = base()
    d["turns"][1]["actions"][0]["arguments"][0]["value"] = "New York"
    assert check(d) == [
        I("turns[1].actions[0].arguments[0].value", "entity 'e1' has the value 'Boston', not 'New York'")
    ]


def test_argument_slot_type_must_be_the_entitys():
    d = base()
    d["turns"][1]["actions"][0]["arguments"][0] |= {"entity": "e3", "value": "2026-01-16"}
    assert check(d) == [
        I("turns[1].actions[0].arguments[0].entity", "entity 'e3' is a date, but 'origin' takes a city")
    ]


# ---------------------------------------------------------------- results


def test_result_field_the_api_does_not_return():
    d = base()
    d["turns"][5]["actions"][0]["results"].append(
        {"entity": "c2.seat", "field": "seat", "slot_type": "number", "value": "12"}
    )
    assert check(d) == [I("turns[5].actions[0].results[1].field", "'BookFlight' returns no field 'seat'")]


def test_result_field_twice():
    d = base()
    results = d["turns"][5]["actions"][0]["results"]
    results.append(dict(results[0]))
    assert check(d) == [I("turns[5].actions[0].results[1].field", "field 'booking_reference' has more than one result")]


def test_result_entity_id():
    d = base()
    d["turns"][5]["actions"][0]["results"][0]["entity"] = "c2.ref"
    assert check(d) == [
        I("turns[5].actions[0].results[0].entity", "the result's entity id is 'c2.booking_reference', not 'c2.ref'")
    ]


def test_result_slot_type():
    d = base()
    d["turns"][1]["actions"][0]["results"][2]["slot_type"] = "number"
    assert check(d) == [I("turns[1].actions[0].results[2].slot_type", "field 'price' is a price, not a number")]


def test_result_values_are_canonical():
    d = base()
    set_value(d, "c1.price", "412.50")
    set_value(d, "c1.flight", "ZZ 1")
    d["turns"][1]["text"] = d["turns"][1]["actions"][1]["text"] = "I found ZZ 1, departing at 19:30, for $412.50."
    assert check(d) == [
        I("turns[1].actions[0].results[0].value", "'ZZ 1' is not a value of slot type 'flight'"),
        I("turns[1].actions[0].results[2].value", "'412.50' is not a canonical NUMBER value (a decimal integer)"),
    ]


def test_a_successful_call_returns_every_field():
    d = base()
    d["turns"][1]["actions"][0]["results"].pop(1)
    assert check(d) == [
        I(
            "turns[1].actions[0].results",
            "return field 'departure_time' has no result (a call returns every field, or none if it failed)",
        ),
        I(
            "turns[1].actions[1].arguments[1].entity",
            "unknown entity 'c1.departure_time': no earlier span or API result introduces it",
        ),
    ]


def test_a_failed_call_has_no_results_to_bind():
    d = base()
    d["turns"][5]["actions"][0]["results"] = []
    assert check(d) == [
        I(
            "turns[5].actions[1].arguments[1].entity",
            "unknown entity 'c2.booking_reference': call 'c2' returned no results",
        )
    ]


# ---------------------------------------------------------------- transactions


def test_transactional_call_without_confirmation():
    d = base()
    set_response(d, 3, 0, "request_passengers", "How many passengers will be travelling?")
    assert check(d) == [
        I("turns[5].actions[0]", "transactional API 'BookFlight' is called without a confirm_api response first")
    ]


def test_transactional_call_after_a_denied_confirmation():
    d = base()
    d["turns"][4]["acts"] = ["deny"]
    assert check(d) == [
        I(
            "turns[5].actions[0]",
            "transactional API 'BookFlight' is called, but the user did not affirm its confirmation in turn 3",
        )
    ]


def test_a_turn_without_acts_counts_as_affirming():
    d = base()
    d["turns"][4]["acts"] = []
    assert check(d) == []


def test_a_confirmation_is_used_up_by_the_call():
    d = base()
    second = copy.deepcopy(d["turns"][5])
    call = second["actions"][0]
    call["id"] = "c3"
    call["results"][0]["entity"] = "c3.booking_reference"
    second["actions"][1]["arguments"][1] |= {"entity": "c3.booking_reference", "turn": 7}
    d["turns"][6:] = [{"speaker": "user", "text": "Again!", "acts": ["request_more"], "spans": []}, second]
    assert check(d) == [
        I("turns[7].actions[0]", "transactional API 'BookFlight' is called without a confirm_api response first")
    ]


def test_the_call_uses_the_confirmed_values():
    d = samples_to_annotated(FLIGHTS)[3].model_dump(mode="json")  # corrects the passengers at confirmation
    assert check(d) == []
    assert d["turns"][7]["actions"][0]["arguments"][1] == {
        "name": "passengers",
        "entity": "e5",
        "turn": 4,
        "value": "4",
    }
    d["turns"][7]["actions"][0]["arguments"][1] |= {"entity": "e4", "turn": 2, "value": "3"}
    assert check(d) == [
        I("turns[7].actions[0].arguments[1].value", "the user confirmed passengers='4' in turn 5, not '3'")
    ]


# ---------------------------------------------------------------- files


def test_check_file(tmp_path):
    good = base()
    twin = base()
    bad = base()
    bad["turns"][0]["acts"] = ["shout"]
    other = base() | {"id": "sample-1"}
    lines = [json.dumps(good), "", json.dumps(bad | {"id": "sample-2"}), "{oops", json.dumps(twin), json.dumps(other)]
    path = tmp_path / "d.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "caf\xe9"}\n')
    n, problems = check_file(FLIGHTS, path)
    assert n == 6
    assert [(line, issue.path) for line, issue in problems] == [
        (3, "turns[0].acts[0]"),
        (4, ""),
        (5, "id"),
        (7, ""),
    ]
    assert problems[2][1].message == "duplicate dialogue id 'sample-0' (first on line 1)"
    assert problems[3][1].message.startswith("not valid JSON: 'utf-8' codec can't decode byte 0xe9")


def test_every_issue_path_names_a_place_in_the_record():
    # A dialogue broken in many ways at once: every path must resolve in the JSON object.
    d = base()
    d["turns"][0]["acts"] = ["shout"]
    d["turns"][1]["actions"][0]["arguments"][0]["turn"] = 5
    d["turns"][3]["actions"][0]["text"] = "Hm?"
    d["turns"][5]["actions"][0]["results"][0]["slot_type"] = "city"
    issues = check(d)
    assert len(issues) >= 4
    for issue in issues:
        node = d
        for key, index in re.findall(r"(\w+)(?:\[(\d+)\])?", issue.path):
            node = node[key]
            if index:
                node = node[int(index)]
