"""The simulator's self-play: valid dialogues, every required phenomenon with its annotations,
determinism, and the command line."""

import difflib
import json
import subprocess
import sys
from collections import Counter
from functools import cache

import pytest

import skillspec
from simulator.agents import UserBehaviour
from simulator.checker import Checker
from simulator.engine import Simulator
from simulator.generate import generate_lines
from simulator.language import UtteranceBank
from simulator.protocols import Phenomenon
from skillspec.annotated import AnnotatedDialogue

from .conftest import ROOT, SGD_DIR, needs_sgd

N = 400


@cache
def skill(name: str) -> skillspec.Skill:
    return skillspec.parse_skill((ROOT / "examples" / f"{name}.json").read_bytes())


IN_SCOPE = UserBehaviour(out_of_scope=0.0)


def in_scope(d: dict) -> dict:
    """The dialogue without its out-of-scope user turns and their fallback answers (the task flow)."""
    turns, skip = [], False
    for turn in d["turns"]:
        if skip:
            skip = False
            continue
        if turn["speaker"] == "user" and turn["acts"] == ["out_of_scope"]:
            skip = True
            continue
        turns.append(turn)
    return {**d, "turns": turns}


@cache
def raw_dialogues(name: str) -> list[dict]:
    return list(Simulator.for_skill(skill(name)).dialogues(N, seed=7))


@cache
def dialogues(name: str) -> list[dict]:
    """Dialogues without out-of-scope turns: the task flow, turn after turn (its own test checks those)."""
    return list(Simulator.for_skill(skill(name), user_behaviour=IN_SCOPE).dialogues(N, seed=7))


def user_turns_before(d: dict, t: int) -> dict:
    return d["turns"][t - 1]


def calls(d: dict, api: str) -> list[tuple[int, dict]]:
    return [
        (t, a)
        for t, turn in enumerate(d["turns"])
        if turn["speaker"] == "system"
        for a in turn["actions"]
        if a["kind"] == "api" and a["name"] == api
    ]


def args(action: dict) -> dict[str, dict]:
    return {a["name"]: a for a in action["arguments"]}


@pytest.mark.parametrize("name", ["flights", "pizza"])
def test_out_of_scope_turns_are_answered_by_the_fallback_and_change_nothing(name):
    from simulator.language.out_of_scope import GENERIC, out_of_scope_texts, skill_words

    spec = skill(name)
    pool = out_of_scope_texts(spec)
    own = [v for u in spec.utterance_sets if u.act is skillspec.UserAct.OUT_OF_SCOPE for v in u.variants]
    assert pool[: len(own)] == own and len(pool) > len(own) + 50
    # A generic text that shares a word with the skill is left out ("order" a pizza, "flights" to London).
    assert any(t not in pool for t in GENERIC) and not skill_words(spec) & {"weather", "joke"}
    fallback = skillspec.fallback_template(spec).name
    with_oos = raw_dialogues(name)
    without = dialogues(name)
    user_turns = oos = 0
    for d, plain in zip(with_oos, without, strict=True):
        for t, turn in enumerate(d["turns"]):
            if turn["speaker"] != "user":
                continue
            user_turns += 1
            if turn["acts"] == ["out_of_scope"]:
                oos += 1
                assert not turn["spans"] and d["turns"][t + 1]["actions"] == [
                    {"kind": "response", "name": fallback, "arguments": [], "text": d["turns"][t + 1]["text"]},
                    {"kind": "wait", "name": "wait_for_user"},
                ]
        # Its own random stream: without the out-of-scope turns the dialogue is the one simulated without them.
        strip = lambda x: [(u["speaker"], u["text"]) for u in in_scope(x)["turns"]]  # noqa: E731
        assert strip(d) == strip(plain)
        assert not any(u.get("acts") == ["out_of_scope"] for u in plain["turns"])
    assert 0.02 < oos / user_turns < 0.08  # UserBehaviour.out_of_scope is 0.05 per user turn


@pytest.mark.parametrize("name", ["flights", "pizza"])
def test_every_simulated_dialogue_passes_the_checker(name):
    checker = Checker(skill(name))
    problems = [
        (d["id"], str(issue))
        for d in raw_dialogues(name)
        for issue in checker.check(AnnotatedDialogue.model_validate(d))
    ]
    assert problems == []
    assert any(t.get("acts") == ["out_of_scope"] for d in raw_dialogues(name) for t in d["turns"])


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not():
    sim = Simulator.for_skill(skill("flights"))
    a = [json.dumps(d) for d in sim.dialogues(50, seed=3)]
    b = [json.dumps(d) for d in Simulator.for_skill(skill("flights")).dialogues(50, seed=3)]
    c = [json.dumps(d) for d in sim.dialogues(50, seed=4)]
    assert a == b
    assert len(set(a) & set(c)) < 5


def test_workers_do_not_change_the_output():
    serial = "".join(generate_lines(skill("pizza"), 450, seed=5, workers=1))
    parallel = "".join(generate_lines(skill("pizza"), 450, seed=5, workers=2))
    assert serial == parallel
    assert serial.count("\n") == 450


def test_carryover_of_the_search_date_into_the_booking():
    found = 0
    for d in dialogues("flights"):
        corrected = {"deny_correction", "change_of_mind"} & set(d["phenomena"])
        if "carryover" not in d["phenomena"] or corrected or not calls(d, "BookFlight"):
            continue
        search_turn, search = calls(d, "SearchFlights")[-1]
        book_turn, book = calls(d, "BookFlight")[-1]
        date = args(book)["date"]
        assert date["entity"] == args(search)["date"]["entity"]
        assert date["turn"] < search_turn  # said before the search, never asked again
        asked = [
            a["name"]
            for turn in d["turns"][search_turn:book_turn]
            if turn["speaker"] == "system"
            for a in turn["actions"]
            if a["name"] == "request_date"
        ]
        assert asked == []
        found += 1
    assert found > N // 10


def test_anaphora_binds_the_flight_to_the_search_result():
    found = 0
    for d in dialogues("flights"):
        if "anaphora" not in d["phenomena"]:
            continue
        book_turn, book = calls(d, "BookFlight")[0]
        flight = args(book)["flight"]
        previous_searches = [a for t, a in calls(d, "SearchFlights") if t < book_turn]
        assert flight["entity"] == f"{previous_searches[-1]['id']}.flight"
        # Nobody said the flight: the user referred to it.
        assert all(s["slot_type"] != "flight" for t in d["turns"] if t["speaker"] == "user" for s in t["spans"])
        found += 1
    assert found > N // 10


def test_change_of_mind_makes_later_calls_use_the_new_value():
    found = 0
    for d in dialogues("flights"):
        for t, turn in enumerate(d["turns"]):
            if turn["speaker"] != "user" or turn["acts"] != ["change"] or not turn["spans"]:
                continue
            new = turn["spans"][0]["entity"]
            later = [a for ct, a in calls(d, "SearchFlights") + calls(d, "BookFlight") if ct > t]
            earlier = [a for ct, a in calls(d, "SearchFlights") if ct < t]
            if not later or not earlier:
                continue
            assert any(new in {x["entity"] for x in a["arguments"]} for a in later)
            assert all(new not in {x["entity"] for x in a["arguments"]} for a in earlier)
            found += 1
    assert found > N // 20


def test_denial_at_confirmation_is_followed_by_a_correction_and_a_new_confirmation():
    found = 0
    for d in dialogues("flights"):
        turns = d["turns"]
        for t, turn in enumerate(turns):
            if turn["speaker"] != "user" or turn["acts"] != ["deny", "change"]:
                continue
            assert turns[t - 1]["actions"][0]["name"] == "confirm_booking"
            corrected = turn["spans"][0]["entity"]
            reconfirm = turns[t + 1]["actions"][0]
            assert reconfirm["name"] == "confirm_booking"
            assert corrected in {a["entity"] for a in reconfirm["arguments"]}
            bookings = [a for ct, a in calls(d, "BookFlight") if ct > t]
            if bookings:
                assert corrected in {a["entity"] for a in bookings[0]["arguments"]}
            found += 1
    assert found > N // 20


def test_asking_for_another_result_calls_again_and_offers_the_new_one():
    found = 0
    for d in dialogues("flights"):
        for t, turn in enumerate(d["turns"]):
            if turn["speaker"] != "user" or turn["acts"] != ["request_more"]:
                continue
            (_, before), *_ = [c for c in reversed(calls(d, "SearchFlights")) if c[0] < t]
            response = d["turns"][t + 1]["actions"]
            again = response[0]
            assert again["kind"] == "api" and again["name"] == "SearchFlights" and again["id"] != before["id"]
            assert [a["entity"] for a in again["arguments"]] == [a["entity"] for a in before["arguments"]]
            assert response[1]["kind"] == "response"
            if again["results"]:
                assert {a["entity"] for a in response[1]["arguments"]} >= {f"{again['id']}.flight"}
            else:  # the mock backend fails some calls, and the system says so
                assert response[1]["name"] == "no_flights"
            found += 1
    assert found > N // 20


def test_transactional_calls_always_follow_an_affirmed_confirmation():
    checked = {"BookFlight": 0, "OrderPizza": 0}
    for d in dialogues("flights") + dialogues("pizza"):
        for t, turn in enumerate(d["turns"]):
            if turn["speaker"] != "system":
                continue
            for a in turn["actions"]:
                if a["kind"] == "api" and a["name"] in checked:
                    assert "affirm" in d["turns"][t - 1]["acts"]
                    assert d["turns"][t - 2]["actions"][0]["name"].startswith("confirm_")
                    checked[a["name"]] += 1
    # Both skills' transactional calls happen, many times: the rule was checked, not skipped.
    assert min(checked.values()) >= 20, checked


def test_optional_arguments_lengths_overinforming_offers_and_early_endings_all_occur():
    ds = dialogues("flights")
    cabins = [("cabin" in args(a)) for d in ds for _, a in calls(d, "SearchFlights")]
    assert any(cabins) and not all(cabins)
    assert len({len(d["turns"]) for d in ds}) >= 6
    early = [d for d in ds if "end_early" in d["phenomena"]]
    assert early and all(d["turns"][-2]["acts"] == ["goodbye"] and not calls(d, "BookFlight") for d in early)
    offers = [d for d in ds if "proactive_offer" in d["phenomena"]]
    assert all(
        any(a["name"] == "offer_booking" for t in d["turns"] if t["speaker"] == "system" for a in t["actions"])
        for d in offers
    )
    # Over-informing: a user answers a request with more than was asked.
    over = 0
    for d in ds:
        for t in range(2, len(d["turns"]), 2):
            prev = d["turns"][t - 1]["actions"][0]["name"]
            if prev == "request_date" and {s["slot_type"] for s in d["turns"][t]["spans"]} - {"date"}:
                over += 1
    assert over > 0


def test_every_span_is_exact_and_every_user_value_canonical():
    catalogue = {s.name: {v.value for v in s.values} for s in skill("flights").slot_types if s.builtin is None}
    spans = catalogued = 0
    for d in dialogues("flights"):
        for turn in d["turns"]:
            if turn["speaker"] == "user":
                for s in turn["spans"]:
                    assert 0 <= s["start"] < s["end"] <= len(turn["text"])
                    spans += 1
                    if s["slot_type"] in catalogue:
                        assert s["value"] in catalogue[s["slot_type"]]
                        catalogued += 1
    assert spans >= 100 and catalogued >= 50, (spans, catalogued)


def test_the_command_line_generates_validates_and_reports(tmp_path):
    out = tmp_path / "d.jsonl"
    skill_path = ROOT / "examples" / "flights.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "generate",
            str(skill_path),
            "-n",
            "120",
            "--seed",
            "2",
            "-o",
            str(out),
            "--stats-json",
            str(tmp_path / "s.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "distinct user texts" in run.stdout and "templates covered" in run.stdout
    assert "simulating" in run.stderr  # the progress bar
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["dialogues"] == 120 and stats["apis"]["covered"] == 2
    ok = subprocess.run(
        [sys.executable, "-m", "simulator", "validate", str(skill_path), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "120 valid" in ok.stdout
    # Break one dialogue: the checker names the line and the problem, and the exit code says so.
    lines = out.read_text().splitlines()
    broken = json.loads(lines[3])
    broken["turns"][0]["spans"] = [{"start": 0, "end": 2, "slot_type": "nope", "value": "x", "entity": "e9"}]
    lines[3] = json.dumps(broken)
    out.write_text("\n".join(lines) + "\n")
    bad = subprocess.run(
        [sys.executable, "-m", "simulator", "validate", str(skill_path), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert f"{out}:4: turns[0].spans[0]" in bad.stdout


def test_a_bad_skill_file_is_refused_with_its_problems(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x", "apis": [{"name": "A", "arguments": [{"name": "a", "slot_type": "nope"}]}]}')
    run = subprocess.run(
        [sys.executable, "-m", "simulator", "generate", str(path), "-n", "5", "-o", str(tmp_path / "o.jsonl")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "apis[0].arguments[0].slot_type: unknown slot type 'nope'" in run.stderr


def test_order_it_refers_back_to_the_pizza_priced_before():
    found = 0
    for d in dialogues("pizza"):
        if "anaphora" not in d["phenomena"] or not calls(d, "OrderPizza"):
            continue
        order_turn, order = calls(d, "OrderPizza")[0]
        price_turn, price = [c for c in calls(d, "CheckPrice") if c[0] < order_turn][-1]
        invoke = next(t for t in d["turns"][price_turn + 1 :] if t["speaker"] == "user" and "invoke" in t["acts"])
        # "Order it": nothing re-said, the pizza priced before is what gets ordered.
        assert not {s["slot_type"] for s in invoke["spans"]} & {"size", "topping"}
        if "deny_correction" not in d["phenomena"]:
            assert args(order)["size"]["entity"] == args(price)["size"]["entity"]
            assert args(order)["topping"]["entity"] == args(price)["topping"]["entity"]
        found += 1
    assert found > 3


def test_a_value_said_early_for_the_next_api_is_carried_over_not_asked_for():
    found = 0
    for d in dialogues("flights"):
        searches, bookings = calls(d, "SearchFlights"), calls(d, "BookFlight")
        if not searches or not bookings or "deny_correction" in d["phenomena"]:
            continue
        early = [
            s
            for t in d["turns"][: searches[0][0]]
            if t["speaker"] == "user"
            for s in t["spans"]
            if s["slot_type"] == "number"
        ]
        if not early:
            continue
        book_turn, book = bookings[0]
        assert args(book)["passengers"]["entity"] == early[-1]["entity"]
        asked = [a["name"] for t in d["turns"][:book_turn] if t["speaker"] == "system" for a in t["actions"]]
        assert "request_passengers" not in asked
        found += 1
    assert found > 3


SGD = SGD_DIR
PHENOMENA = {p.value for p in Phenomenon}


@needs_sgd()
@pytest.mark.parametrize("service", ["Flights_1", "Homes_1", "RentalCars_1", "Restaurants_1"])
def test_imported_sgd_skills_simulate_valid_dialogues_with_every_phenomenon(service):
    from simulator.sgd import import_sgd

    imported = import_sgd(SGD / "schema.json", [SGD / f"dialogues_{service}.json"], service, samples=10, seed=None)
    sim = Simulator.for_skill(imported.skill)
    checker = Checker(imported.skill)
    seen: set[str] = set()
    for d in sim.dialogues(800, seed=1):
        assert checker.check(d) == [], d["id"]
        seen.update(d["phenomena"])
    assert seen == PHENOMENA


def test_a_skill_with_few_templates_still_simulates_valid_dialogues(mini_spec):
    """No goodbye, "anything else" or failure templates: the system says less, but never gets stuck."""
    mini = skillspec.parse_skill(mini_spec)
    checker = Checker(mini)
    ds = list(Simulator.for_skill(mini).dialogues(300, seed=1))
    assert all(checker.check(d) == [] for d in ds)
    assert all(any(a["kind"] == "api" for t in d["turns"][1::2] for a in t["actions"]) for d in ds)


def _offer_turns(d: dict, offer_acts: set[str]) -> list[int]:
    return [
        t
        for t, turn in enumerate(d["turns"])
        if turn["speaker"] == "system" and any(a["name"] in offer_acts for a in turn["actions"])
    ]


def test_offers_go_where_the_samples_put_them():
    """flights' samples offer the booking with the search results (2 of 3 sample offers): so does the system."""
    from simulator.skillindex import SkillIndex

    index = SkillIndex.build(skill("flights"))
    assert index.offer_with_results == {"SearchFlights": True, "BookFlight": True}
    offered = 0
    for d in dialogues("flights"):
        for t in _offer_turns(d, {"offer_booking"}):
            assert [a["name"] for a in d["turns"][t]["actions"][:1]] == ["SearchFlights"], d["id"]
            offered += 1
    assert offered > 50


def test_offers_after_a_reaction_when_the_samples_do():
    """Move the flights samples' offers to the turn after a bare "sounds good": the system then
    shows results and waits, and offers the booking only once the user has reacted."""
    from simulator.skillindex import SkillIndex

    spec = json.loads((ROOT / "examples" / "flights.json").read_bytes())
    for d in spec["sample_dialogues"]:
        turns = d["turns"]
        moved: list[dict] = []
        for turn in turns:
            moved.append(turn)
            offer = [a for a in turn.get("actions", []) if a["name"] == "offer_booking"]
            if offer and any(a["kind"] == "api" for a in turn["actions"]):
                turn["actions"] = [a for a in turn["actions"] if a["name"] != "offer_booking"]
                moved += [{"speaker": "user", "text": "Sounds good"}, {"speaker": "system", "actions": offer}]
        d["turns"] = moved
    later = skillspec.parse_skill(json.dumps(spec).encode())
    assert SkillIndex.build(later).offer_with_results["BookFlight"] is False
    checker = Checker(later)
    ds = list(Simulator.for_skill(later, user_behaviour=IN_SCOPE).dialogues(N, seed=7))
    offered = reacted_without_offer = 0
    for d in ds:
        assert checker.check(d) == [], d["id"]
        for t in _offer_turns(d, {"offer_booking"}):
            assert [a["kind"] for a in d["turns"][t]["actions"]] == ["response", "wait"], d["id"]
            assert d["turns"][t - 1]["acts"] == ["affirm"] and not d["turns"][t - 1]["spans"]
            assert any(a["name"] == "SearchFlights" for a in d["turns"][t - 2]["actions"])
            offered += 1
        for t in range(2, len(d["turns"]), 2):
            shown = any(a["name"] == "SearchFlights" for a in d["turns"][t - 1]["actions"])
            if shown and d["turns"][t]["acts"] == ["affirm"] and t + 1 not in _offer_turns(d, {"offer_booking"}):
                reacted_without_offer += 1
    assert offered > 50 and "proactive_offer" in {p for d in ds for p in d["phenomena"]}
    # A reaction is answered with the offer whenever one can be made.
    assert reacted_without_offer == 0


def test_template_uses_are_counted_per_role_from_the_samples():
    from simulator.skillindex import SkillIndex

    uses = SkillIndex.build(skill("flights")).template_uses
    assert uses[("SearchFlights", "results", "offer_flight")] == 9
    assert uses[("SearchFlights", "more_results", "offer_flight")] == 2  # "anything else?": same arguments
    assert uses[("BookFlight", "success", "booked")] == 7
    assert uses[("SearchFlights", "failure", "no_flights")] == 1


@needs_sgd()
def test_the_system_answers_calls_with_the_templates_the_samples_use():
    """Restaurants_1's samples count the results the first time ("I found 10 restaurants...") but not
    when the user asks for another one, and confirm a booking with the plain notify_success."""
    from simulator.sgd import import_sgd

    imported = import_sgd(SGD / "schema.json", [SGD / "dialogues_Restaurants_1.json"], "Restaurants_1", 10, None)
    first, more, success = Counter(), Counter(), Counter()
    for d in Simulator.for_skill(imported.skill).dialogues(300, seed=1):
        last: dict[str, list] = {}
        for turn in d["turns"][1::2]:
            for call, shown in zip(turn["actions"], turn["actions"][1:], strict=False):
                if call["kind"] != "api" or shown["kind"] != "response" or not call["results"]:
                    continue  # a failed call is answered by a failure template
                values = [(a["name"], a["value"]) for a in call["arguments"]]
                if call["name"] == "FindRestaurants":
                    (more if last.get(call["name"]) == values else first)[shown["name"]] += 1
                else:
                    success[shown["name"]] += 1
                last[call["name"]] = values
    assert first.most_common(1)[0][0] == "inform_count_offer_restaurant_name_city"
    assert set(more) == {"offer_restaurant_name_city"} and sum(more.values()) > 10
    assert success.most_common(1)[0][0] == "notify_success"


@needs_sgd()
def test_successes_and_reactions_follow_the_samples():
    """Homes_1's samples report a visit booked without "anything else?": it is asked after the user's
    "thanks"."""
    from simulator.sgd import import_sgd
    from simulator.skillindex import SkillIndex

    skill_ = import_sgd(SGD / "schema.json", [SGD / "dialogues_Homes_1.json"], "Homes_1", 10, None).skill
    index = SkillIndex.build(skill_)
    assert index.request_more_with_success is False
    assert SkillIndex.build(skill("flights")).request_more_with_success is True
    acts = {t.name: t.act.value for t in skill_.response_templates}
    thanks = UtteranceBank(skill_).reactions["success"]
    assert "Thanks." in thanks and all("thank" in t.lower() for t in thanks)
    successes = reacted = asked_after = questions = 0
    for d in Simulator.for_skill(skill_, user_behaviour=IN_SCOPE).dialogues(300, seed=1):
        turns = d["turns"]
        for t, turn in enumerate(turns):
            if turn["speaker"] != "system":
                continue
            names = [a["name"] for a in turn["actions"] if a["kind"] == "response"]
            if "notify_success" not in {acts[n] for n in names}:
                continue
            assert "request_more" not in {acts[n] for n in names}, d["id"]
            successes += 1
            u = t + 1
            while u + 1 < len(turns) and turns[u]["acts"] == []:  # a question about the results, answered
                assert {acts[a["name"]] for a in turns[u + 1]["actions"][:-1]} == {"inform"}, d["id"]
                questions, u = questions + 1, u + 2
            if u + 1 < len(turns) and turns[u]["acts"] == ["affirm"]:
                reacted += 1
                assert "thank" in turns[u]["text"].lower(), d["id"]  # the samples' thanks (paraphrased), not "yes"
                asked_after += [acts[a["name"]] for a in turns[u + 1]["actions"][:-1]] == ["request_more"]
    assert successes > 20 and reacted == asked_after == successes and questions > 10


@needs_sgd()
def test_users_ask_the_samples_questions_about_results():
    """Homes_1's sample users ask about what was found ("Are pets allowed?") in about a third of the
    turns after results; the system answers with the sample's inform template, calling nothing, bound
    to the latest results, and what it was waiting for (the offer of a visit) stays pending."""
    from simulator.sgd import import_sgd
    from simulator.skillindex import SkillIndex

    skill_ = import_sgd(SGD / "schema.json", [SGD / "dialogues_Homes_1.json"], "Homes_1", 10, None).skill
    index = SkillIndex.build(skill_)
    assert 0.25 < index.question_rate < 0.45
    answers = {q.text.lower().rstrip(".?"): q.answers for q in index.questions}
    assert answers["are animals allowed"] == ("inform_pets_allowed_true",)
    assert answers["what is the phone number for the property"] == ("inform_phone_number",)
    # Questions the samples never ask are generated for each inform template that shows result fields.
    flights = SkillIndex.build(skill("flights"))
    assert {q.answers for q in flights.questions} == {("inform_price",)} and flights.question_rate == 0.0
    assert "What is the price?" in {q.text for q in flights.questions}
    # Of the templates that show the phone number, the plain one (the others add a baked-in value).
    from simulator.skillindex import _sample_questions

    generated = {q.answers for q in index.questions[len(_sample_questions(skill_)[0]) :]}
    assert ("inform_phone_number",) in {q.answers for q in index.questions}
    assert not any("furnished" in a[0] or "pets" in a[0] for a in generated)
    asked = offered_after = 0
    checker = Checker(skill_)
    for d in Simulator.for_skill(skill_).dialogues(300, seed=2):
        assert checker.check(d) == [], d["id"]
        turns = d["turns"]
        for t in range(0, len(turns) - 1, 2):
            if turns[t]["acts"]:
                continue
            asked += 1
            answer = turns[t + 1]["actions"]
            names = tuple(a["name"] for a in answer[:-1])
            # One of the sample questions answered so, maybe paraphrased a little ("What is" -> "What's").
            said = turns[t]["text"].lower()
            assert turns[t]["spans"] == [] and any(
                difflib.SequenceMatcher(None, q, said).ratio() > 0.75 for q, a in answers.items() if a == names
            ), d["id"]
            calls = [a for turn in turns[1:t:2] for a in turn["actions"] if a["kind"] == "api"]
            for a in answer[:-1]:
                for arg in a["arguments"]:
                    # The latest call that returned the field, e.g. c2.phone_number after "anything else?".
                    latest = next(c for c in reversed(calls) if any(r["field"] == arg["name"] for r in c["results"]))
                    assert arg["entity"] == f"{latest['id']}.{arg['name']}", d["id"]
            after = turns[t + 3]["actions"] if t + 3 < len(turns) else []
            if turns[t + 2]["acts"] == ["affirm"] and [a["name"] for a in after[:-1]] == ["offer_schedule_visit"]:
                offered_after += 1
    assert asked > 50 and offered_after > 10


def test_behaviour_probabilities_are_named_config_that_the_agents_obey():
    from simulator.agents import UserBehaviour
    from simulator.goals import GoalBehaviour

    def phenomena(**config: object) -> Counter:
        sim = Simulator.for_skill(skill("flights"), **config)  # type: ignore[arg-type]
        return Counter(p for d in sim.dialogues(200, seed=7) for p in d["phenomena"])

    default = phenomena()
    assert default["change_of_mind"] and default["deny_correction"] and default["end_early"] and default["request_more"]
    never = phenomena(
        goal_behaviour=GoalBehaviour(change_of_mind=0, deny_confirmation=0, end_early=0, request_more=0),
        user_behaviour=UserBehaviour(retry_after_failure=0),  # a retry after a failure changes a value too
    )
    assert not never["change_of_mind"] and not never["deny_correction"]
    assert not never["end_early"] and not never["request_more"]
    assert never["anaphora"] and never["carryover"]  # the rest of the behaviour is still there
    always = phenomena(goal_behaviour=GoalBehaviour(change_of_mind=1.0))
    assert always["change_of_mind"] > 2 * default["change_of_mind"]
