import datetime
import random
import re

import pytest

from skillspec import BUILTIN_EXAMPLES, BuiltinType, normalize, sample_surface
from skillspec.builtins import number_words, surface_forms

DATE, TIME, NUMBER = BuiltinType.DATE, BuiltinType.TIME, BuiltinType.NUMBER
TODAY = datetime.date(2026, 3, 3)  # a Tuesday
CANONICAL = {DATE: r"\d{4}-\d{2}-\d{2}", TIME: r"([01]\d|2[0-3]):[0-5]\d", NUMBER: r"0|[1-9]\d*"}
# Month ends, a leap day, a year end: where date arithmetic goes wrong.
TODAYS = [TODAY, datetime.date(2026, 1, 31), datetime.date(2024, 2, 29), datetime.date(2025, 12, 31)]


@pytest.mark.parametrize("builtin", list(BuiltinType))
@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_every_sampled_surface_normalizes_back_to_its_value(builtin, today):
    for seed in range(800):
        text, value = sample_surface(builtin, random.Random(seed), today=today)
        assert re.fullmatch(CANONICAL[builtin], value)
        assert normalize(builtin, text, today=today) == value, (seed, text)
        assert normalize(builtin, text.upper(), today=today) == value, (seed, text)


@pytest.mark.parametrize(
    ("builtin", "shapes"),
    [
        (
            DATE,
            {
                "today": r"today",
                "tomorrow": r"tomorrow",
                "day after": r"the day after tomorrow",
                "in n days": r"in \w+ days",
                "this weekday": r"this [A-Z]\w+day",
                "next weekday": r"next [A-Z]\w+day",
                "month day": r"[A-Z][a-z]+ \d+(st|nd|rd|th)?",
                "day of month": r"(the )?\w+ of [A-Z][a-z]+",
                "the nth": r"the (\d+(st|nd|rd|th)|[a-z-]+)",
                "numeric": r"\d{1,2}/\d{1,2}",
                "iso": r"\d{4}-\d{2}-\d{2}",
            },
        ),
        (
            TIME,
            {
                "am/pm": r"\d{1,2}(:\d\d)? ?([ap]m|[AP]M|[ap]\.m\.)",
                "24 hour": r"\d{2}:\d{2}",
                "noon": r"noon",
                "half past": r"half past \w+( in the \w+)?",
                "quarter to": r"quarter to \w+( in the \w+)?",
                "part of day": r".+ in the (morning|afternoon|evening)",
                "words": r"[a-z]+ [a-z-]+ (am|pm|AM|PM|a\.m\.|p\.m\.)",
            },
        ),
        (NUMBER, {"digits": r"\d+", "words": r"[a-z]+([- ][a-z]+)?", "dozen": r"a dozen"}),
    ],
)
def test_sampled_surfaces_are_varied(builtin, shapes):
    texts = {sample_surface(builtin, random.Random(seed), today=TODAY)[0] for seed in range(3000)}
    missing = [name for name, pattern in shapes.items() if not any(re.fullmatch(pattern, t) for t in texts)]
    assert missing == []


def test_sampling_uses_only_the_given_rng():
    random.seed(1234)
    state = random.getstate()
    first = [sample_surface(b, random.Random(7), today=TODAY) for b in BuiltinType]
    assert random.getstate() == state
    assert [sample_surface(b, random.Random(7), today=TODAY) for b in BuiltinType] == first


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("today", "2026-03-03"),
        ("Tomorrow", "2026-03-04"),
        ("the day after tomorrow", "2026-03-05"),
        ("in 3 days", "2026-03-06"),
        ("in two weeks", "2026-03-17"),
        ("this Friday", "2026-03-06"),
        ("on Friday", "2026-03-06"),
        ("Tuesday", "2026-03-03"),
        ("next Monday", "2026-03-16"),
        ("next Tuesday", "2026-03-10"),
        ("March 3rd", "2026-03-03"),
        ("march the 3rd", "2026-03-03"),
        ("March 2nd", "2027-03-02"),
        ("3rd of March", "2026-03-03"),
        ("the twenty-first of March", "2026-03-21"),
        ("Mar. 21", "2026-03-21"),
        ("3 March 2027", "2027-03-03"),
        ("March 3rd, 2027", "2027-03-03"),
        ("February 29th", "2028-02-29"),
        ("the 21st", "2026-03-21"),
        ("the 2nd", "2026-04-02"),
        ("the thirty-first", "2026-03-31"),
        ("3/14", "2026-03-14"),
        ("3/14/27", "2027-03-14"),
        ("2026-12-25", "2026-12-25"),
        ("  TOMORROW  ", "2026-03-04"),
    ],
)
def test_dates(text, value):
    assert normalize(DATE, text, today=TODAY) == value


def test_the_31st_skips_short_months():
    assert normalize(DATE, "the 31st", today=datetime.date(2026, 4, 2)) == "2026-05-31"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7:30 pm", "19:30"),
        ("7:30PM", "19:30"),
        ("7 p.m.", "19:00"),
        ("7pm", "19:00"),
        ("at 7 am", "07:00"),
        ("12 am", "00:00"),
        ("12:30 pm", "12:30"),
        ("noon", "12:00"),
        ("Midnight", "00:00"),
        ("half past six in the evening", "18:30"),
        ("quarter past seven in the morning", "07:15"),
        ("quarter to eight", "07:45"),
        ("quarter to eight pm", "19:45"),
        ("twenty to nine in the evening", "20:40"),
        ("quarter to midnight", "23:45"),
        ("seven thirty pm", "19:30"),
        ("seven oh five am", "07:05"),
        ("eleven at night", "23:00"),
        ("seven o'clock in the evening", "19:00"),
        ("19:00", "19:00"),
        ("7:30", "07:30"),
    ],
)
def test_times(text, value):
    assert normalize(TIME, text, today=TODAY) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", "3"),
        ("two", "2"),
        ("Twelve", "12"),
        ("twenty-one", "21"),
        ("twenty one", "21"),
        ("a dozen", "12"),
        ("one hundred and five", "105"),
        ("1,200", "1200"),
        ("zero", "0"),
    ],
)
def test_numbers(text, value):
    assert normalize(NUMBER, text, today=TODAY) == value


@pytest.mark.parametrize(
    ("builtin", "text"),
    [
        (DATE, ""),
        (DATE, "someday"),
        (DATE, "next"),
        (DATE, "March"),
        (DATE, "March 32nd"),
        (DATE, "February 30th 2026"),
        (DATE, "2026-02-30"),
        (DATE, "13/1"),
        (DATE, "the 32nd"),
        (TIME, "25:00"),
        (TIME, "7:60"),
        (TIME, "13 pm"),
        (TIME, "half past"),
        (TIME, "seven seventy"),
        (TIME, "teatime"),
        (NUMBER, "one two"),
        (NUMBER, "twenty thirty"),
        (NUMBER, "3.5"),
        (NUMBER, "-3"),
        (NUMBER, "a couple"),
        (NUMBER, "many"),
    ],
)
def test_unrecognised_text_is_none(builtin, text):
    assert normalize(builtin, text, today=TODAY) is None


def test_examples_cover_every_builtin_and_are_recognised():
    assert set(BUILTIN_EXAMPLES) == set(BuiltinType)
    for builtin, examples in BUILTIN_EXAMPLES.items():
        assert len(examples) >= 3
        for text in examples:
            assert normalize(builtin, text, today=TODAY) is not None, text


def test_builtin_may_be_given_by_name():
    assert normalize("NUMBER", "four", today=TODAY) == "4"
    text, value = sample_surface("TIME", random.Random(3), today=TODAY)
    assert normalize("TIME", text, today=TODAY) == value
    with pytest.raises(ValueError):
        normalize("COLOUR", "red", today=TODAY)


def test_number_words():
    assert [number_words(n) for n in (0, 7, 13, 40, 42, 100, 315)] == [
        "zero",
        "seven",
        "thirteen",
        "forty",
        "forty-two",
        "one hundred",
        "three hundred and fifteen",
    ]
    assert all(normalize(NUMBER, number_words(n), today=TODAY) == str(n) for n in range(1000))


@pytest.mark.parametrize(
    ("builtin", "value"),
    [("DATE", "2026-01-16"), ("DATE", "2026-03-01"), ("TIME", "18:45"), ("TIME", "12:00"), ("NUMBER", "12")],
)
def test_every_way_to_say_a_value_reads_back_to_it_and_the_simulator_says_only_those(builtin, value):
    import skillspec
    from simulator.language import ValueSampler

    today = datetime.date(2026, 1, 15)
    forms = surface_forms(builtin, value, today=today)
    assert len(set(forms)) >= 3
    assert all(normalize(builtin, f, today=today) == value for f in forms)
    skill = skillspec.parse_skill({"name": "S", "slot_types": [{"name": "x", "builtin": builtin}]})
    sampler, rng = ValueSampler(skill, today=today), random.Random(0)
    said = {sampler.surface("x", value, rng).text for _ in range(200)}
    assert said and said <= set(forms)


def test_a_value_that_is_not_canonical_has_no_forms():
    today = datetime.date(2026, 1, 15)
    assert surface_forms("DATE", "tomorrow", today=today) == ()
    assert surface_forms("TIME", "6pm", today=today) == ()
    assert surface_forms("NUMBER", "two", today=today) == ()


def test_saying_any_canonical_value_reads_back_to_it():
    from skillspec.builtins import say

    today, rng, said = datetime.date(2026, 1, 15), random.Random(11), 0
    values = [("DATE", (today + datetime.timedelta(days=d)).isoformat()) for d in range(-400, 401, 7)]
    values += [("TIME", f"{h:02d}:{m:02d}") for h in range(24) for m in (0, 5, 15, 30, 45, 50)]
    values += [("NUMBER", str(n)) for n in (*range(0, 40), 99, 100, 999, 1000, 12345)]
    for builtin, value in values:
        for _ in range(5):
            text = say(builtin, value, rng, today=today)
            assert normalize(builtin, text, today=today) == value, (builtin, value, text)
            said += 1
    assert said == 5 * len(values) > 1000
    # A value that is no canonical value is said as it is.
    assert say("DATE", "soonish", rng, today=today) == "soonish"


@pytest.mark.parametrize(
    ("text", "today", "value"),
    [
        ("the 13th of this month", datetime.date(2019, 3, 1), "2019-03-13"),
        ("13th of next month", datetime.date(2019, 3, 1), "2019-04-13"),
        ("the 5th of next month", datetime.date(2025, 12, 20), "2026-01-05"),  # over the year end
        ("the second of this month", datetime.date(2026, 1, 15), "2026-01-02"),  # even when past
    ],
)
def test_a_day_of_this_or_next_month(text, today, value):
    assert normalize(DATE, text, today=today) == value


def test_a_day_the_month_does_not_have_is_no_date():
    assert normalize(DATE, "the 31st of next month", today=datetime.date(2019, 3, 1)) is None  # April
