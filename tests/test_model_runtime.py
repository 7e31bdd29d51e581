"""The runtime dialogue manager: what one turn returns, API execution, and thread safety."""

import threading

import pytest

from skillspec.annotated import WAIT


class Backend:
    """A developer's API, recorded (the one thing outside our system)."""

    def __init__(self, fail: set[str] = frozenset(), explode: set[str] = frozenset()):
        self.calls: list[tuple[str, dict]] = []
        self.fail, self.explode = fail, explode

    def __call__(self, api, arguments):
        self.calls.append((api, dict(arguments)))
        if api in self.explode:
            raise ConnectionError("backend down")
        if api in self.fail:
            return None
        if api == "SearchFlights":
            return {"flight": "UA 837", "departure_time": "19:30", "price": "412"}
        return {"booking_reference": "K7Q2XM"}


def names(turn):
    return [a.name for a in turn.actions]


def test_a_search_turn_recognises_calls_and_responds(manager):
    backend = Backend()
    session = manager.new_session()
    text = "Find me a flight from Boston to Chicago tomorrow"
    turn = manager.respond(session, text, executor=backend)
    assert [(s.text, s.slot_type, s.value) for s in turn.spans] == [
        ("Boston", "city", "Boston"),
        ("Chicago", "city", "Chicago"),
        ("tomorrow", "date", "2026-01-16"),
    ]
    for s in turn.spans:
        assert text[s.start : s.end] == s.text and 0.5 < s.confidence <= 1.0 and s.entity.startswith("e")
    assert names(turn)[0] == "SearchFlights" and names(turn)[-1] == WAIT
    # The unbound optional argument goes to the API with its default.
    assert backend.calls == [
        ("SearchFlights", {"origin": "Boston", "destination": "Chicago", "date": "2026-01-16", "cabin": "economy"})
    ]
    call = turn.actions[0]
    assert call.kind == "api" and call.call_id == "c1" and call.results["flight"] == "UA 837"
    assert "UA 837" in turn.response
    assert turn.response == " ".join(a.text for a in turn.actions if a.text)


def test_a_turn_the_skill_does_not_handle_gets_the_fallback_and_changes_nothing(manager, monkeypatch):
    # The tiny model is not sure enough for the shipped minimum: take its first choice as it is.
    monkeypatch.setattr(manager, "fallback_min_probability", 0.0)
    backend = Backend()
    session = manager.new_session()
    manager.respond(session, "I need a flight from Boston", executor=backend)
    before = [(e.id, e.value) for e in session.tracker.entities]
    assert ("e1", "Boston") in before
    # Neither text is one the simulator says (its pool has "...find a dentist near me?"), and "Denver"
    # is a city the skill knows: it must not become the destination.
    for text in ("Could you recommend a good pasta recipe?", "Can you help me find a dentist in Denver?"):
        turn = manager.respond(session, text, executor=backend)
        assert names(turn) == ["cannot_help", WAIT] and turn.spans == []
        assert turn.response.startswith(("Sorry", "I'm afraid"))
        assert [(e.id, e.value) for e in session.tracker.entities] == before
    assert backend.calls == []
    # The dialogue goes on where it was: the resumed session sees the same state.
    resumed = manager.resume([t.to_dict() for t in session.history])
    assert [(e.id, e.value) for e in resumed.tracker.entities] == before
    # Below the minimum probability the fallback is refused, and the decision says why.
    monkeypatch.setattr(manager, "fallback_min_probability", 1.01)
    turn = manager.respond(manager.new_session(), "Could you recommend a good pasta recipe?", executor=backend)
    assert "cannot_help" not in names(turn)
    refused = [d for a in turn.actions for d in a.decisions if d.proposed == "cannot_help"]
    assert refused and not refused[0].accepted and "below the minimum" in refused[0].reason


def test_every_action_carries_probabilities_alternatives_and_pointers(manager):
    turn = manager.respond(
        manager.new_session(), "Find me a flight from Boston to Chicago tomorrow", executor=Backend()
    )
    for a in turn.actions:
        assert 0.0 < a.probability <= 1.0
        probs = [p for _, p in a.alternatives]
        assert probs == sorted(probs, reverse=True) and len(a.alternatives) == 4
        assert a.decisions[-1].accepted and a.decisions[-1].proposed == a.name
        for arg in a.arguments:
            weights = [w for _, _, w in arg.attention]
            assert sum(weights) == pytest.approx(1.0, abs=1e-4)
            if arg.entity is not None:
                assert arg.entity in [k for k, _, _ in arg.attention]
    origin = next(x for x in turn.actions[0].arguments if x.name == "origin")
    assert {k for k, _, _ in origin.attention} == {"e1", "e2"}  # both cities, nothing else
    assert origin.entity == "e1" and origin.turn == 0
    data = turn.to_dict()
    assert set(data) == {"text", "spans", "actions", "response"}
    assert set(data["actions"][0]) >= {
        "kind",
        "name",
        "probability",
        "alternatives",
        "arguments",
        "results",
        "consistency",
    }
    assert data["actions"][0]["arguments"][0]["attention"][0].keys() == {"entity", "value", "weight"}


def test_booking_follows_confirmation_with_the_found_flight(manager):
    backend = Backend()
    s = manager.new_session()
    manager.respond(s, "Find me a flight from Boston to Chicago tomorrow", executor=backend)
    confirm = manager.respond(s, "Book it for two people", executor=backend)
    assert names(confirm) == ["confirm_booking", WAIT]
    values = confirm.actions[0].values()
    assert values == {"flight": "UA 837", "passengers": "2", "date": "2026-01-16"}
    flight = next(x for x in confirm.actions[0].arguments if x.name == "flight")
    assert flight.entity == "c1.flight"  # anaphora: "it" is the search result
    booked = manager.respond(s, "Yes please", executor=backend)
    assert names(booked)[0] == "BookFlight"
    assert backend.calls[-1] == ("BookFlight", {"flight": "UA 837", "passengers": "2", "date": "2026-01-16"})
    assert "K7Q2XM" in booked.response


def test_a_failed_call_is_recorded_and_the_turn_goes_on(manager):
    turn = manager.respond(
        manager.new_session(),
        "Find me a flight from Boston to Chicago tomorrow",
        executor=Backend(fail={"SearchFlights"}),
    )
    call = turn.actions[0]
    assert call.name == "SearchFlights" and call.results is None and call.error is None
    assert names(turn)[-1] == WAIT
    assert "UA 837" not in turn.response


def test_an_executor_that_raises_is_a_failed_call_not_a_crash(manager):
    turn = manager.respond(
        manager.new_session(),
        "Find me a flight from Boston to Chicago tomorrow",
        executor=Backend(explode={"SearchFlights"}),
    )
    assert turn.actions[0].results is None
    assert turn.actions[0].error == "ConnectionError: backend down"
    assert names(turn)[-1] == WAIT


def test_missing_arguments_are_requested_not_called(manager):
    backend = Backend()
    turn = manager.respond(manager.new_session(), "I'd like to fly to Denver", executor=backend)
    assert backend.calls == []
    assert names(turn)[0].startswith("request_") and names(turn)[-1] == WAIT


def test_sessions_are_independent_and_the_manager_is_thread_safe(manager):
    script = ["Find me a flight from Boston to Chicago tomorrow", "Book it for two people", "Yes please"]

    def run():
        s = manager.new_session()
        return [[(a.name, a.values()) for a in manager.respond(s, t, executor=Backend()).actions] for t in script]

    expected = run()
    results: list = [None] * 4
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, run())) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def test_an_empty_utterance_is_handled(manager):
    turn = manager.respond(manager.new_session(), "   ", executor=Backend())
    assert turn.spans == [] and names(turn)[-1] == WAIT


def test_a_builtin_span_the_normaliser_cannot_read_is_dropped(manager, monkeypatch):
    index = manager.index()
    text = "two person"

    def fake(batch):
        # "two" tagged as a number (readable), "person" as a time (not readable).
        return [[index.bio_index["B-number"], index.bio_index["B-time"]]], [[0.9, 0.8]]

    monkeypatch.setattr(manager.models.ner, "predict", fake)
    _, spans = manager.recognise(manager.new_session().tracker, text)
    assert [(s.text, s.slot_type, s.value) for s in spans] == [("two", "number", "2")]


def test_a_resumed_session_carries_on_exactly_as_the_one_in_memory(manager):
    """What a web process that restarted does: replay the stored turns, then answer the next one."""
    texts = ["Find me a flight from Boston to Chicago tomorrow", "Book it for two people", "Yes please"]
    live = manager.new_session()
    stored = [manager.respond(live, t, executor=Backend()).to_dict() for t in texts[:2]]
    for turn in stored:
        assert [a["request"] is not None for a in turn["actions"]] == [a["kind"] == "api" for a in turn["actions"]]
    assert stored[0]["actions"][0]["request"]["cabin"] == "economy"  # the default that was sent
    resumed = manager.resume(stored)
    assert [t.to_dict()["spans"] for t in resumed.history] == [t["spans"] for t in stored]
    assert [e.id for e in resumed.tracker.entities] == [e.id for e in live.tracker.entities]
    assert [(c.api, c.key, c.arguments) for c in resumed.tracker.calls] == [
        (c.api, c.key, c.arguments) for c in live.tracker.calls
    ]
    assert (resumed.tracker.turn_matrix() == live.tracker.turn_matrix()).all()
    backend_live, backend_resumed = Backend(), Backend()
    a = manager.respond(live, texts[2], executor=backend_live).to_dict()
    b = manager.respond(resumed, texts[2], executor=backend_resumed).to_dict()
    assert a == b and backend_live.calls == backend_resumed.calls
    assert [x["name"] for x in a["actions"]][0] == "BookFlight"


def test_resuming_refuses_a_history_of_another_skill(manager):
    turn = manager.respond(
        manager.new_session(), "Find me a flight from Boston to Chicago", executor=Backend()
    ).to_dict()
    turn["actions"][0]["name"] = "OrderPizza"
    with pytest.raises(ValueError, match="OrderPizza"):
        manager.resume([turn])


def test_each_turn_runs_the_context_lstms_over_its_new_turns_only_and_answers_as_a_fresh_replay(manager, monkeypatch):
    """A conversation's context is carried from turn to turn (the cost of a turn does not grow with
    the dialogue); what it answers is what a session replayed from the stored turns answers."""
    from modeling.context import TurnContext

    fed: list[int] = []
    advance = TurnContext.advance

    def counting(self, rows, state):
        fed.append(len(rows))
        return advance(self, rows, state)

    monkeypatch.setattr(TurnContext, "advance", counting)
    texts = [
        "Find me a flight from Boston to Chicago tomorrow",
        "actually make it Denver",
        "Book it for two people",
        "Yes please",
        "thanks",
    ]
    live = manager.new_session()
    stored = []
    for i, text in enumerate(texts):
        fed.clear()
        replayed = manager.resume(stored)
        assert fed == []  # replaying stored turns predicts nothing, so runs no LSTM
        a = manager.respond(live, text, executor=Backend()).to_dict()
        # NER reads the turns before the utterance, the action models those up to it: after the
        # first turn each advances over two new turns (NER: the last user and system turns; the
        # others: the last system turn and this utterance), however long the dialogue is.
        assert fed == ([0, 1, 1] if i == 0 else [2, 2, 2]), (i, fed)
        fed.clear()
        b = manager.respond(replayed, text, executor=Backend()).to_dict()
        assert fed == [2 * i, 2 * i + 1, 2 * i + 1]  # a fresh session runs over the whole dialogue once
        assert a == b, i
        stored.append(a)
    assert len(stored) == len(texts) and live.tracker.turn_index == 2 * len(texts)


def test_responses_render_templates_as_the_spec_reads_them(manager):
    """``{{`` and ``}}`` are literal braces (the spec's rule, as the simulator renders them);
    an argument left unfilled shows as its placeholder."""
    from modeling.runtime import DialogueManager

    turn = manager.respond(
        manager.new_session(), "Find me a flight from Boston to Chicago tomorrow", executor=Backend()
    )
    shown = [a for a in turn.actions if a.kind == "response" and a.text]
    assert shown, "the search turn answers with a response template"
    name = shown[0].name
    templates = [
        t.model_copy(update={"variants": ["{{VIP}} " + t.variants[0] + " {{" + "}}", *t.variants[1:]]})
        if t.name == name
        else t
        for t in manager.skill.response_templates
    ]
    skill = manager.skill.model_copy(update={"response_templates": templates})
    braced = DialogueManager(skill=skill, models=manager.models, encoder=manager.encoder, today=manager.today)
    again = braced.respond(braced.new_session(), "Find me a flight from Boston to Chicago tomorrow", executor=Backend())
    text = next(a.text for a in again.actions if a.name == name)
    assert text == "{VIP} " + shown[0].text + " {}"


def test_a_stored_turn_reads_back_as_the_turn_that_was_stored(manager):
    """``TurnResult.from_dict`` is the one reader of the stored turn format: every field survives."""
    from modeling.runtime import TurnResult

    session = manager.new_session()
    stored = [
        manager.respond(session, text, executor=Backend(fail={"BookFlight"})).to_dict()
        for text in ["Find me a flight from Boston to Chicago tomorrow", "Book it for two people", "Yes please"]
    ]
    actions = [a for turn in stored for a in turn["actions"]]
    assert {a["kind"] for a in actions} == {"api", "response", "wait"}
    assert any(a["arguments"] and a["arguments"][0]["attention"] for a in actions)
    assert any(a["consistency"] for a in actions) and any(a["results"] is None and a["kind"] == "api" for a in actions)
    for turn in stored:
        again = TurnResult.from_dict(turn)
        assert again.to_dict() == turn
    assert len(stored) == 3
    with pytest.raises(KeyError, match="text"):
        TurnResult.from_dict({"spans": [], "actions": []})
