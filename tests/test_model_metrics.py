"""Each evaluation metric on a hand-checked example, and the evaluate command end to end."""

import json
import subprocess
import sys

import pytest

from modeling.evaluate import evaluate
from modeling.metrics import ActF1, FallbackMetrics, SpanF1, TurnMetrics, dialogue_acts
from modeling.metrics import PredictedAction as A
from skillspec.annotated import write_dialogues

from .conftest import ROOT

CONTRACT = [
    "ner_f1",
    "action_accuracy",
    "argument_accuracy",
    "action_signature_accuracy",
    "api_call_f1",
    "dialogue_accuracy",
    "act_f1",
    "fallback_recall",
    "false_fallback_rate",
    "dialogues",
    "turns",
]


def test_span_f1_counts_exact_spans_only():
    m = SpanF1()
    # gold 3 spans; predicted: one exact, one with a wrong end, one with a wrong type, one extra.
    m.update(
        [(0, 6, "city"), (10, 17, "city"), (18, 26, "date")],
        [(0, 6, "city"), (10, 16, "city"), (18, 26, "number"), (30, 33, "number")],
    )
    # tp 1, fp 3, fn 2: precision 1/4, recall 1/3, F1 = 2 * (1/12) / (7/12) = 2/7
    assert m.compute() == pytest.approx(round(2 / 7, 4))
    m.update([(0, 3, "city")], [(0, 3, "city")])  # tp 2, fp 3, fn 2: P 2/5, R 1/2, F1 = 4/9
    assert m.compute() == pytest.approx(round(4 / 9, 4))
    assert SpanF1().compute() == 1.0  # nothing to find, nothing found


def search(origin="Boston", dest="Chicago", date="2026-01-16"):
    return A("SearchFlights", {"origin": origin, "destination": dest, "date": date}, "api")


OFFER = A("offer_flight", {"flight": "UA 837"})
WAIT = A("wait_for_user", {}, "wait")


def test_turn_metrics_on_a_hand_checked_dialogue_set():
    m = TurnMetrics()
    # Dialogue 1, turn 1: exactly right (case and spacing do not matter).
    assert m.update([search(), OFFER, WAIT], [search("boston ", "CHICAGO"), OFFER, WAIT])
    # Turn 2: right names, one of three search arguments wrong.
    assert not m.update([search(), WAIT], [search(dest="Denver"), WAIT])
    m.end_dialogue()
    # Dialogue 2, turn 1: wrong names (a response instead of the call).
    assert not m.update([search(), OFFER, WAIT], [A("request_date", {}), WAIT])
    m.end_dialogue()
    # Dialogue 3: one right turn.
    assert m.update([A("goodbye", {}), WAIT], [A("goodbye", {}), WAIT])
    m.end_dialogue()
    r = m.compute()
    assert r["turns"] == 4 and r["dialogues"] == 3
    assert r["action_accuracy"] == 0.75  # turns 1, 2 and 4 have the right names
    # Arguments over name-right turns: turn 1 has 3 + 1 right, turn 2 has 2 of 3, turn 4 none: 6/7.
    assert r["argument_accuracy"] == round(6 / 7, 4)
    assert r["action_signature_accuracy"] == 0.5
    # Calls: gold 3 (turns 1, 2, 3), predicted 2 (turns 1, 2), right 1: P 1/2, R 1/3, F1 0.4.
    assert r["api_call_f1"] == 0.4
    assert r["dialogue_accuracy"] == 0.3333  # only dialogue 3 is right in every turn
    search_row = r["per_action"]["SearchFlights"]
    assert search_row["support"] == 3 and search_row["precision"] == 1.0 and search_row["recall"] == 0.6667
    assert r["per_action"]["request_date"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_an_extra_predicted_argument_counts_against_the_arguments():
    m = TurnMetrics()
    m.update(
        [A("SearchFlights", {"origin": "Boston"}, "api")],
        [A("SearchFlights", {"origin": "Boston", "cabin": "first"}, "api")],
    )
    r = m.compute()
    assert r["argument_accuracy"] == 0.5 and r["action_accuracy"] == 1.0 and r["action_signature_accuracy"] == 0.0


def test_act_f1_scores_acts_and_argument_names_not_templates_or_values():
    from skillspec.models import ResponseTemplate

    def template(name, act, args=(), requested=()):
        return ResponseTemplate.model_validate(
            {
                "name": name,
                "act": act,
                "api": "SearchFlights" if act == "request_args" else None,
                "requested": list(requested),
                "arguments": [{"name": a, "slot_type": a} for a in args],
                "variants": ["x"],
            }
        )

    ask = template("ask_date", "request_args", requested=["date"])
    ask_both = template("ask_date_and_origin", "request_args", requested=["date", "origin"])
    offer, offer_too = template("offer_flight", "offer", ["flight"]), template("offer_it", "offer", ["flight"])
    bye = template("bye", "goodbye")
    assert dialogue_acts(ask, A("ask_date", {})) == {("request_args", "date")}
    assert dialogue_acts(bye, A("bye", {})) == {("goodbye", "")}
    assert dialogue_acts(None, WAIT) == set()  # every turn ends so: not an act to score
    assert dialogue_acts(None, search()) == {("call:SearchFlights", n) for n in ("origin", "destination", "date")}
    m = ActF1()
    # Another template with the same act and argument, and another value: all right.
    m.update(dialogue_acts(offer, A("offer_flight", {"flight": "UA 1"})), dialogue_acts(offer_too, OFFER))
    assert m.compute() == 1.0
    # Asking for date and origin where gold asks for the date: 1 tp, 1 fp.
    m.update(dialogue_acts(ask, A("ask_date", {})), dialogue_acts(ask_both, A("ask_date_and_origin", {})))
    assert (m.tp, m.fp, m.fn) == (2, 1, 0)
    # A call with one argument fewer than gold's: 2 of its 3 pairs found.
    m.update(dialogue_acts(None, search()), {("call:SearchFlights", "origin"), ("call:SearchFlights", "date")})
    assert (m.tp, m.fp, m.fn) == (4, 1, 1)
    assert m.compute() == round(2 * (4 / 5) * (4 / 5) / (8 / 5), 4)
    assert ActF1().compute() == 1.0


def test_fallback_metrics_count_out_of_scope_turns_and_false_fallbacks():
    m = FallbackMetrics("sorry")
    assert m.compute() == {"fallback_recall": None, "false_fallback_rate": 0.0}
    sorry = A("sorry", {})
    m.update([sorry, WAIT], [sorry, WAIT])  # caught
    m.update([sorry, WAIT], [search(), sorry, WAIT])  # a call first: not the fallback alone
    m.update([sorry, WAIT], [OFFER, WAIT])  # missed
    m.update([search(), OFFER, WAIT], [sorry, WAIT])  # an in-scope turn answered with the fallback
    m.update([OFFER, WAIT], [OFFER, WAIT])
    assert m.compute() == {"fallback_recall": 0.3333, "false_fallback_rate": 0.5}


def test_evaluate_teacher_forces_the_gold_history(manager, flights_dialogues):
    held_out = flights_dialogues[1][:30]
    errors: list = []
    r = evaluate(manager, held_out, errors=errors)
    assert list(r)[: len(CONTRACT)] == CONTRACT and "per_action" in r
    assert r["dialogues"] == len(held_out)
    assert r["turns"] == sum(1 for d in held_out for t in d.turns if t.speaker == "system")
    wrong = round(r["turns"] * (1 - r["action_signature_accuracy"]))
    assert len(errors) == wrong
    # Even the tiny model is far better than chance on held-out simulated dialogues.
    assert r["ner_f1"] > 0.9 and r["action_signature_accuracy"] > 0.7


def test_evaluate_on_a_perfectly_predictable_dialogue(manager, flights_dialogues):
    # The same dialogue evaluated twice gives the same figures: the gold history, not the predictions, carries on.
    d = flights_dialogues[1][:5]
    assert evaluate(manager, d) == evaluate(manager, d)


def test_the_evaluate_command_writes_the_contract_keys(tmp_path, flights_artifact, flights_dialogues):
    gold = tmp_path / "gold.jsonl"
    with open(gold, "w") as f:
        write_dialogues(flights_dialogues[1][:10], f)
    out = tmp_path / "metrics.json"
    cmd = [sys.executable, "-m", "modeling", "evaluate", str(flights_artifact[0]), str(gold), "--json", str(out), "-q"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    r = json.loads(out.read_text())
    assert all(k in r for k in CONTRACT) and r["dialogues"] == 10
    assert "action_signature_accuracy" in done.stdout


def test_the_commands_refuse_bad_input_clearly(tmp_path, flights_artifact):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "colloquy-dialogue/1"}\n')

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "modeling", *a], cwd=ROOT, capture_output=True, text=True, timeout=300
        )

    done = run("evaluate", str(flights_artifact[0]), str(bad), "-q")
    assert done.returncode != 0 and "bad.jsonl:1" in done.stderr
    done = run("evaluate", str(tmp_path), str(bad), "-q")
    assert done.returncode != 0 and "not a Colloquy model artifact" in done.stderr
    done = run("train", str(tmp_path / "missing.json"), str(bad), "-o", str(tmp_path / "o"))
    assert done.returncode != 0 and "missing.json" in done.stderr
    assert "Traceback" not in done.stderr
