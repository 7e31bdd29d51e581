"""The consistency check refuses invalid predictions and the runtime takes the best valid alternative."""

import datetime

import pytest
import torch

from modeling.consistency import check_action
from modeling.features import DialogueTracker, SkillIndex
from skillspec.annotated import WAIT

TODAY = datetime.date(2026, 1, 15)


@pytest.fixture(scope="module")
def index(flights_skill, encoder):
    return SkillIndex(flights_skill, hidden=encoder.hidden_size, today=TODAY)


def user(tr, encoder, text, spans):
    return tr.add_user_turn(text, encoder.encode(text), [(s, e, t, v, None, 1.0) for s, e, t, v in spans])


@pytest.fixture
def searched(index, encoder):
    """A dialogue after a successful search: Boston -> Chicago tomorrow, UA 837 found."""
    tr = DialogueTracker(index)
    user(
        tr,
        encoder,
        "Boston to Chicago tomorrow",
        [(0, 6, "city", "Boston"), (10, 17, "city", "Chicago"), (18, 26, "date", "2026-01-16")],
    )
    tr.begin_system_turn()
    tr.add_action(
        "SearchFlights",
        {"origin": "e1", "destination": "e2", "date": "e3"},
        call_key="c1",
        results=[("flight", "flight", "UA 837"), ("departure_time", "time", "19:30"), ("price", "price", "412")],
    )
    tr.add_action("offer_flight", {"flight": "c1.flight", "departure_time": "c1.departure_time", "price": "c1.price"})
    tr.add_action(WAIT, {})
    tr.end_system_turn()
    return tr


def test_a_call_missing_required_arguments_is_refused_for_the_request(index, encoder):
    tr = DialogueTracker(index)
    (dest,) = user(tr, encoder, "to Denver", [(3, 9, "city", "Denver")])
    tr.begin_system_turn()
    v = check_action(index, tr, "SearchFlights", {"destination": dest, "origin": None, "date": None})
    assert not v.ok and v.reason == "required argument(s) origin, date not filled"
    assert v.alternative in {"request_origin", "request_date"}
    v = check_action(index, tr, "SearchFlights", {"destination": dest, "origin": dest, "date": None})
    assert v.alternative == "request_date"


def test_a_transactional_call_needs_a_confirmation_in_the_previous_turn(index, encoder, searched):
    tr = searched
    (two,) = user(tr, encoder, "for two", [(4, 7, "number", "2")])
    tr.begin_system_turn()
    args = {"flight": tr.by_key["c1.flight"], "passengers": two, "date": tr.by_key["e3"]}
    v = check_action(index, tr, "BookFlight", args)
    assert not v.ok and "transactional" in v.reason and v.alternative == "confirm_booking"
    assert check_action(index, tr, "confirm_booking", args).ok
    tr.add_action("confirm_booking", {k: e.id for k, e in args.items()})
    tr.add_action(WAIT, {})
    tr.end_system_turn()
    user(tr, encoder, "yes", [])
    tr.begin_system_turn()
    assert check_action(index, tr, "BookFlight", args).ok
    tr.add_action(
        "BookFlight", {k: e.id for k, e in args.items()}, results=[("booking_reference", "booking_reference", "K")]
    )
    # One confirmation, one call: booking again in the same turn is refused.
    assert not check_action(index, tr, "BookFlight", args).ok


def test_an_identical_call_in_the_same_turn_is_refused_but_a_new_turn_may_repeat_it(index, encoder, searched):
    tr = searched
    args = {n: tr.by_key[k] for n, k in (("origin", "e1"), ("destination", "e2"), ("date", "e3"))}
    user(tr, encoder, "anything else?", [])
    tr.begin_system_turn()
    assert check_action(index, tr, "SearchFlights", args).ok  # "request more": new turn, same values
    tr.add_action("SearchFlights", {n: e.id for n, e in args.items()}, results=None)
    v = check_action(index, tr, "SearchFlights", args)
    assert not v.ok and v.reason == "repeats call c2 of this turn with the same arguments"
    swapped = {**args, "origin": args["destination"], "destination": args["origin"]}
    assert check_action(index, tr, "SearchFlights", swapped).ok


def test_responses_need_every_argument_and_do_not_repeat(index, encoder, searched):
    tr = searched
    user(tr, encoder, "ok", [])
    tr.begin_system_turn()
    flight = tr.by_key["c1.flight"]
    v = check_action(index, tr, "offer_booking", {"flight": None})
    assert not v.ok and v.reason == "no value for argument(s) flight"
    assert check_action(index, tr, "offer_booking", {"flight": flight}).ok
    tr.add_action("offer_booking", {"flight": "c1.flight"})
    v = check_action(index, tr, "offer_booking", {"flight": flight})
    assert not v.ok and v.reason == "repeats a response of this turn"
    assert check_action(index, tr, WAIT, {}).ok


def test_an_argument_of_the_wrong_type_is_refused(index, searched):
    tr = searched
    tr.begin_system_turn()
    v = check_action(index, tr, "offer_booking", {"flight": tr.by_key["e1"]})
    assert not v.ok and v.reason == "argument flight needs a flight, not the city 'Boston'"


def force(manager, monkeypatch, plan):
    """Make action prediction propose ``plan[i]`` first at step i (then the model's own ranking)."""
    real = manager.models.ap.predict
    actions = list(manager.index().vocab.actions)
    step = {"i": 0}

    def fake(batch):
        probs = real(batch)
        i = step["i"]
        step["i"] += 1
        if i < len(plan):
            probs = probs * 0.01
            probs[0, actions.index(plan[i])] = 0.99
        return probs

    monkeypatch.setattr(manager.models.ap, "predict", fake)


def test_the_runtime_replaces_an_unconfirmed_booking_with_its_confirmation(manager, monkeypatch):
    from .test_model_runtime import Backend

    backend = Backend()
    s = manager.new_session()
    manager.respond(s, "Find me a flight from Boston to Chicago tomorrow", executor=backend)
    force(manager, monkeypatch, ["BookFlight"])
    turn = manager.respond(s, "Book it for two people", executor=backend)
    first = turn.actions[0]
    assert first.name == "confirm_booking"
    refused, accepted = first.decisions[0], first.decisions[-1]
    assert (refused.proposed, refused.accepted, refused.alternative) == ("BookFlight", False, "confirm_booking")
    assert "transactional" in refused.reason
    assert (accepted.proposed, accepted.accepted) == ("confirm_booking", True)
    assert [c[0] for c in backend.calls] == ["SearchFlights"]  # nothing was booked


def test_the_runtime_requests_what_a_forced_call_is_missing(manager, monkeypatch):
    from .test_model_runtime import Backend

    backend = Backend()
    force(manager, monkeypatch, ["SearchFlights"])
    turn = manager.respond(manager.new_session(), "I'd like to fly on Friday", executor=backend)
    assert backend.calls == []
    assert turn.actions[0].name == "request_route"  # asks for exactly the two missing arguments
    refused = turn.actions[0].decisions[0]
    assert (refused.proposed, refused.accepted) == ("SearchFlights", False)
    assert refused.reason == "required argument(s) origin, destination not filled"


def test_the_runtime_caps_a_turn_that_never_waits(manager, monkeypatch):
    from .test_model_runtime import Backend

    never_wait = manager.models.ap.predict

    def fake(batch):
        probs = never_wait(batch).clone()
        probs[0, 0] = 0.0  # wait_for_user never proposed
        return probs

    monkeypatch.setattr(manager.models.ap, "predict", fake)
    turn = manager.respond(
        manager.new_session(), "Find me a flight from Boston to Chicago tomorrow", executor=Backend()
    )
    assert len(turn.actions) == manager.max_actions and turn.actions[-1].name == WAIT
    assert turn.actions[-1].decisions[0].reason == f"cap of {manager.max_actions} actions"
    assert torch.is_grad_enabled()
