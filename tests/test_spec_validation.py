"""Every rule of skillspec.validation: one failing case each (exact path and message), and passing cases.

The cases mutate the valid mini skill (tests/data/mini_skill.json):
slot types city (Boston/BOS), date (DATE), flight; API SearchFlights(origin, date) -> flight;
templates offer_flight(flight), request_date; utterance set "search"; dialogue d1:
  0 user "fly from Boston" [e1]  1 system request_date  2 user "tomorrow" [e2]
  3 system SearchFlights c1(origin=e1, date=e2), offer_flight(flight=c1.flight)
"""

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import skillspec

MINI = json.loads((Path(__file__).parent / "data" / "mini_skill.json").read_text())
D = "sample_dialogues[0]"


def problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(skillspec.SpecValidationError) as exc:
        skillspec.parse_skill(data)
    return [(i.path, i.message) for i in exc.value.issues]


def mutated(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    data = copy.deepcopy(MINI)
    change(data)
    return data


def turn(d: dict[str, Any], t: int) -> dict[str, Any]:
    return d["sample_dialogues"][0]["turns"][t]


def action(d: dict[str, Any], t: int, a: int) -> dict[str, Any]:
    return turn(d, t)["actions"][a]


def span(d: dict[str, Any], t: int, s: int) -> dict[str, Any]:
    return turn(d, t)["spans"][s]


SEARCH_CALL = {"kind": "api", "name": "SearchFlights", "id": "c1", "arguments": {"origin": "e1", "date": "e2"}}

CASES: list[tuple[str, Callable[[dict[str, Any]], Any], list[tuple[str, str]]]] = [
    # --- unique names, per kind
    (
        "duplicate slot type",
        lambda d: d["slot_types"].append({"name": "city", "values": [{"value": "Paris"}]}),
        [("slot_types[3].name", "duplicate slot type name 'city'")],
    ),
    (
        "duplicate API",
        lambda d: d["apis"].append({"name": "SearchFlights"}),
        [("apis[1].name", "duplicate API name 'SearchFlights'")],
    ),
    (
        "duplicate response template",
        lambda d: d["response_templates"].append(copy.deepcopy(d["response_templates"][0])),
        [("response_templates[2].name", "duplicate response template name 'offer_flight'")],
    ),
    (
        "duplicate utterance set",
        lambda d: d["utterance_sets"].append(copy.deepcopy(d["utterance_sets"][0])),
        [("utterance_sets[1].name", "duplicate utterance set name 'search'")],
    ),
    (
        "duplicate sample dialogue",
        lambda d: d["sample_dialogues"].append(copy.deepcopy(d["sample_dialogues"][0])),
        [("sample_dialogues[1].name", "duplicate sample dialogue name 'd1'")],
    ),
    (
        # The first definition stands; only the duplicate is reported, not everything it shadows.
        "duplicate API with other arguments",
        lambda d: d["apis"].append({"name": "SearchFlights", "arguments": [{"name": "when", "slot_type": "date"}]}),
        [("apis[1].name", "duplicate API name 'SearchFlights'")],
    ),
    (
        "duplicate response template with other arguments",
        lambda d: d["response_templates"].append({"name": "offer_flight", "act": "goodbye", "variants": ["Bye!"]}),
        [("response_templates[2].name", "duplicate response template name 'offer_flight'")],
    ),
    (
        "template named like an API",
        lambda d: d["response_templates"].append({"name": "SearchFlights", "act": "goodbye", "variants": ["Bye!"]}),
        [("response_templates[2].name", "'SearchFlights' is already an API name; actions share one namespace")],
    ),
    (
        "duplicate API argument",
        lambda d: d["apis"][0]["arguments"].append({"name": "origin", "slot_type": "city"}),
        [("apis[0].arguments[2].name", "duplicate argument name 'origin'")],
    ),
    (
        "duplicate return field",
        lambda d: d["apis"][0]["returns"].append({"name": "flight", "slot_type": "flight"}),
        [("apis[0].returns[1].name", "duplicate return field name 'flight'")],
    ),
    (
        "duplicate template argument",
        lambda d: d["response_templates"][0]["arguments"].append({"name": "flight", "slot_type": "flight"}),
        [("response_templates[0].arguments[1].name", "duplicate argument name 'flight'")],
    ),
    (
        "duplicate utterance argument",
        lambda d: d["utterance_sets"][0]["arguments"].append({"name": "origin", "slot_type": "city"}),
        [("utterance_sets[0].arguments[1].name", "duplicate argument name 'origin'")],
    ),
    (
        "duplicate catalogue value",
        lambda d: d["slot_types"][0]["values"].append({"value": "Boston"}),
        [("slot_types[0].values[1].value", "duplicate value 'Boston'")],
    ),
    # --- unknown slot types, APIs and templates
    (
        "API argument of an unknown slot type",
        lambda d: d["apis"][0]["arguments"].append({"name": "cabin", "slot_type": "cabin", "required": False}),
        [("apis[0].arguments[2].slot_type", "unknown slot type 'cabin'")],
    ),
    (
        "return field of an unknown slot type",
        lambda d: d["apis"][0]["returns"].append({"name": "price", "slot_type": "money"}),
        [("apis[0].returns[1].slot_type", "unknown slot type 'money'")],
    ),
    (
        "template argument of an unknown slot type",
        lambda d: d["response_templates"].append(
            {
                "name": "say_price",
                "act": "inform",
                "arguments": [{"name": "p", "slot_type": "money"}],
                "variants": ["{p}"],
            }
        ),
        [("response_templates[2].arguments[0].slot_type", "unknown slot type 'money'")],
    ),
    (
        "utterance argument of an unknown slot type",
        lambda d: d["utterance_sets"][0]["arguments"].append({"name": "when", "slot_type": "moment"}),
        [
            ("utterance_sets[0].arguments[1].slot_type", "unknown slot type 'moment'"),
            ("utterance_sets[0].arguments[1].name", "argument 'when' is used by no variant"),
        ],
    ),
    (
        "span of an unknown slot type",
        lambda d: span(d, 2, 0).update(slot_type="when"),
        [
            (f"{D}.turns[2].spans[0].slot_type", "unknown slot type 'when'"),
            (f"{D}.turns[3].actions[0].arguments.date", "entity e2 is a when, but 'date' takes a date"),
        ],
    ),
    (
        "template of an unknown API",
        lambda d: d["response_templates"][1].update(api="BookFlight"),
        [("response_templates[1].api", "unknown API 'BookFlight'")],
    ),
    (
        "utterance set of an unknown API",
        lambda d: d["utterance_sets"][0].update(api="BookFlight"),
        [("utterance_sets[0].api", "unknown API 'BookFlight'")],
    ),
    (
        "call of an unknown API",
        lambda d: action(d, 3, 0).update(name="BookFlight"),
        [
            (f"{D}.turns[3].actions[0].name", "unknown API 'BookFlight'"),
            (f"{D}.turns[3].actions[1].arguments.flight", "bound to unknown entity 'c1.flight'"),
        ],
    ),
    (
        "unknown response template",
        lambda d: action(d, 1, 0).update(name="ask_date"),
        [(f"{D}.turns[1].actions[0].name", "unknown response template 'ask_date'")],
    ),
    # --- placeholders
    (
        "template placeholder that is not an argument",
        lambda d: d["response_templates"][0]["variants"].append("How about {flght}?"),
        [
            ("response_templates[0].variants[1]", "placeholder {flght} is not an argument"),
            ("response_templates[0].variants[1]", "argument 'flight' has no {flight} placeholder"),
        ],
    ),
    (
        "template argument missing from a variant",
        lambda d: d["response_templates"][0]["variants"].append("I found a flight."),
        [("response_templates[0].variants[1]", "argument 'flight' has no {flight} placeholder")],
    ),
    (
        "utterance placeholder that is not an argument",
        lambda d: d["utterance_sets"][0]["variants"].append("fly to {destination}"),
        [("utterance_sets[0].variants[2]", "placeholder {destination} is not an argument")],
    ),
    (
        "utterance argument used by no variant",
        lambda d: d["utterance_sets"][0]["arguments"].append({"name": "date", "slot_type": "date"}),
        [("utterance_sets[0].arguments[1].name", "argument 'date' is used by no variant")],
    ),
    # --- response template rules
    (
        "request_args template without an API",
        lambda d: d["response_templates"][1].pop("api"),
        [("response_templates[1].api", "a request_args template must name its API")],
    ),
    (
        "confirm_api template without an API",
        lambda d: d["response_templates"].append({"name": "confirm", "act": "confirm_api", "variants": ["OK?"]}),
        [("response_templates[2].api", "a confirm_api template must name its API")],
    ),
    (
        "request_args template that requests nothing",
        lambda d: d["response_templates"][1].update(requested=[]),
        [("response_templates[1].requested", "a request_args template must name the arguments it asks for")],
    ),
    (
        "requesting an argument the API does not have",
        lambda d: d["response_templates"][1].update(requested=["date", "destination"]),
        [("response_templates[1].requested[1]", "'destination' is not an argument of API 'SearchFlights'")],
    ),
    (
        "requested arguments on another act",
        lambda d: d["response_templates"][0].update(requested=["date"]),
        [("response_templates[0].requested", "only a request_args template asks for arguments")],
    ),
    (
        "invoke utterance set without an API",
        lambda d: d["utterance_sets"][0].pop("api"),
        [("utterance_sets[0].api", "an invoke utterance set must name the API it invokes")],
    ),
    # --- APIs and slot types
    (
        "default on a required argument",
        lambda d: d["apis"][0]["arguments"][0].update(default="Boston"),
        [("apis[0].arguments[0].default", "only an optional argument can have a default")],
    ),
    (
        "built-in slot type with catalogue values",
        lambda d: d["slot_types"][1].update(values=[{"value": "tomorrow"}]),
        [("slot_types[1].values", "a built-in DATE slot type has no catalogue values")],
    ),
    (
        "synonym that already stands for another value",
        lambda d: d["slot_types"][0]["values"].append({"value": "Baltimore", "synonyms": ["BWI", "bos"]}),
        [("slot_types[0].values[1].synonyms[1]", "'bos' already stands for value 'Boston'")],
    ),
    (
        "value that is another value's synonym",
        lambda d: d["slot_types"][0]["values"].append({"value": "Bos"}),
        [("slot_types[0].values[1].value", "'Bos' already stands for value 'Boston'")],
    ),
    # --- turns and spans
    (
        "dialogue starting with the system",
        lambda d: d["sample_dialogues"][0].update(turns=[turn(d, 1)]),
        [(f"{D}.turns[0].speaker", "turns alternate, starting with the user: turn 0 must be a user turn")],
    ),
    (
        "two user turns in a row",
        lambda d: d["sample_dialogues"][0]["turns"].extend([{"speaker": "user", "text": "thanks"}] * 2),
        [(f"{D}.turns[5].speaker", "turns alternate, starting with the user: turn 5 must be a system turn")],
    ),
    (
        "span beyond the text",
        lambda d: span(d, 0, 0).update(end=16, text="Boston "),
        [(f"{D}.turns[0].spans[0].end", "span end 16 is beyond the text's length 15")],
    ),
    (
        "empty span",
        lambda d: span(d, 0, 0).update(start=15, end=15, text=""),
        [(f"{D}.turns[0].spans[0].end", "span end 15 must be greater than its start 15")],
    ),
    (
        "span text that does not match the offsets",
        lambda d: span(d, 0, 0).update(text="Bostn"),
        [(f"{D}.turns[0].spans[0].text", "span text 'Bostn' does not match the utterance at 9:15 ('Boston')")],
    ),
    (
        "overlapping spans",
        lambda d: turn(d, 0)["spans"].append({"id": "e3", "start": 12, "end": 15, "slot_type": "city", "text": "ton"}),
        [(f"{D}.turns[0].spans[1]", "span overlaps span 0 (9:15)")],
    ),
    (
        # A long span overlapping two later ones, which do not overlap each other.
        "a span overlapping a non-adjacent one",
        lambda d: turn(d, 0).update(
            spans=[
                {"id": "e1", "start": 0, "end": 15, "slot_type": "city", "text": "fly from Boston"},
                {"id": "e3", "start": 4, "end": 8, "slot_type": "city", "text": "from"},
                {"id": "e4", "start": 9, "end": 15, "slot_type": "city", "text": "Boston"},
            ]
        ),
        [
            (f"{D}.turns[0].spans[1]", "span overlaps span 0 (0:15)"),
            (f"{D}.turns[0].spans[2]", "span overlaps span 0 (0:15)"),
        ],
    ),
    (
        "span value that is not in the catalogue",
        lambda d: span(d, 0, 0).update(value="Bostonia"),
        [(f"{D}.turns[0].spans[0].value", "'Bostonia' is not a value of slot type 'city'")],
    ),
    (
        "duplicate span id",
        lambda d: span(d, 2, 0).update(id="e1"),
        [
            (f"{D}.turns[2].spans[0].id", "duplicate entity id 'e1'"),
            (f"{D}.turns[3].actions[0].arguments.date", "bound to unknown entity 'e2'"),
        ],
    ),
    # --- actions
    (
        "API call without an id",
        lambda d: action(d, 3, 0).pop("id"),
        [
            (f"{D}.turns[3].actions[0].id", "an API call needs an id so that its results can be referred to"),
            (f"{D}.turns[3].actions[1].arguments.flight", "bound to unknown entity 'c1.flight'"),
        ],
    ),
    (
        "duplicate call id",
        lambda d: turn(d, 3)["actions"].insert(1, copy.deepcopy(SEARCH_CALL)),
        [(f"{D}.turns[3].actions[1].id", "duplicate entity id 'c1'")],
    ),
    (
        "call id that is a span id",
        lambda d: action(d, 3, 0).update(id="e1"),
        [
            (f"{D}.turns[3].actions[0].id", "duplicate entity id 'e1'"),
            (f"{D}.turns[3].actions[1].arguments.flight", "bound to unknown entity 'c1.flight'"),
        ],
    ),
    (
        "response with an id",
        lambda d: action(d, 1, 0).update(id="r1"),
        [(f"{D}.turns[1].actions[0].id", "only an API call has an id")],
    ),
    # --- bindings
    (
        "binding an argument the API does not have",
        lambda d: action(d, 3, 0)["arguments"].update(destination="e1"),
        [(f"{D}.turns[3].actions[0].arguments.destination", "'SearchFlights' has no argument 'destination'")],
    ),
    (
        "binding an argument the template does not have",
        lambda d: action(d, 3, 1)["arguments"].update(price="e1"),
        [(f"{D}.turns[3].actions[1].arguments.price", "'offer_flight' has no argument 'price'")],
    ),
    (
        "binding to an unknown entity",
        lambda d: action(d, 3, 0)["arguments"].update(date="e9"),
        [(f"{D}.turns[3].actions[0].arguments.date", "bound to unknown entity 'e9'")],
    ),
    (
        "binding to a call id instead of one of its results",
        lambda d: action(d, 3, 1)["arguments"].update(flight="c1"),
        [(f"{D}.turns[3].actions[1].arguments.flight", "bound to unknown entity 'c1'")],
    ),
    (
        "binding to a result field the API does not return",
        lambda d: action(d, 3, 1)["arguments"].update(flight="c1.price"),
        [(f"{D}.turns[3].actions[1].arguments.flight", "bound to unknown entity 'c1.price'")],
    ),
    (
        "binding to a span of a later user turn",
        lambda d: turn(d, 1)["actions"].insert(0, copy.deepcopy(SEARCH_CALL) | {"id": "c0"}),
        [(f"{D}.turns[1].actions[0].arguments.date", "bound to entity e2 which is not available before turn 1")],
    ),
    (
        "binding to the result of a call made later in the same turn",
        lambda d: turn(d, 3)["actions"].reverse(),
        [
            (
                f"{D}.turns[3].actions[0].arguments.flight",
                "bound to entity c1.flight which is not available before turn 3",
            )
        ],
    ),
    (
        "binding an entity of another slot type",
        lambda d: action(d, 3, 1)["arguments"].update(flight="e1"),
        [(f"{D}.turns[3].actions[1].arguments.flight", "entity e1 is a city, but 'flight' takes a flight")],
    ),
    (
        "required API argument not bound",
        lambda d: action(d, 3, 0)["arguments"].pop("date"),
        [(f"{D}.turns[3].actions[0].arguments.date", "required argument 'date' is not bound")],
    ),
    (
        "template argument not bound",
        lambda d: action(d, 3, 1)["arguments"].clear(),
        [(f"{D}.turns[3].actions[1].arguments.flight", "argument 'flight' is not bound")],
    ),
    # --- the shape of the file (pydantic), with the same paths
    ("unknown top-level field", lambda d: d.update(author="me"), [("author", "unknown field")]),
    (
        "unknown nested field",
        lambda d: d["slot_types"][0].update(colour="red"),
        [("slot_types[0].colour", "unknown field")],
    ),
    (
        "field of the other kind of turn",
        lambda d: turn(d, 0).update(actions=[]),
        [(f"{D}.turns[0].actions", "unknown field")],
    ),
    (
        "name that is not an identifier",
        lambda d: d["apis"][0].update(name="Search Flights"),
        [
            ("apis[0].name", "must start with a letter and contain only letters, digits and _"),
            # Everything that referred to the old name is reported in the same round.
            ("response_templates[1].api", "unknown API 'SearchFlights'"),
            ("utterance_sets[0].api", "unknown API 'SearchFlights'"),
            (f"{D}.turns[3].actions[0].name", "unknown API 'SearchFlights'"),
            (f"{D}.turns[3].actions[1].arguments.flight", "bound to unknown entity 'c1.flight'"),
        ],
    ),
    (
        "bound argument name that is not an identifier",
        lambda d: action(d, 3, 0)["arguments"].update({"from-city": "e1"}),
        [
            (
                f"{D}.turns[3].actions[0].arguments.from-city",
                "must start with a letter and contain only letters, digits and _",
            )
        ],
    ),
    ("missing skill name", lambda d: d.pop("name"), [("name", "Field required")]),
    (
        "template without variants",
        lambda d: d["response_templates"][0].update(variants=[]),
        [("response_templates[0].variants", "List should have at least 1 item after validation, not 0")],
    ),
    (
        "unknown built-in type",
        lambda d: d["slot_types"][1].update(builtin="COLOR"),
        [("slot_types[1].builtin", "Input should be 'DATE', 'TIME' or 'NUMBER'")],
    ),
    (
        "unknown speaker",
        lambda d: turn(d, 1).update(speaker="robot"),
        [
            (
                f"{D}.turns[1]",
                "Input tag 'robot' found using 'speaker' does not match any of the expected tags: 'user', 'system'",
            )
        ],
    ),
    (
        "negative span start",
        lambda d: span(d, 0, 0).update(start=-1),
        [(f"{D}.turns[0].spans[0].start", "Input should be greater than or equal to 0")],
    ),
    (
        "NUL characters, which PostgreSQL cannot store",
        lambda d: (d.update(description="a\x00b"), turn(d, 2).update(text="to\x00morrow")),
        [
            ("description", "must not contain the NUL character"),
            (f"{D}.turns[2].text", "must not contain the NUL character"),
        ],
    ),
    (
        "unsupported spec version",
        lambda d: d.update(spec_version="2.0"),
        [("spec_version", "unsupported spec version '2.0'; this Colloquy reads 1.0")],
    ),
    (
        "spec version that is not a string",
        lambda d: d.update(spec_version=1.0),
        [("spec_version", 'must be a string such as "1.0", not 1.0')],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_reports_its_path_and_reason(change, expected):
    assert problems(mutated(change)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("How about {}?", "bad placeholder {}"),
        ("How about {0}?", "bad placeholder {0}"),
        ("How about {flight:>10}?", "bad placeholder {flight:>10}"),
        ("How about {flight!r}?", "bad placeholder {flight!r}"),
        ("How about {flight.number}?", "bad placeholder {flight.number}"),
        ("How about {flight?", "expected '}' before end of string"),
        ("How about flight}?", "Single '}' encountered in format string"),
    ],
)
def test_bad_placeholder_syntax(text, message):
    data = mutated(lambda d: d["response_templates"][0]["variants"].append(text))
    assert problems(data) == [("response_templates[0].variants[1]", message)]


def test_invalid_json_and_non_objects():
    assert problems('{"name": ') == [("", "not valid JSON: Expecting value: line 1 column 10 (char 9)")]
    assert problems(b"\xff\xfe\x00")[0][1].startswith("not valid JSON: ")
    assert problems("[1, 2]") == [("", "a skill must be a JSON object")]


def test_every_problem_is_reported_at_once_in_document_order():
    def break_things(d):
        d["apis"][0]["arguments"][0]["slot_type"] = "town"
        d["response_templates"][1]["requested"] = ["when"]
        span(d, 0, 0)["text"] = "Bostn"

    assert problems(mutated(break_things)) == [
        ("apis[0].arguments[0].slot_type", "unknown slot type 'town'"),
        ("response_templates[1].requested[0]", "'when' is not an argument of API 'SearchFlights'"),
        (f"{D}.turns[0].spans[0].text", "span text 'Bostn' does not match the utterance at 9:15 ('Boston')"),
        (f"{D}.turns[3].actions[0].arguments.origin", "entity e1 is a city, but 'origin' takes a town"),
    ]


def test_badly_spelled_names_do_not_hide_the_other_problems():
    """A name with a space is a structural error, yet the semantic problems are reported with it."""

    def break_things(d):
        d["slot_types"][0]["name"] = "my city"
        d["apis"][0]["arguments"][0]["slot_type"] = "my city"  # still refers to the renamed type
        d["response_templates"][0]["variants"] = ["How about {flght}?"]

    assert problems(mutated(break_things)) == [
        ("slot_types[0].name", "must start with a letter and contain only letters, digits and _"),
        ("apis[0].arguments[0].slot_type", "must start with a letter and contain only letters, digits and _"),
        ("response_templates[0].variants[0]", "placeholder {flght} is not an argument"),
        ("response_templates[0].variants[0]", "argument 'flight' has no {flight} placeholder"),
        ("utterance_sets[0].arguments[0].slot_type", "unknown slot type 'city'"),
        (f"{D}.turns[0].spans[0].slot_type", "unknown slot type 'city'"),
        # The stand-in's respelled name never shows: messages use the name as the user wrote it.
        (f"{D}.turns[3].actions[0].arguments.origin", "entity e1 is a city, but 'origin' takes a my city"),
    ]


def test_other_structural_errors_stop_before_semantic_checks():
    def break_things(d):
        d["slot_types"][0]["name"] = "my city"
        d["response_templates"][0]["variants"] = []  # not a name problem: no stand-in is possible

    assert problems(mutated(break_things)) == [
        ("slot_types[0].name", "must start with a letter and contain only letters, digits and _"),
        ("response_templates[0].variants", "List should have at least 1 item after validation, not 0"),
    ]


def test_parse_model_prefixes_paths():
    with pytest.raises(skillspec.SpecValidationError) as exc:
        skillspec.parse_model(skillspec.Api, {"name": "X", "arguments": [{"name": "a"}]}, path="apis[4]")
    assert [(i.path, i.message) for i in exc.value.issues] == [("apis[4].arguments[0].slot_type", "Field required")]


# --- passing cases


def test_the_mini_skill_is_valid_and_round_trips():
    skill = skillspec.parse_skill(json.dumps(MINI))
    assert skillspec.validate_skill(skill) == []
    assert skillspec.parse_skill(skillspec.dump_skill(skill)) == skill
    assert skill.spec_version == "1.0"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d.update(spec_version="1.0"), id="explicit spec version"),
        pytest.param(
            lambda d: d["apis"][0]["arguments"].append({"name": "cabin", "slot_type": "city", "required": False}),
            id="optional argument left unbound",
        ),
        pytest.param(
            lambda d: d["apis"][0]["arguments"].append(
                {"name": "seats", "slot_type": "city", "required": False, "default": "Boston"}
            ),
            id="optional argument with a default",
        ),
        pytest.param(
            lambda d: d["response_templates"][0]["variants"].append("{{Deal}} {flight}!"), id="literal braces"
        ),
        pytest.param(
            lambda d: turn(d, 0).update(
                text="fly from BOS",
                spans=[{"id": "e1", "start": 9, "end": 12, "slot_type": "city", "text": "BOS", "value": "Boston"}],
            ),
            id="synonym span with its canonical value",
        ),
        pytest.param(
            lambda d: turn(d, 0)["spans"].append(
                {"id": "e3", "start": 0, "end": 3, "slot_type": "city", "text": "fly"}
            ),
            id="touching but not overlapping spans",
        ),
        pytest.param(
            lambda d: d["response_templates"].append(
                {"name": "SearchFlights_done", "act": "offer", "api": "SearchFlights", "variants": ["Done."]}
            ),
            id="offer template may name an API",
        ),
        pytest.param(lambda d: d["sample_dialogues"][0].update(turns=[], test=True), id="empty test dialogue"),
        pytest.param(
            lambda d: turn(d, 3)["actions"].append(
                {"kind": "response", "name": "offer_flight", "arguments": {"flight": "c1.flight"}}
            ),
            id="a result bound again later in the turn",
        ),
    ],
)
def test_valid_variations(change):
    skill = skillspec.parse_skill(mutated(change))
    assert skillspec.validate_skill(skill) == []


def test_entities_available_to_each_action():
    skill = skillspec.parse_skill(MINI)
    dialogue = skill.sample_dialogues[0]
    assert [e.id for e in skillspec.dialogue_entities(skill, dialogue)] == ["e1", "e2", "c1.flight"]
    assert [e.id for e in skillspec.available_entities(skill, dialogue, 1)] == ["e1"]
    assert [e.id for e in skillspec.available_entities(skill, dialogue, 3, 0)] == ["e1", "e2"]
    assert [e.id for e in skillspec.available_entities(skill, dialogue, 3, 1)] == ["e1", "e2", "c1.flight"]


# --- lint: advice that does not make a skill invalid


def lint(change: Callable[[dict[str, Any]], Any]) -> list[tuple[str, str]]:
    return [(i.path, i.message) for i in skillspec.lint_skill(skillspec.parse_skill(mutated(change)))]


def test_lint_is_quiet_for_the_mini_skill():
    assert lint(lambda d: None) == []


def test_lint_warnings():
    assert lint(lambda d: d["slot_types"].append({"name": "cabin"})) == [
        ("slot_types[3].values", "the catalogue is empty")
    ]
    assert lint(lambda d: d["apis"].append({"name": "Cancel"})) == [
        ("apis[1]", "API 'Cancel' is called in no sample dialogue")
    ]
    assert lint(lambda d: d["apis"][0].update(transactional=True)) == [
        (f"{D}.turns[3].actions[0]", "transactional API 'SearchFlights' is called without a confirm_api response first")
    ]
    assert lint(lambda d: d.update(sample_dialogues=[])) == [
        ("apis[0]", "API 'SearchFlights' is called in no sample dialogue"),
        ("sample_dialogues", "no sample dialogues: a build needs at least one"),
    ]


def test_lint_accepts_a_transactional_call_after_confirmation():
    def confirm_first(d):
        d["apis"][0]["transactional"] = True
        d["response_templates"].append(
            {"name": "confirm", "act": "confirm_api", "api": "SearchFlights", "variants": ["OK?"]}
        )
        turn(d, 1)["actions"].append({"kind": "response", "name": "confirm"})

    assert lint(confirm_first) == []


def test_one_reading_of_template_text_placeholders_braces_and_missing_values():
    from skillspec import placeholders, render, template_parts

    text = "Hi {name}, {{VIP}} seats on {date}}}"
    parts = template_parts(text)
    assert [field for _, field in parts if field] == ["name", "date"]
    assert "".join(literal for literal, _ in parts) == "Hi , {VIP} seats on }"
    assert placeholders(text) == ["name", "date"]
    assert render(text, {"name": "Ann", "date": "May 2"}) == "Hi Ann, {VIP} seats on May 2}"
    with pytest.raises(KeyError, match="date"):
        render(text, {"name": "Ann"})
    assert render(text, {"name": "Ann"}, keep_missing=True) == "Hi Ann, {VIP} seats on {date}}"
    for bad, why in (("{}", "bad placeholder {}"), ("{0}", "bad placeholder {0}"), ("{a:>3}", "bad placeholder {a:>3}"),
                     ("{a!r}", "bad placeholder {a!r}"), ("{a.b}", "bad placeholder {a.b}")):  # fmt: skip
        with pytest.raises(ValueError, match=re.escape(why)):
            template_parts(bad)
    with pytest.raises(ValueError, match="Single '}'"):
        placeholders("a } b")
