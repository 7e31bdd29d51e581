"""Sample dialogues in the annotated format, and the mock API backend behind them."""

import datetime
import json
import random
from pathlib import Path

import pytest

import skillspec
from simulator.backend import MockBackend
from simulator.checker import REFERENCE_DATE, Checker, check_file
from simulator.samples import samples_to_annotated
from simulator.text import Value
from skillspec.annotated import WAIT, AnnotatedDialogue, Source, dumps_dialogue, read_dialogues, write_dialogues

ROOT = Path(__file__).resolve().parent.parent
SKILLS = {
    name: skillspec.parse_skill((ROOT / "examples" / f"{name}.json").read_bytes()) for name in ("flights", "pizza")
}
FLIGHTS = SKILLS["flights"]


def by_name(skill: skillspec.Skill, name: str) -> tuple[int, AnnotatedDialogue]:
    index = next(i for i, d in enumerate(skill.sample_dialogues) if d.name == name)
    return index, samples_to_annotated(skill)[index]


# ---------------------------------------------------------------- samples


@pytest.mark.parametrize("name", sorted(SKILLS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_converted_sample_passes_the_checker(name, seed):
    skill = SKILLS[name]
    dialogues = samples_to_annotated(skill, seed=seed)
    assert len(dialogues) == len(skill.sample_dialogues)
    checker = Checker(skill)
    assert {d.id: checker.check(d) for d in dialogues} == {d.id: [] for d in dialogues}


@pytest.mark.parametrize("name", sorted(SKILLS))
def test_written_samples_pass_the_file_checker(name, tmp_path):
    skill = SKILLS[name]
    path = tmp_path / "samples.jsonl"
    with path.open("w", encoding="utf-8") as f:
        write_dialogues(samples_to_annotated(skill), f)
    assert check_file(skill, path) == (len(skill.sample_dialogues), [])
    assert [d.id for d in read_dialogues(path)] == [f"sample-{i}" for i in range(len(skill.sample_dialogues))]


def test_record_fields_come_from_the_skill_and_the_sample():
    dialogues = samples_to_annotated(FLIGHTS)
    assert [d.id for d in dialogues] == [f"sample-{i}" for i in range(len(FLIGHTS.sample_dialogues))]
    assert {d.skill for d in dialogues} == {"Flights"}
    assert {d.spec_hash for d in dialogues} == {skillspec.spec_hash(FLIGHTS)}
    assert {d.source for d in dialogues} == {Source.SAMPLE}
    assert [d.test for d in dialogues] == [s.test for s in FLIGHTS.sample_dialogues]
    assert any(d.test for d in dialogues)


def test_the_same_seed_gives_the_same_output_and_another_seed_another():
    first = [dumps_dialogue(d) for d in samples_to_annotated(FLIGHTS, seed=5)]
    assert [dumps_dialogue(d) for d in samples_to_annotated(FLIGHTS, seed=5)] == first
    assert [dumps_dialogue(d) for d in samples_to_annotated(FLIGHTS, seed=6)] != first
    # Texts and turns are the sample's whatever the seed; only results and response wording vary.
    other = samples_to_annotated(FLIGHTS, seed=6)
    for a, b in zip(samples_to_annotated(FLIGHTS, seed=5), other, strict=True):
        assert [t.text for t in a.turns if t.speaker == "user"] == [t.text for t in b.turns if t.speaker == "user"]


def test_spans_get_canonical_values():
    _, d = by_name(FLIGHTS, "asks for each missing detail")
    spans = {
        s.entity: (d.turns[t].text[s.start : s.end], s.value)
        for t in range(0, len(d.turns), 2)
        for s in d.turns[t].spans
    }
    assert spans["e2"] == ("JFK", "New York")  # a synonym, value given by the sample
    assert spans["e3"] == ("next Friday", "2026-01-23")  # Thursday 15 January 2026 + 8 days
    assert spans["e4"] == ("three", "3")
    _, d = by_name(SKILLS["pizza"], "asks for each detail")
    values = [s.value for t in d.turns if t.speaker == "user" for s in t.spans]
    assert values == ["medium", "mushroom", "1", "18:30"]


def test_a_synonym_without_a_given_value_is_looked_up():
    data = json.loads((ROOT / "examples" / "flights.json").read_text())
    span = data["sample_dialogues"][1]["turns"][2]["spans"][0]
    assert (span["text"], span.pop("value")) == ("JFK", "New York")
    skill = skillspec.parse_skill(data)
    d = samples_to_annotated(skill)[1]
    assert d.turns[2].spans[0].value == "New York"
    assert Checker(skill).check(d) == []


def test_arguments_name_entity_turn_and_value():
    _, d = by_name(FLIGHTS, "search and book it")
    search = d.turns[1].actions[0]
    assert search.kind == "api"
    assert search.id == "c1"
    assert [(a.name, a.entity, a.turn, a.value) for a in search.arguments] == [
        ("origin", "e1", 0, "Boston"),
        ("destination", "e2", 0, "San Francisco"),
        ("date", "e3", 0, "2026-01-16"),
    ]
    assert [(r.entity, r.field, r.slot_type) for r in search.results] == [
        ("c1.flight", "flight", "flight"),
        ("c1.departure_time", "departure_time", "time"),
        ("c1.price", "price", "price"),
    ]
    flight = search.results[0].value
    booking = d.turns[5].actions[0]
    assert booking.arguments[0].model_dump() == {"name": "flight", "entity": "c1.flight", "turn": 1, "value": flight}
    assert [a.kind for a in d.turns[5].actions] == ["api", "response", "response", "wait"]
    assert d.turns[5].actions[-1].name == WAIT


def test_responses_show_what_the_user_said_and_the_results_values():
    _, d = by_name(FLIGHTS, "search and book it")
    confirm = d.turns[3].actions[0]
    flight = d.turns[1].actions[0].results[0].value
    assert confirm.name == "confirm_booking"
    assert confirm.text is not None
    assert "tomorrow" in confirm.text  # the span's surface, not 2026-01-16
    assert flight in confirm.text
    assert "2" in confirm.text
    assert d.turns[3].text == confirm.text
    assert d.turns[5].text == " ".join(a.text for a in d.turns[5].actions if a.text)


def test_a_call_followed_by_its_failure_has_no_results():
    _, d = by_name(FLIGHTS, "booking fails")
    calls = [a for t in d.turns if t.speaker == "system" for a in t.actions if a.kind == "api"]
    assert [(c.name, len(c.results)) for c in calls] == [
        ("SearchFlights", 3),
        ("BookFlight", 0),
        ("SearchFlights", 3),
        ("BookFlight", 1),
    ]
    _, d = by_name(FLIGHTS, "no flights, tries another day")
    assert d.turns[1].actions[0].results == []
    assert len(d.turns[3].actions[0].results) == 3


@pytest.mark.parametrize(
    ("skill", "name", "acts"),
    [
        ("flights", "search and book it", [["invoke"], ["invoke"], ["affirm"], ["goodbye"]]),
        (
            "flights",
            "corrects the passengers at confirmation",
            [["invoke"], ["invoke"], ["deny", "change"], ["affirm"], ["goodbye"]],
        ),
        (
            "flights",
            "changes the destination",
            [["invoke"], ["change"], ["request_more"], ["invoke"], ["affirm"], ["goodbye"]],
        ),
        (
            "flights",
            "business class with a confirmation of the route",
            [["invoke"], ["affirm"], ["affirm"], ["affirm", "inform"], ["affirm"], ["goodbye"]],
        ),
        ("flights", "no flights, tries another day", [["invoke"], ["change"], ["deny"], ["goodbye"]]),
        (
            "flights",
            "booking fails",
            [
                ["invoke"],
                ["inform"],
                ["inform"],
                ["invoke"],
                ["affirm"],
                ["request_more"],
                ["invoke"],
                ["affirm"],
                ["goodbye"],
            ],
        ),
        ("pizza", "price check, then order", [["invoke"], ["affirm", "inform"], ["affirm"], ["goodbye"]]),
    ],
)
def test_user_acts_are_inferred(skill, name, acts):
    _, d = by_name(SKILLS[skill], name)
    assert [t.acts for t in d.turns if t.speaker == "user"] == acts


def test_a_sample_with_an_unreadable_builtin_value_is_reported_not_hidden():
    data = json.loads((ROOT / "examples" / "flights.json").read_text())
    turn = data["sample_dialogues"][1]["turns"][4]
    assert turn["text"] == "next Friday"
    turn["text"] = "whenever"
    turn["spans"][0] |= {"end": 8, "text": "whenever"}
    skill = skillspec.parse_skill(data)
    d = samples_to_annotated(skill)[1]
    assert d.turns[4].spans[0].value == "whenever"
    assert Checker(skill).check(d)[0] == skillspec.Issue(
        "turns[4].spans[0].value", "'whenever' is not a canonical DATE value (YYYY-MM-DD)"
    )


# ---------------------------------------------------------------- the mock backend


def test_backend_rows_have_every_return_field_with_values_of_its_type():
    backend = MockBackend(FLIGHTS)
    flights = {v.value for v in FLIGHTS.slot_types[6].values}
    sizes = set()
    for seed in range(200):
        result = backend.call("SearchFlights", {}, random.Random(seed))
        assert result.success
        sizes.add(len(result.rows))
        for row in result.rows:
            assert set(row) == {"flight", "departure_time", "price"}
            assert row["flight"].value in flights
            assert row["flight"].text == row["flight"].value
            t = row["departure_time"]
            assert t.slot_type == "time"
            assert skillspec.normalize("TIME", t.text, today=REFERENCE_DATE) == t.value
            assert 10 <= int(row["price"].value) <= 999  # a price, not "two"
        assert len({row["flight"].value for row in result.rows}) == len(result.rows)  # distinct rows
    assert sizes == {1, 2, 3}


def test_backend_echoes_arguments_of_a_returned_slot_type():
    skill = skillspec.parse_skill(
        {
            "name": "Tables",
            "slot_types": [{"name": "date", "builtin": "DATE"}, {"name": "table", "values": [{"value": "T1"}]}],
            "apis": [
                {
                    "name": "Reserve",
                    "arguments": [{"name": "day", "slot_type": "date"}],
                    "returns": [{"name": "table", "slot_type": "table"}, {"name": "when", "slot_type": "date"}],
                }
            ],
        }
    )
    day = Value("date", "2026-01-16", "tomorrow")
    result = MockBackend(skill).call("Reserve", {"day": day}, random.Random(1))
    assert result.rows
    assert all(row["when"] == day and row["table"].value == "T1" for row in result.rows)  # one value: repeated


def test_backend_is_deterministic_given_the_rng():
    backend = MockBackend(SKILLS["pizza"])
    args = {"size": Value("size", "large", "large")}
    assert backend.call("CheckPrice", args, random.Random(9)) == backend.call("CheckPrice", args, random.Random(9))
    runs = {tuple(backend.call("OrderPizza", args, random.Random(s)).rows[0]["order_number"].value) for s in range(20)}
    assert len(runs) > 1


def test_backend_failures():
    assert not MockBackend(FLIGHTS, failure_rate=1.0).call("BookFlight", {}, random.Random(0)).success
    results = [MockBackend(FLIGHTS, failure_rate=0.5).call("BookFlight", {}, random.Random(s)) for s in range(200)]
    failed = sum(not r.success for r in results)
    assert 60 < failed < 140
    assert all(r.rows == () for r in results if not r.success)
    # The failure draw does not shift the rows of calls that succeed.
    ok = MockBackend(FLIGHTS).call("BookFlight", {}, random.Random(3))
    flaky = MockBackend(FLIGHTS, failure_rate=0.01).call("BookFlight", {}, random.Random(3))
    assert flaky == ok
    with pytest.raises(ValueError, match="failure_rate"):
        MockBackend(FLIGHTS, failure_rate=2)
    with pytest.raises(KeyError, match="FlyMe"):
        MockBackend(FLIGHTS).call("FlyMe", {}, random.Random(0))


def test_backend_dates_are_relative_to_its_reference_date():
    skill = skillspec.parse_skill(
        {
            "name": "Dates",
            "slot_types": [{"name": "date", "builtin": "DATE"}],
            "apis": [{"name": "NextFree", "returns": [{"name": "day", "slot_type": "date"}]}],
        }
    )
    today = datetime.date(2030, 6, 1)
    for seed in range(50):
        for row in MockBackend(skill, today=today).call("NextFree", {}, random.Random(seed)).rows:
            assert skillspec.normalize("DATE", row["day"].text, today=today) == row["day"].value
    assert MockBackend(skill).today == REFERENCE_DATE
