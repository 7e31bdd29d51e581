"""skillspec.context: the one definition of a dialogue's entities and their ids, used by every layer."""

import pytest

import skillspec
from skillspec import ContextEntity, EntityIds, EntitySource
from tests.test_spec_validation import MINI


def test_ids_are_the_lowest_numbers_not_taken():
    ids = EntityIds(["e1", "e3", "c2.flight", "c4"])
    assert [ids.span(), ids.span(), ids.span()] == ["e2", "e4", "e5"]
    assert [ids.call(), ids.call(), ids.call()] == ["c1", "c3", "c5"]
    # A result id takes its call's id; spans and calls are numbered apart.
    assert "c2" in ids and "c2.other" in ids and "e4" in ids
    assert "c6" not in ids and "e6" not in ids and None not in ids


def test_taking_an_id_later_is_respected_and_a_copy_goes_its_own_way():
    ids = EntityIds()
    assert ids.span() == "e1"
    ids.take("e2")
    mark = ids.copy()
    assert ids.span() == "e3" and ids.call() == "c1"
    # The copy is where the original was when copied: a tracker's rollback hands the same ids out again.
    assert mark.span() == "e3" and mark.call() == "c1"
    assert ids.span() == "e4"


def test_id_helpers_build_and_split_one_spelling():
    assert skillspec.span_id(3) == "e3" and skillspec.call_id(2) == "c2"
    assert skillspec.result_id("c2", "price") == "c2.price"
    assert skillspec.split_result_id("c2.price") == ("c2", "price")
    assert skillspec.split_result_id("e1") is None


def test_a_sample_dialogue_s_entities_say_where_they_came_from():
    skill = skillspec.parse_skill(MINI)
    entities = skillspec.dialogue_entities(skill, skill.sample_dialogues[0])
    assert [(e.id, e.source) for e in entities] == [
        ("e1", EntitySource.SPAN),
        ("e2", EntitySource.SPAN),
        ("c1.flight", EntitySource.RESULT),
    ]
    span, result = entities[0], entities[2]
    assert span.text and span.value and span.action is None
    assert result.action == 0 and result.text == ""
    with pytest.raises(AttributeError):
        span.turn = 5  # type: ignore[misc]  # frozen: every layer shares one value


def test_every_layer_s_entity_is_the_spec_s():
    from modeling.features import Entity as ModelEntity
    from simulator import agents, checker
    from simulator.sgd import convert, turns

    assert issubclass(ModelEntity, ContextEntity)
    assert issubclass(turns._Entity, ContextEntity)
    # The simulator's agents and checker hold the spec's own class (no layer defines another),
    # and so do the SGD importer's records of a dialogue and its conversion.
    for module in (agents, checker, turns, convert):
        assert not [
            name
            for name, obj in vars(module).items()
            if isinstance(obj, type)
            and "Entity" in name
            and obj.__module__ == module.__name__
            and not issubclass(obj, ContextEntity)
        ], module.__name__
