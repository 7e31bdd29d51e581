"""simulator.acts: one act-inference rule set for the sample converter's gold and the utterance bank."""

import re

import pytest

import skillspec
from simulator.acts import UserActs
from simulator.language import UtteranceBank
from simulator.samples import samples_to_annotated
from skillspec import UserAct

from .conftest import ROOT


def skill(name: str) -> skillspec.Skill:
    return skillspec.parse_skill((ROOT / "examples" / f"{name}.json").read_bytes())


@pytest.mark.parametrize("name", ["flights", "pizza"])
def test_the_converted_gold_and_the_bank_read_each_sample_turn_with_the_same_rules(name):
    s = skill(name)
    rules, bank = UserActs(s), UtteranceBank(s)
    gold = samples_to_annotated(s)
    checked = 0
    for d, (dialogue, converted) in enumerate(zip(s.sample_dialogues, gold, strict=True)):
        for t, turn in enumerate(dialogue.turns):
            if isinstance(turn, skillspec.UserTurn):
                assert converted.turns[t].acts == [a.value for a in rules.acts(dialogue, t)]
                checked += 1
        if dialogue.test:
            continue
        for template in bank._sample_templates(d, dialogue):
            t = int(re.fullmatch(r"sample_dialogues\[\d+\]\.turns\[(\d+)\]", template.source)[1])
            assert (template.act, template.api) == rules.template_key(dialogue, t)
            checked += 1
    assert checked > 40


def test_taking_up_an_offer_with_a_value_is_affirm_inform_in_the_gold_and_an_invoke_template():
    s = skill("flights")
    rules = UserActs(s)
    found = [
        (d, t)
        for d, dialogue in enumerate(s.sample_dialogues)
        for t, turn in enumerate(dialogue.turns)
        if isinstance(turn, skillspec.UserTurn) and turn.text == "That works. Book it for one passenger"
    ]
    assert len(found) == 1
    d, t = found[0]
    dialogue = s.sample_dialogues[d]
    assert rules.acts(dialogue, t) == [UserAct.AFFIRM, UserAct.INFORM]
    # Taking up the offered booking starts it: the bank says it when a user books by reference.
    assert rules.template_key(dialogue, t) == (UserAct.INVOKE, "BookFlight")
