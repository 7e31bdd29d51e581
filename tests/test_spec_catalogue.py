"""skillspec.catalogue: one reading of a catalogue for the spec, the simulator, the studio and the models."""

import datetime

import skillspec
from simulator.backend import MockBackend
from simulator.checker import Checker
from simulator.samples import _Converter
from skillspec.catalogue import Catalogue, catalogue_forms, form_key
from studio.skills.dialogue_services import _catalogue_value

TODAY = datetime.date(2026, 1, 15)
SKILL = {
    "name": "Trips",
    "slot_types": [
        {"name": "city", "values": [{"value": "New York", "synonyms": ["NYC", "the Big Apple"]}, {"value": "Boston"}]},
        {"name": "when", "builtin": "DATE"},
    ],
}


def skill() -> skillspec.Skill:
    return skillspec.parse_skill(SKILL)


def test_a_form_is_compared_without_case_or_runs_of_spaces():
    assert form_key("  The   Big\tApple ") == "the big apple" == form_key("the big apple")
    st = skill().slot_types[0]
    assert catalogue_forms(st) == {
        "new york": "New York",
        "nyc": "New York",
        "the big apple": "New York",
        "boston": "Boston",
    }


def test_the_first_value_to_claim_a_form_keeps_it_and_validation_names_the_second():
    data = {
        "name": "X",
        "slot_types": [
            {"name": "c", "values": [{"value": "A", "synonyms": ["z"]}, {"value": "B", "synonyms": ["Z "]}]}
        ],
    }
    st = skillspec.SlotType.model_validate(data["slot_types"][0])
    assert catalogue_forms(st)["z"] == "A"
    issues = skillspec.validate_skill(skillspec.Skill.model_validate(data))
    assert [(i.path, i.message) for i in issues] == [
        ("slot_types[0].values[1].synonyms[0]", "'Z ' already stands for value 'A'")
    ]


def test_every_layer_reads_an_oddly_spaced_synonym_as_the_same_value():
    s, said = skill(), "the  big APPLE"
    # The models at run time, the sample converter, the checker and the dialogue editor.
    assert Catalogue(s, today=TODAY).canonical("city", said) == "New York"
    assert _Converter(s, today=TODAY, backend=MockBackend(s)).span_value("city", said, None) == "New York"
    checker = Checker(s, check_spec_hash=False)
    assert checker._span_value(checker.slots["city"], "city", said, "New York", True) is None
    assert "neither" in checker._span_value(checker.slots["city"], "city", said, "Boston", True)
    assert _catalogue_value(s, "city", said) == "New York"
    assert _catalogue_value(s, "city", "new  york") is None  # the value itself, not a synonym
    assert _catalogue_value(s, "city", "Chicago") is None


def test_the_runtime_reading_goes_further_than_the_forms():
    cat = Catalogue(skill(), today=TODAY)
    assert cat.canonical("city", "York") == "New York"  # the one value containing the words
    assert cat.canonical("city", "NY") == "New York"  # its initials
    assert cat.read("when", "tomorrow") == "2026-01-16"
    assert cat.read("when", "purple") is None and cat.canonical("city", "Chicago") == "Chicago"
