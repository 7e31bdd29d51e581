"""Language variation: values, utterance templates, rendering of user-turn plans, paraphrasing."""

import datetime
import json
import random
import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import skillspec
from simulator.language import (
    DEFAULT_TODAY,
    ChainParaphraser,
    NoParaphraser,
    RuleParaphraser,
    UtteranceBank,
    ValueSampler,
)
from simulator.protocols import Paraphraser, UserTurnPlan
from simulator.text import Mention, Value, assemble, fill
from skillspec import BuiltinType, UserAct, UserTurn, normalize

from .conftest import ROOT

U = UserAct
EXAMPLES = ["flights", "pizza"]
NO_MENTION_ACTS = [U.AFFIRM, U.DENY, U.REQUEST_MORE, U.GOODBYE]


def spec(name: str) -> dict:
    return json.loads((ROOT / "examples" / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def skills() -> dict[str, skillspec.Skill]:
    return {name: skillspec.parse_skill(spec(name)) for name in EXAMPLES}


@pytest.fixture(scope="module")
def banks(skills) -> dict[str, UtteranceBank]:
    return {name: UtteranceBank(skill) for name, skill in skills.items()}


def text_of(segments) -> str:
    return assemble(segments)[0]


def assert_exact(segments, plan: UserTurnPlan) -> str:
    """The turn mentions exactly the planned values, each once, with spans that match the text."""
    text, placed = assemble(segments)
    assert Counter((p.mention.name, p.mention.value) for p in placed) == Counter(plan.mentions.items()), text
    for p in placed:
        assert text[p.start : p.end] == p.mention.value.text
    assert text and text == text.strip() and "  " not in text, repr(text)
    return text


def random_plans(skill: skillspec.Skill, n: int, seed: int = 0) -> list[UserTurnPlan]:
    rng = random.Random(seed)
    values = ValueSampler(skill)
    plans = []
    for _ in range(n):
        api = rng.choice(skill.apis)
        args = [a for a in api.arguments if rng.random() < 0.5]
        r = rng.random()
        if r < 0.4:
            acts = [U.INVOKE]
        elif r < 0.65:
            acts = [U.INFORM]
            args = args or api.arguments[:1]
        elif r < 0.75:
            acts = [U.DENY, U.CHANGE]
            args = args[:1] or api.arguments[:1]
        elif r < 0.8:
            acts = [U.AFFIRM, U.INFORM]
        else:
            acts = [rng.choice(NO_MENTION_ACTS)]
            args = []
        mentions = {a.name: values.sample(a.slot_type, rng) for a in args}
        plans.append(UserTurnPlan(acts, api.name, mentions, anaphora=rng.random() < 0.2))
    return plans


# ---------------------------------------------------------------- exactness


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("sources", ["sets and samples", "samples only", "sets only", "neither"])
def test_every_rendered_turn_mentions_exactly_the_planned_values(name, sources):
    data = spec(name)
    if sources in ("samples only", "neither"):
        data["utterance_sets"] = []
    if sources in ("sets only", "neither"):
        data["sample_dialogues"] = []
    skill = skillspec.parse_skill(data)
    bank, rng = UtteranceBank(skill), random.Random(1)
    texts = {assert_exact(bank.render(plan, rng), plan) for plan in random_plans(skill, 800)}
    assert len(texts) > 400  # a fifth of the plans are a bare yes, no, bye...


@pytest.mark.parametrize("name", EXAMPLES)
def test_mentions_are_named_after_the_plan_not_the_placeholder(name, skills):
    data = spec(name)
    api = data["apis"][0]
    arg = api["arguments"][0]
    # A placeholder named after no argument maps to the one mention of its slot type.
    data["utterance_sets"] = [
        {
            "name": "generic",
            "act": "inform",
            "arguments": [{"name": "thing", "slot_type": arg["slot_type"]}],
            "variants": ["It is {thing}"],
        }
    ]
    data["sample_dialogues"] = []
    skill = skillspec.parse_skill(data)
    bank = UtteranceBank(skill)
    value = ValueSampler(skill).sample(arg["slot_type"], random.Random(0))
    plan = UserTurnPlan([U.INFORM], api["name"], {arg["name"]: value})
    segments = bank.render(plan, random.Random(0))
    assert_exact(segments, plan)
    assert text_of(segments) == f"It is {value.text}"
    assert Mention(arg["name"], value) in segments


def test_a_placeholder_named_after_another_argument_is_never_used_for_it(skills):
    data = spec("flights")
    data["utterance_sets"] = [
        {
            "name": "to",
            "act": "invoke",
            "api": "SearchFlights",
            "arguments": [{"name": "destination", "slot_type": "city"}],
            "variants": ["Flights to {destination}"],
        }
    ]
    data["sample_dialogues"] = []
    bank = UtteranceBank(skillspec.parse_skill(data))
    boston = Value("city", "Boston", "Boston")
    for seed in range(30):
        plan = UserTurnPlan([U.INVOKE], "SearchFlights", {"origin": boston})
        text = assert_exact(bank.render(plan, random.Random(seed)), plan)
        assert "to Boston" not in text


def test_an_ambiguous_slot_type_is_not_guessed():
    data = spec("flights")
    data["utterance_sets"] = [
        {
            "name": "generic",
            "act": "inform",
            "arguments": [{"name": "place", "slot_type": "city"}],
            "variants": ["It is {place}"],
        }
    ]
    data["sample_dialogues"] = []
    bank = UtteranceBank(skillspec.parse_skill(data))
    plan = UserTurnPlan(
        [U.INFORM],
        "SearchFlights",
        {"origin": Value("city", "Boston", "Boston"), "destination": Value("city", "Paris", "Paris")},
    )
    for seed in range(30):
        assert "It is" not in assert_exact(bank.render(plan, random.Random(seed)), plan)


def test_a_plan_with_nothing_to_say_is_refused(banks):
    with pytest.raises(ValueError, match="nothing to say"):
        banks["flights"].render(UserTurnPlan([U.INFORM], "SearchFlights", {}), random.Random(0))


# ---------------------------------------------------------------- coverage


def neutral(slot_type: str, builtin: BuiltinType | None) -> Value:
    """A value whose words leave a template as written (no article or agreement changes)."""
    if builtin is BuiltinType.NUMBER:
        return Value(slot_type, "2", "2")
    if builtin is BuiltinType.DATE:
        return Value(slot_type, "2026-01-16", "tomorrow")
    if builtin is BuiltinType.TIME:
        return Value(slot_type, "12:00", "noon")
    return Value(slot_type, "Zed", "Zed")


def produces(bank: UtteranceBank, plan: UserTurnPlan, expected: str, tries: int = 400) -> bool:
    return any(text_of(bank.render(plan, random.Random(seed))) == expected for seed in range(tries))


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_utterance_set_variant_can_be_produced(name, skills, banks):
    skill, bank = skills[name], banks[name]
    builtins = {s.name: s.builtin for s in skill.slot_types}
    produced = 0
    for t in bank.templates:
        if not t.source.startswith("utterance_sets"):
            continue
        values = {n: neutral(st, builtins[st]) for n, st in t.slots}
        plan = UserTurnPlan([t.act], t.api, values, anaphora=t.anaphoric)
        assert produces(bank, plan, text_of(fill(t.text, values))), t
        produced += 1
    variants = sum(len(s.variants) for s in skill.utterance_sets)
    assert produced == variants  # none lost (the sets have no duplicates)


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_sample_user_turn_can_be_produced_again(name, skills, banks):
    """A delexicalised sample turn, given its own values back, says exactly what the sample said."""
    skill, bank = skills[name], banks[name]
    builtins = {s.name: s.builtin for s in skill.slot_types}
    from_samples = [t for t in bank.templates if t.source.startswith("sample_dialogues")]
    assert from_samples
    for t in from_samples:
        d, i = (int(x.split("]")[0]) for x in t.source.split("[")[1:])
        turn = skill.sample_dialogues[d].turns[i]
        assert isinstance(turn, UserTurn) and not skill.sample_dialogues[d].test
        spans = sorted(turn.spans, key=lambda s: s.start)
        values = {}
        for (placeholder, _), s in zip(t.slots, spans, strict=True):
            builtin = builtins[s.slot_type]
            value = normalize(builtin, s.text, today=DEFAULT_TODAY) if builtin else (s.value or s.text)
            values[placeholder] = Value(s.slot_type, value, s.text)
        plan = UserTurnPlan([t.act], t.api, values, anaphora=t.anaphoric)
        assert produces(bank, plan, turn.text), (t, turn.text)


def test_acts_inferred_from_the_flights_samples(skills):
    data = spec("flights")
    data["utterance_sets"] = []
    bank = UtteranceBank(skillspec.parse_skill(data))
    found = {(t.text, t.act, t.api, t.anaphoric) for t in bank.templates}
    expected = {
        ("I need a flight from {origin} to {destination} for {date}", U.INVOKE, "SearchFlights", False),
        ("I want to book a flight", U.INVOKE, "SearchFlights", False),
        ("Great, book it for {passengers} passengers", U.INVOKE, "BookFlight", True),
        ("I'll take it", U.INVOKE, "BookFlight", True),
        ("Book that one", U.INVOKE, "BookFlight", True),  # after a failed booking: another result
        ("I'll be flying out of {origin}", U.INFORM, None, False),
        ("There are {passengers} of us", U.INFORM, None, False),
        ("Hmm, actually, make it {date}", U.CHANGE, None, False),
        ("No, it's {passengers} passengers", U.CHANGE, None, False),
        ("What about {destination} instead?", U.CHANGE, None, False),
        ("Yes please", U.AFFIRM, None, False),
        ("Are there any other flights?", U.REQUEST_MORE, None, False),
        ("Show me another option", U.REQUEST_MORE, None, False),
        ("That's it, bye", U.GOODBYE, None, False),
    }
    assert expected <= found
    texts = {t.text for t in bank.templates}
    assert "Sorry, from {origin}" not in texts  # test conversations stay unseen
    assert "Get me to {destination} {date}" not in texts
    # After results, "Sounds good" affirms (the one act-inference rule set: simulator/acts.py).
    assert ("Sounds good", U.AFFIRM, None, False) in found


def test_unbound_spans_are_named_after_their_slot_type():
    data = spec("flights")
    data["utterance_sets"] = []
    turn = data["sample_dialogues"][0]["turns"][0]
    turn["text"] += ", via Chicago or Denver"
    turn["spans"] += [
        {"id": "e10", "start": 63, "end": 70, "slot_type": "city", "text": "Chicago"},
        {"id": "e11", "start": 74, "end": 80, "slot_type": "city", "text": "Denver"},
    ]
    bank = UtteranceBank(skillspec.parse_skill(data))
    t = next(t for t in bank.templates if t.source == "sample_dialogues[0].turns[0]")
    assert t.text == "I need a flight from {origin} to {destination} for {date}, via {city} or {city_2}"
    assert [n for n, _ in t.slots] == ["origin", "destination", "date", "city", "city_2"]
    values = {n: Value(slot_type, n, n.upper()) for n, slot_type in t.slots}
    plan = UserTurnPlan([U.INVOKE], "SearchFlights", values)
    assert produces(bank, plan, "I need a flight from ORIGIN to DESTINATION for DATE, via CITY or CITY_2")


# ---------------------------------------------------------------- composition and fallbacks


def test_composes_when_no_template_says_the_values(skills, banks):
    bank, values = banks["flights"], ValueSampler(skills["flights"])
    invoke = [t for t in bank.templates if t.act is U.INVOKE and t.api == "SearchFlights"]
    assert not [t for t in invoke if {n for n, _ in t.slots} == {"origin", "date"}]
    texts = set()
    for seed in range(60):
        rng = random.Random(seed)
        plan = UserTurnPlan(
            [U.INVOKE], "SearchFlights", {"origin": values.sample("city", rng), "date": values.sample("date", rng)}
        )
        texts.add(assert_exact(bank.render(plan, rng), plan))
    assert len(texts) > 30
    # An invoke phrase first, then the rest informed: "Show me flights from Boston, I'd like to fly tomorrow".
    starts = ("Show me flights from", "Help me find a flight", "I want to book a flight", "I'd like to book a trip")
    assert all(t.startswith(starts) for t in texts), texts


def test_inform_of_several_values_composes_inform_templates(skills, banks):
    bank = banks["pizza"]
    plan = UserTurnPlan(
        [U.INFORM],
        "OrderPizza",
        {"crust": Value("crust", "thin", "thin"), "time": Value("time", "19:00", "7 pm")},
    )
    texts = {assert_exact(bank.render(plan, random.Random(s)), plan) for s in range(40)}
    assert len(texts) > 10


@pytest.mark.parametrize("name", EXAMPLES)
def test_falls_back_on_builtin_phrases_without_sets_or_samples(name, skills):
    data = spec(name)
    data["utterance_sets"], data["sample_dialogues"] = [], []
    skill = skillspec.parse_skill(data)
    bank = UtteranceBank(skill)
    assert bank.templates == ()
    for act, allowed in [
        (U.AFFIRM, {"Yes", "Yes please", "Sure", "That's right", "Sounds good", "Yeah, go ahead"}),
        (U.DENY, {"No", "No, that's not right", "Not quite", "Nope"}),
        (U.REQUEST_MORE, {"Another one?", "Anything else?", "Do you have any other options?", "What else is there?"}),
        (U.GOODBYE, {"Thanks, bye", "That's all, thanks", "Goodbye", "No, that's it. Bye!"}),
    ]:
        seen = {text_of(bank.render(UserTurnPlan([act]), random.Random(s))) for s in range(100)}
        assert seen == allowed
    for plan in random_plans(skill, 300, seed=3):
        assert_exact(bank.render(plan, random.Random(0)), plan)
    api = skill.apis[1]
    verb = {"BookFlight": "Book", "OrderPizza": "Order"}[api.name]
    plan = UserTurnPlan([U.INVOKE], api.name, anaphora=True)
    seen = {text_of(bank.render(plan, random.Random(s))) for s in range(100)}
    assert seen == {f"{verb} it", f"{verb} that one", "That one works", "I'll take that one"}


# ---------------------------------------------------------------- anaphora and multi-act turns


def test_anaphora_prefers_variants_without_the_referred_argument(banks):
    bank = banks["flights"]
    two = Value("number", "2", "2")
    plan = UserTurnPlan([U.INVOKE], "BookFlight", {"passengers": two}, anaphora=True)
    texts = {assert_exact(bank.render(plan, random.Random(s)), plan) for s in range(80)}
    assert "Yes, book it for 2 passengers" in texts and "Reserve that flight for 2" in texts
    bare = UserTurnPlan([U.INVOKE], "BookFlight", anaphora=True)
    texts = {assert_exact(bank.render(bare, random.Random(s)), bare) for s in range(80)}
    assert texts == {"Book it", "I'll take it", "Book that one", "Great, get me a seat on that one"}


def test_anaphora_without_anaphoric_variants_uses_builtin_ones(banks):
    bank = banks["pizza"]
    plain = {text_of(bank.render(UserTurnPlan([U.INVOKE], "OrderPizza"), random.Random(s))) for s in range(40)}
    assert plain == {"I'd like to order a pizza"}
    referring = UserTurnPlan([U.INVOKE], "OrderPizza", anaphora=True)
    texts = {text_of(bank.render(referring, random.Random(s))) for s in range(40)}
    assert texts == {"Order it", "Order that one", "That one works", "I'll take that one"}


def test_deny_and_change_are_joined_without_saying_no_twice(banks):
    bank = banks["flights"]
    plan = UserTurnPlan([U.DENY, U.CHANGE], "BookFlight", {"passengers": Value("number", "4", "4")})
    texts = {assert_exact(bank.render(plan, random.Random(s)), plan) for s in range(200)}
    assert "No, it's 4 passengers" in texts
    assert any(t.startswith(("No", "Nope", "Not quite", "Actually, no")) and "there are 4 of us" in t for t in texts)
    for t in texts:
        if "No, it's 4" in t:
            assert t.startswith("No, it's 4"), t


def test_affirm_then_invoke(banks):
    bank = banks["flights"]
    plan = UserTurnPlan([U.AFFIRM, U.INVOKE], "BookFlight", {"passengers": Value("number", "3", "3")}, anaphora=True)
    texts = {assert_exact(bank.render(plan, random.Random(s)), plan) for s in range(100)}
    assert "Yes, book it for 3 passengers" in texts  # the variant's own "Yes" replaces the affirmation
    assert not any(t.lower().startswith(("yes, yes", "yes please, yes", "sure, yes")) for t in texts)


def test_articles_numbers_and_repeated_words_agree_with_the_values(banks):
    bank = banks["pizza"]

    def say(variant_start: str, **values: Value) -> str:
        plan = UserTurnPlan([U.INVOKE], "OrderPizza", values)
        texts = {text_of(bank.render(plan, random.Random(s))) for s in range(300)}
        return next(t for t in texts if t.startswith(variant_start))

    size_topping = {"size": Value("size", "extra large", "extra large"), "topping": Value("topping", "ham", "ham")}
    assert say("Can I get", **size_topping) == "Can I get an extra large ham pizza?"
    one = Value("number", "1", "one")
    pizzas = say("I want", quantity=one, **size_topping)
    assert pizzas == "I want one extra large ham pizza"
    inform = UserTurnPlan([U.INFORM], "OrderPizza", {"crust": Value("crust", "thin", "thin crust")})
    texts = {text_of(bank.render(inform, random.Random(s))) for s in range(100)}
    assert "thin crust" in texts and "On thin crust" in texts and not any("crust crust" in t for t in texts)


def test_dates_say_on_only_where_it_reads_well(banks):
    bank = banks["flights"]
    values = {"origin": Value("city", "Boston", "Boston"), "destination": Value("city", "Paris", "Paris")}
    for date, expected in [("tomorrow", "Get me to Paris tomorrow"), ("March 3rd", "Get me to Paris on March 3rd")]:
        plan = UserTurnPlan(
            [U.INVOKE], "SearchFlights", {"destination": values["destination"], "date": Value("date", "x", date)}
        )
        texts = {text_of(bank.render(plan, random.Random(s))) for s in range(100)}
        assert expected in texts


# ---------------------------------------------------------------- determinism and speed


@pytest.mark.parametrize("name", EXAMPLES)
def test_same_seed_same_turns(name, skills):
    plans = random_plans(skills[name], 200)

    def run() -> list:
        bank, rng, para = UtteranceBank(skills[name]), random.Random(7), RuleParaphraser()
        return [para.paraphrase(bank.render(p, rng), p.acts, rng) for p in plans]

    assert run() == run()


def test_rendering_is_fast(skills, banks):
    plans = random_plans(skills["flights"], 500)
    bank, rng = banks["flights"], random.Random(0)
    for p in plans:
        bank.render(p, rng)
    start = time.perf_counter()
    for _ in range(4):
        for p in plans:
            bank.render(p, rng)
    per_turn = (time.perf_counter() - start) / 2000
    assert per_turn < 3e-4  # measured ~15 µs; generous so a slow CI machine passes


# ---------------------------------------------------------------- values


def test_catalogue_values_are_said_with_their_synonyms(skills):
    skill = skills["flights"]
    sampler = ValueSampler(skill)
    city = next(s for s in skill.slot_types if s.name == "city")
    words = {v.value: {v.value, *v.synonyms} for v in city.values}
    rng = random.Random(0)
    drawn = [sampler.sample("city", rng) for _ in range(500)]
    assert all(v.slot_type == "city" and v.text in words[v.value] for v in drawn)
    synonyms = sum(v.text != v.value for v in drawn)
    assert 150 < synonyms < 350  # about half, as every city has synonyms
    assert len({v.value for v in drawn}) == len(city.values)
    # No synonyms: always the value itself.
    assert all(v.text == v.value for v in (sampler.sample("booking_reference", rng) for _ in range(50)))
    assert all(sampler.sample("cabin", rng, exclude="economy").value != "economy" for _ in range(50))


def test_surface_says_a_given_value_another_way(skills):
    sampler = ValueSampler(skills["flights"])
    rng = random.Random(0)
    said = {sampler.surface("city", "New York", rng).text for _ in range(100)}
    assert (
        "New York" in said
        and len(said) > 3
        and said <= {"New York", "NYC", "New York City", "JFK", "LaGuardia", "LGA", "the Big Apple"}
    )
    assert sampler.surface("city", "Atlantis", rng) == Value("city", "Atlantis", "Atlantis")
    assert sampler.surface("date", "not a date", rng) == Value("date", "not a date", "not a date")


@pytest.mark.parametrize("today", [DEFAULT_TODAY, datetime.date(2024, 2, 28)], ids=str)
def test_builtin_values_round_trip(skills, today):
    skill = skills["flights"]
    sampler = ValueSampler(skill, today=today)
    rng = random.Random(0)
    for slot_type, builtin in [("date", "DATE"), ("time", "TIME"), ("number", "NUMBER"), ("price", "NUMBER")]:
        forms: dict[str, set[str]] = {}
        for _ in range(300):
            v = sampler.sample(slot_type, rng)
            assert v.slot_type == slot_type
            assert normalize(builtin, v.text, today=today) == v.value, v
            again = sampler.surface(slot_type, v.value, rng)
            assert again.value == v.value and normalize(builtin, again.text, today=today) == v.value, again
            forms.setdefault(v.value, set()).add(again.text)
        assert any(len(f) > 1 for f in forms.values())  # there is more than one way to say a value


def test_unknown_and_empty_slot_types_are_refused(skills):
    data = spec("flights")
    data["slot_types"].append({"name": "empty", "values": []})
    sampler = ValueSampler(skillspec.parse_skill(data))
    with pytest.raises(KeyError):
        sampler.sample("nope", random.Random(0))
    with pytest.raises(ValueError, match="no values"):
        sampler.sample("empty", random.Random(0))


# ---------------------------------------------------------------- paraphrasing

ALL_ON = RuleParaphraser(
    filler=1, politeness=1, hedge=1, contraction=1, slang=1, reorder=1, drop_punctuation=1, lowercase=1
)
PARAPHRASERS: list[Paraphraser] = [
    RuleParaphraser(),
    ALL_ON,
    NoParaphraser(),
    ChainParaphraser(RuleParaphraser(), ALL_ON, RuleParaphraser(contraction=1)),
]


def assert_same_mentions(before, after) -> None:
    assert Counter(s for s in before if isinstance(s, Mention)) == Counter(s for s in after if isinstance(s, Mention))
    text, placed = assemble(after)
    assert all(text[p.start : p.end] == p.mention.value.text for p in placed)


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("paraphraser", PARAPHRASERS, ids=lambda p: type(p).__name__)
def test_paraphrasing_keeps_every_mention(name, paraphraser, skills, banks):
    rng = random.Random(2)
    changed = 0
    for plan in random_plans(skills[name], 400, seed=5):
        segments = banks[name].render(plan, rng)
        out = paraphraser.paraphrase(segments, plan.acts, rng)
        assert_same_mentions(segments, out)
        changed += text_of(out) != text_of(segments)
    assert (changed == 0) == isinstance(paraphraser, NoParaphraser)


_values = st.builds(
    Value, st.sampled_from(["city", "date"]), st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=12)
)
_segments = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.sampled_from([" from ", " to ", "I would like ", "do not ", "Find me ", "?", ". ", "want to "]),
        st.builds(Mention, st.sampled_from(["origin", "destination", "x"]), _values),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(segments=_segments, acts=st.lists(st.sampled_from(list(UserAct)), max_size=2), seed=st.integers(0, 2**16))
def test_paraphrasing_keeps_mentions_for_any_input(segments, acts, seed):
    out = ALL_ON.paraphrase(segments, acts, random.Random(seed))
    assert_same_mentions(segments, out)
    out = RuleParaphraser().paraphrase(segments, acts, random.Random(seed))
    assert_same_mentions(segments, out)


def test_rule_paraphraser_transformations():
    boston, paris = Value("city", "Boston", "Boston"), Value("city", "Paris", "Paris")
    route = fill("I would like a flight from {o} to {d} tomorrow.", {"o": boston, "d": paris})
    only = {k: 0.0 for k in RuleParaphraser.__dataclass_fields__}
    swap = RuleParaphraser(**{**only, "reorder": 1.0}).paraphrase(route, [U.INVOKE], random.Random(0))
    assert text_of(swap) == "I would like a flight to Paris from Boston tomorrow."
    assert [s.value for s in swap if isinstance(s, Mention)] == [paris, boston]
    contracted = {
        text_of(RuleParaphraser(**{**only, "contraction": 1.0}).paraphrase(route, [U.INVOKE], random.Random(s)))
        for s in range(20)
    }
    assert "I'd like a flight from Boston to Paris tomorrow." in contracted
    # Not safe to swap: "to" is part of a longer phrase.
    unsafe = fill("I want to go from {o} to {d}s", {"o": boston, "d": paris})
    kept = RuleParaphraser(**{**only, "reorder": 1.0}).paraphrase(unsafe, [U.INFORM], random.Random(0))
    assert text_of(kept) == "I want to go from Boston to Pariss"
    polite = {
        text_of(
            RuleParaphraser(**{**only, "politeness": 1.0}).paraphrase(
                fill("Find me a flight to {d}.", {"d": paris}), [U.INVOKE], random.Random(s)
            )
        )
        for s in range(40)
    }
    assert {"Find me a flight to Paris, please.", "Please find me a flight to Paris."} <= polite
    assert any(t.startswith(("Could you find", "Can you find")) and t.endswith("Paris?") for t in polite)
    casual = RuleParaphraser(**{**only, "drop_punctuation": 1.0, "lowercase": 1.0})
    assert text_of(casual.paraphrase(fill("Find me {d}.", {"d": paris}), [U.INVOKE], random.Random(0))) == (
        "find me Paris"
    )
    assert text_of(casual.paraphrase(fill("I need {d}!", {"d": paris}), [U.INVOKE], random.Random(0))) == "I need Paris"
    # A mention at the start is never recased.
    lower = casual.paraphrase(fill("{d}, please", {"d": paris}), [U.INFORM], random.Random(0))
    assert lower[0] == Mention("d", paris)


def test_chain_applies_every_paraphraser_in_order():
    class Suffix:
        def __init__(self, s: str) -> None:
            self.s = s

        def paraphrase(self, segments, acts, rng):
            return [*segments, self.s]

    out = ChainParaphraser(Suffix("a"), Suffix("b"), NoParaphraser()).paraphrase(["x"], [], random.Random(0))
    assert out == ["x", "a", "b"]
