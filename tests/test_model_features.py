"""The encoder, its cache, and the features the models read."""

import datetime
import json
import sqlite3

import numpy as np
import pytest

import skillspec
from modeling.encoder import TextEncoder
from modeling.features import DialogueTracker, SkillIndex, SkillVocab
from skillspec.annotated import WAIT
from skillspec.catalogue import Catalogue

TODAY = datetime.date(2026, 1, 15)


@pytest.fixture(scope="module")
def index(flights_skill, encoder):
    return SkillIndex(flights_skill, hidden=encoder.hidden_size, today=TODAY)


def test_the_encoder_gives_one_row_per_word_piece_with_character_offsets(encoder):
    text = "Fly from Boston to Chicago"
    enc = encoder.encode(text)
    assert enc.embeddings.shape == (len(enc.offsets), 384)
    assert enc.embeddings.dtype == np.float16
    pieces = [text[s:e] for s, e in enc.offsets]
    assert pieces == ["fly", "from", "boston", "to", "chicago"] or pieces == ["Fly", "from", "Boston", "to", "Chicago"]
    assert encoder.encode("").embeddings.shape[0] == 0


def test_the_encoder_is_contextual_and_cached_per_text(encoder):
    a = encoder.encode("from Boston")
    b = encoder.encode("to Boston")
    assert not np.allclose(a.embeddings[1], b.embeddings[1])  # "Boston" differs by context
    assert encoder.encode("from Boston") is a


def test_the_disk_cache_serves_a_new_encoder_without_recomputing(tmp_path, encoder):
    first = TextEncoder(cache_dir=tmp_path)
    texts = ["book it for two", "a flight to Denver"]
    want = first.encode_many(texts)
    rows = sqlite3.connect(tmp_path / "embeddings.sqlite3").execute("SELECT COUNT(*), MIN(encoder) FROM emb").fetchone()
    assert rows == (2, first.identity)
    second = TextEncoder(cache_dir=tmp_path)
    second._run = lambda batch: pytest.fail(f"recomputed {batch}")  # type: ignore[method-assign]
    got = second.encode_many(texts)
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(w.embeddings, g.embeddings)
        assert np.array_equal(w.offsets, g.offsets)


def test_another_encoder_directory_works_through_configuration(tmp_path, encoder, monkeypatch):
    # A copy of the weights elsewhere is "any local BERT-family directory".
    import shutil

    other = tmp_path / "my-bert"
    shutil.copytree(encoder.path, other)
    monkeypatch.setenv("COLLOQUY_ENCODER", str(other))
    configured = TextEncoder()
    assert configured.path == str(other)
    assert np.allclose(configured.encode("hello").embeddings, encoder.encode("hello").embeddings)


def test_a_directory_without_an_encoder_is_refused_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="not an encoder directory"):
        TextEncoder(str(tmp_path))


def test_the_vocab_lists_every_label_space(flights_skill):
    v = SkillVocab.from_skill(flights_skill)
    assert v.actions[0] == WAIT
    assert set(v.actions) == {WAIT} | {a.name for a in flights_skill.apis} | {
        t.name for t in flights_skill.response_templates
    }
    assert "cannot_help" in v.templates and "fallback" not in v.templates  # the skill authors its own
    import skillspec

    bare = flights_skill.model_copy(
        update={"response_templates": [t for t in flights_skill.response_templates if t.act != "fallback"]}
    )
    assert SkillVocab.from_skill(bare).templates[-1] == skillspec.FALLBACK_NAME == "fallback"  # the default
    assert "B-city" in v.bio and "I-city" in v.bio and v.bio[0] == "O"
    assert "SearchFlights.origin" in v.arg_keys and "confirm_booking.passengers" in v.arg_keys
    assert SkillVocab.from_json(json.loads(json.dumps(v.to_json()))) == v


def test_the_catalogue_finds_values_and_synonyms_and_canonicalises(flights_skill):
    cat = Catalogue(flights_skill, today=TODAY)
    text = "from JFK to san francisco on friday"
    found = [(text[s:e], types) for s, e, types in cat.matches(text)]
    assert ("JFK", {"city"}) in found
    assert ("san francisco", {"city"}) in found
    assert cat.canonical("city", "JFK") == "New York"
    assert cat.canonical("date", "friday") == "2026-01-16"
    assert cat.canonical("number", "two") == "2"
    assert cat.canonical("city", "Atlantis ") == "Atlantis"  # not in the catalogue: the text itself
    assert cat.read("city", "Atlantis") == "Atlantis"  # catalogues are open
    assert cat.read("date", "person") is None and cat.canonical("date", "person") == "person"
    assert cat.read("number", "three") == "3"


def test_bio_labels_and_decoding_round_trip_to_character_offsets(index, encoder):
    text = "I need a flight from Salt Lake City to Chicago tomorrow"
    spans = [(21, 35, "city"), (39, 46, "city"), (47, 55, "date")]
    enc = encoder.encode(text)
    labels = index.bio_labels(enc, spans)
    decoded = index.decode_bio(text, enc, labels.tolist(), [0.9] * len(labels))
    assert [(s, e, t) for s, e, t, _ in decoded] == spans
    assert all(c == pytest.approx(0.9) for *_, c in decoded)


def test_a_stray_inside_tag_starts_a_span(index, encoder):
    text = "to Chicago"
    enc = encoder.encode(text)
    tags = [0, index.bio_index["I-city"]]
    assert index.decode_bio(text, enc, tags, [1.0, 0.5]) == [(3, 10, "city", 0.5)]


def test_candidates_are_type_compatible_newest_first_with_null_for_optional(index, encoder):
    tr = DialogueTracker(index)
    tr.add_user_turn(
        "Boston to Chicago",
        encoder.encode("Boston to Chicago"),
        [(0, 6, "city", "Boston", None, 1.0), (10, 17, "city", "Chicago", None, 1.0)],
    )
    tr.begin_system_turn()
    origin = tr.candidates("SearchFlights", "origin")
    assert [e.value for e in origin.entities] == ["Chicago", "Boston"]  # required: no "leave it unbound" candidate
    cabin = tr.candidates("SearchFlights", "cabin")
    assert cabin.entities == [None]  # optional with a default: only "leave it unbound"
    assert cabin.features[0, 2] == 1.0


def test_checkpoint_and_rollback_forget_a_predicted_turn(index, encoder):
    tr = DialogueTracker(index)
    tr.add_user_turn("Boston", encoder.encode("Boston"), [(0, 6, "city", "Boston", None, 1.0)])
    mark = tr.checkpoint()
    tr.begin_system_turn()
    tr.add_action("SearchFlights", {"origin": "e1"}, results=[("flight", "flight", "UA 1")])
    assert "c1.flight" in tr.by_key
    tr.rollback(mark)
    assert "c1.flight" not in tr.by_key and not tr.calls and tr.current is None
    assert len(tr.turns) == 1


def test_a_turn_answered_by_the_fallback_is_unsaid_and_the_state_is_as_before(index, encoder):
    tr = DialogueTracker(index)
    tr.add_user_turn("From Boston", encoder.encode("From Boston"), [(5, 11, "city", "Boston", None, 1.0)])
    tr.begin_system_turn()
    tr.add_action("request_destination", {})
    tr.end_system_turn()
    before = list(tr.by_key)
    text = "What's the weather in Chicago?"
    tr.add_user_turn(text, encoder.encode(text), [(22, 29, "city", "Chicago", None, 1.0)])
    assert "e2" in tr.by_key and tr.turns[-1].slot_types == {"city"}
    gone = tr.unsay_user_turn()
    assert [e.value for e in gone] == ["Chicago"] and list(tr.by_key) == before == ["e1"]
    assert tr.turns[-1].slot_types == set() and len(tr.turns) == 3  # the text stays in the context
    tr.begin_system_turn()
    assert [e.value for e in tr.candidates("SearchFlights", "destination").entities] == ["Boston"]
    assert tr.unsay_user_turn() == []  # nothing more to forget in that turn


def test_a_fallback_turn_between_a_confirmation_and_its_answer_is_passed_over(index, encoder):
    from modeling.consistency import check_action

    tr = DialogueTracker(index)

    def user(text, spans=()):
        tr.add_user_turn(text, encoder.encode(text), list(spans))

    def system(*actions):
        tr.begin_system_turn()
        for name, bound in actions:
            tr.add_action(name, bound)
        tr.end_system_turn()

    user("UA 1 for 2 tomorrow", [(0, 4, "flight", "UA 1", None, 1.0), (9, 10, "number", "2", None, 1.0),
                                  (11, 19, "date", "2026-01-16", None, 1.0)])  # fmt: skip
    bound = {"flight": "e1", "passengers": "e2", "date": "e3"}
    entities = {name: tr.by_key[key] for name, key in bound.items()}
    system(("confirm_booking", bound), (WAIT, {}))
    user("Tell me a joke")
    system((index.fallback, {}), (WAIT, {}))
    user("Yes please")
    assert tr.answered_turn() == 1  # the confirmation, not the fallback
    tr.begin_system_turn()
    assert check_action(index, tr, "BookFlight", entities).ok
    tr.add_action(index.fallback, {})
    assert not check_action(index, tr, "request_date", {}).ok  # nothing but waiting after the fallback
    # Without the confirmation before the fallback, the call is refused as unconfirmed.
    bare = DialogueTracker(index)
    for text in ("UA 1 for 2 tomorrow", "Tell me a joke"):
        bare.add_user_turn(text, encoder.encode(text), [])
        bare.begin_system_turn()
        bare.add_action(index.fallback, {})
        bare.end_system_turn()
    bare.add_user_turn("Yes", encoder.encode("Yes"), [])
    bare.begin_system_turn()
    assert bare.answered_turn() is None
    assert "not confirmed" in check_action(index, bare, "BookFlight", entities).reason


def test_step_features_see_calls_and_their_failure(index, encoder):
    tr = DialogueTracker(index)
    tr.add_user_turn("Boston", encoder.encode("Boston"), [(0, 6, "city", "Boston", None, 1.0)])
    tr.begin_system_turn()
    before = tr.step_features()
    tr.add_action("SearchFlights", {"origin": "e1"}, results=None)
    after = tr.step_features()
    assert after[-3] == 1.0 and before[-3] == 0.0  # "the last call failed"
    assert tr.turn_matrix().shape == (1, index.turn_size)


def test_skillindex_sizes_follow_the_skill():
    skill = skillspec.parse_skill(
        {
            "name": "Tiny",
            "slot_types": [{"name": "thing", "values": [{"value": "lamp"}]}],
            "apis": [{"name": "Find", "arguments": [{"name": "what", "slot_type": "thing"}]}],
            "response_templates": [{"name": "bye", "act": "goodbye", "variants": ["Bye."]}],
        }
    )
    ix = SkillIndex(skill, hidden=8, today=TODAY)
    # The skill authors no fallback response: the default one is an action too.
    assert ix.vocab.actions == (WAIT, "Find", "bye", "fallback")
    assert ix.turn_size == 8 + 1 + 4 + 3


def test_mentions_resolve_to_the_one_catalogue_value_they_name():
    skill = skillspec.parse_skill(
        {
            "name": "Resolve",
            "slot_types": [
                {"name": "city", "values": [{"value": v} for v in ("San Francisco", "Las Vegas", "San Diego", "Lima")]},
                {"name": "day", "values": [{"value": d} for d in ("2019-03-01", "2019-03-10", "2019-03-13")]},
            ],
        }
    )
    cat = Catalogue(skill, today=TODAY)
    assert cat.read("city", "SF") == "San Francisco"  # initials
    assert cat.read("city", "Vegas") == "Las Vegas"  # the words of one value
    assert cat.read("city", "San") == "San"  # two values contain it: unresolved, the text itself
    assert cat.read("city", "the") == "the"  # a common word names nothing
    assert cat.read("city", "Lima") == "Lima"
    # A catalogue of ISO dates reads spoken dates against its own period when today's gives no catalogue date.
    assert cat.read("day", "10th of March") == "2019-03-10"
    assert cat.read("day", "march 1st") == "2019-03-01"
    assert cat.read("day", "the 2nd") == "the 2nd"  # 2019-03-02 is not in the catalogue
