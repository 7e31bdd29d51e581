"""Built-in slot types: how people say dates, times and numbers, and what they mean.

:func:`sample_surface` generates a realistic surface form with its canonical value
(for the dialogue simulator); :func:`normalize` reads a surface form back into the
canonical value (for the studio and the runtime). Every form the sampler produces is
one that ``normalize`` reads back to the same value. :func:`surface_forms` lists every
way to say one canonical value.

(One module of ~700 lines on purpose: reading and saying share the same word tables and
date arithmetic, and the guarantee that every said form reads back is easiest to keep
where both sides are.)

Canonical values: DATE ``YYYY-MM-DD``, TIME ``HH:MM`` (24-hour), NUMBER a decimal
integer. Relative dates are resolved against an explicit ``today``:

* ``"this Friday"``, ``"Friday"``: the first Friday on or after today;
  ``"next Friday"``: seven days after that.
* ``"March 3rd"``, ``"3/14"``: the first such date on or after today.
* ``"the 21st"``: the first 21st of a month on or after today.

A time with neither am/pm nor a part of the day ("in the evening") is read as a
24-hour clock time: ``"7:30"`` and ``"half past seven"`` are 07:30, ``"19:30"`` is 19:30.
"""

from __future__ import annotations

import datetime
import functools
import random
import re

from .models import BuiltinType

EXAMPLES: dict[BuiltinType, list[str]] = {
    BuiltinType.DATE: [
        "today",
        "tomorrow",
        "the day after tomorrow",
        "this Friday",
        "next Monday",
        "March 3rd",
        "3rd of March",
        "the 21st",
        "3/14",
        "2026-03-03",
    ],
    BuiltinType.TIME: [
        "7:30 pm",
        "7 pm",
        "noon",
        "midnight",
        "half past six in the evening",
        "quarter to eight",
        "19:00",
    ],
    BuiltinType.NUMBER: ["two", "3", "twelve", "twenty-one", "a dozen"],
}

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL_UNITS = [
    "_",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
_ORDINAL_TENS = {20: "twentieth", 30: "thirtieth"}
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
"""English month names, capitalised; the one list every module that says or reads dates uses."""
_MONTHS = [m.lower() for m in MONTH_NAMES]
_MONTH_ABBREVIATIONS = {m[:3]: i + 1 for i, m in enumerate(_MONTHS)} | {"sept": 9}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""English weekday names, capitalised, Monday first (``date.weekday()`` indexes them)."""
_WEEKDAYS = [d.lower() for d in WEEKDAY_NAMES]
_WEEKDAY_ABBREVIATIONS = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}


# ---------------------------------------------------------------- numbers


def number_words(n: int) -> str:
    """``21 -> "twenty-one"``; 0 <= n < 1000."""
    if not 0 <= n < 1000:
        raise ValueError(f"{n} is out of range")
    if n < 20:
        return _UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens] + (f"-{_UNITS[unit]}" if unit else "")
    hundreds, rest = divmod(n, 100)
    return f"{_UNITS[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")


def _ordinal_words(n: int) -> str:
    if n < 20:
        return _ORDINAL_UNITS[n]
    tens, unit = divmod(n, 10)
    return _ORDINAL_TENS[n] if unit == 0 else f"{_TENS[tens]}-{_ORDINAL_UNITS[unit]}"


def _ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


_WORD_VALUES = {w: i for i, w in enumerate(_UNITS)} | {w: i * 10 for i, w in enumerate(_TENS) if i >= 2}
_ORDINAL_VALUES = {w: i for i, w in enumerate(_ORDINAL_UNITS) if i} | {w: n for n, w in _ORDINAL_TENS.items()}


def _parse_number_words(text: str) -> int | None:
    """``"one hundred and five" -> 105``; None unless the whole text is a number below 1000."""
    words = text.replace("-", " ").split()
    if not words:
        return None
    if words[0] == "a" and len(words) > 1 and words[1] == "hundred":
        words[0] = "one"
    total, current, last = 0, 0, ""
    for w in words:
        if w == "and" and last == "hundred":
            last = w
            continue
        if w == "hundred":
            if not 1 <= current <= 9 or total:
                return None
            total, current = current * 100, 0
        elif w in _WORD_VALUES:
            v = _WORD_VALUES[w]
            # "twenty one" composes; "one two" or "twenty thirty" do not.
            if current == 0 and last not in ("", "hundred", "and"):
                return None
            if current and not (current % 10 == 0 and current >= 20 and v < 10 and last in _TENS):
                return None
            if v == 0 and (current or total or len(words) > 1):
                return None
            current += v
        else:
            return None
        last = w
    if last == "and":
        return None
    return total + current


def _parse_int(text: str) -> int | None:
    if re.fullmatch(r"\d+", text):
        return int(text)
    if re.fullmatch(r"\d{1,3}(,\d{3})+", text):
        return int(text.replace(",", ""))
    return _parse_number_words(text)


def _normalize_number(s: str) -> str | None:
    if s in ("a dozen", "dozen", "one dozen"):
        return "12"
    n = _parse_int(s)
    return None if n is None else str(n)


def _sample_number(rng: random.Random) -> int:
    n: int = rng.choices(
        [rng.randint(1, 4), rng.randint(5, 12), rng.randint(13, 99), rng.randint(100, 999)],
        weights=[6, 3, 1, 0.2],
    )[0]
    return n


def _number_groups(n: int, rng: random.Random | None) -> list[tuple[float, list[str]]]:
    forms = [str(n), str(n)]
    if 0 <= n < 1000:
        forms.append(number_words(n))
    if n == 12:
        forms.append("a dozen")
    if 20 < n < 100 and n % 10:
        forms.append(number_words(n).replace("-", " "))
    return [(1, forms)]


# ---------------------------------------------------------------- dates


def _next_month_day(today: datetime.date, month: int, day: int) -> datetime.date | None:
    """The first ``month``/``day`` on or after today (a 29th of February may be years away)."""
    for year in range(today.year, today.year + 9):
        try:
            d = datetime.date(year, month, day)
        except ValueError:
            continue
        if d >= today:
            return d
    return None


def _next_day_of_month(today: datetime.date, day: int) -> datetime.date | None:
    year, month = today.year, today.month
    for _ in range(13):
        try:
            d = datetime.date(year, month, day)
        except ValueError:
            d = None
        if d is not None and d >= today:
            return d
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _this_weekday(today: datetime.date, weekday: int) -> datetime.date:
    return today + datetime.timedelta(days=(weekday - today.weekday()) % 7)


_ORDINAL_WORD = "|".join(sorted(_ORDINAL_VALUES, key=len, reverse=True))
_DAY = rf"\d{{1,2}}(?:st|nd|rd|th)?|(?:(?:twenty|thirty)[ -])?(?:{_ORDINAL_WORD})"
_MONTH = "(?:" + "|".join(sorted([*_MONTHS, *_MONTH_ABBREVIATIONS], key=len, reverse=True)) + r")\.?"


def _day_number(token: str) -> int | None:
    """``"3rd"``, ``"3"``, ``"third"``, ``"twenty-first"`` -> the day of the month."""
    if m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", token):
        n = int(m.group(1))
    else:
        words = token.replace("-", " ").split()
        if len(words) == 1:
            n = _ORDINAL_VALUES.get(words[0], 0)
        elif len(words) == 2 and words[0] in ("twenty", "thirty") and _ORDINAL_VALUES.get(words[1], 99) < 10:
            n = _WORD_VALUES[words[0]] + _ORDINAL_VALUES[words[1]]
        else:
            n = 0
    return n if 1 <= n <= 31 else None


def _month_number(token: str) -> int | None:
    token = token.rstrip(".")
    if token in _MONTHS:
        return _MONTHS.index(token) + 1
    return _MONTH_ABBREVIATIONS.get(token)


def _weekday_number(token: str) -> int | None:
    if token in _WEEKDAYS:
        return _WEEKDAYS.index(token)
    return _WEEKDAY_ABBREVIATIONS.get(token.rstrip("."))


def _date_or_none(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _month_day_year(month: int | None, day: int | None, year: str | None, today: datetime.date) -> datetime.date | None:
    if month is None or day is None:
        return None
    if year:
        return _date_or_none(int(year), month, day)
    return _next_month_day(today, month, day)


def _parse_date(s: str, today: datetime.date) -> datetime.date | None:
    s = re.sub(r"^on ", "", s.replace(",", " "))
    s = " ".join(s.split())
    if s == "today":
        return today
    if s == "tomorrow":
        return today + datetime.timedelta(days=1)
    if s in ("the day after tomorrow", "day after tomorrow"):
        return today + datetime.timedelta(days=2)
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s):
        return _date_or_none(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?", s):
        year = m.group(3)
        if year is not None and len(year) == 2:
            year = "20" + year
        return _month_day_year(int(m.group(1)), int(m.group(2)), year, today)
    if m := re.fullmatch(r"in (.+) (day|days|week|weeks)", s):
        count = 1 if m.group(1) in ("a", "one") else _parse_int(m.group(1))
        if count is None:
            return None
        return today + datetime.timedelta(days=count * (7 if m.group(2).startswith("week") else 1))
    if m := re.fullmatch(r"(this coming|this|coming|next) ([a-z.]+)|([a-z.]+)", s):
        weekday = _weekday_number(m.group(2) or m.group(3))
        if weekday is not None:
            this = _this_weekday(today, weekday)
            return this + datetime.timedelta(days=7) if m.group(1) == "next" else this
    if s.startswith("the ") and (day := _day_number(s[4:])) is not None:
        return _next_day_of_month(today, day)
    # "the 13th of this month", "the 2nd of next month"
    if m := re.fullmatch(rf"(?:the )?({_DAY}) of (this|next) month", s):
        day = _day_number(m.group(1))
        year, month = today.year, today.month
        if m.group(2) == "next":
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None if day is None else _date_or_none(year, month, day)
    # "March 3rd", "March the 3rd", "Mar 3 2026"
    if m := re.fullmatch(rf"({_MONTH}) (?:the )?({_DAY})(?: (\d{{4}}))?", s):
        return _month_day_year(_month_number(m.group(1)), _day_number(m.group(2)), m.group(3), today)
    # "3rd of March", "the 3rd of March", "3 March 2026"
    if m := re.fullmatch(rf"(?:the )?({_DAY}) (?:of )?({_MONTH})(?: (\d{{4}}))?", s):
        return _month_day_year(_month_number(m.group(2)), _day_number(m.group(1)), m.group(3), today)
    return None


def _sample_date(rng: random.Random, today: datetime.date) -> datetime.date:
    delta = rng.choices([rng.randint(0, 2), rng.randint(0, 13), rng.randint(0, 330)], weights=[3, 4, 4])[0]
    return today + datetime.timedelta(days=delta)


def _date_groups(d: datetime.date, today: datetime.date, rng: random.Random | None) -> list[tuple[float, list[str]]]:
    """Ways to say ``d``, in weighted groups; with ``rng`` the month-day group uses one drawn
    wording of the day, without it every wording (for :func:`surface_forms`)."""
    delta = (d - today).days
    # Not strftime: its names follow the process locale.
    month = MONTH_NAMES[d.month - 1]
    short = month[:3]
    weekday = WEEKDAY_NAMES[d.weekday()]
    day_forms = [_ordinal_suffix(d.day), _ordinal_suffix(d.day), str(d.day), _ordinal_words(d.day)]

    groups: list[tuple[float, list[str]]] = []
    relative = {0: ["today"], 1: ["tomorrow"], 2: ["the day after tomorrow"]}.get(delta, [])
    if 2 <= delta <= 30:
        relative += [f"in {delta} days", f"in {number_words(delta)} days"]
    if delta == 7:
        relative += ["in a week", "in one week"]
    if delta == 14:
        relative += ["in two weeks", "in 2 weeks"]
    if relative:
        groups.append((4, relative))
    if delta <= 6:
        groups.append((3, [f"this {weekday}", weekday, f"this coming {weekday}"]))
    elif delta <= 13:
        groups.append((3, [f"next {weekday}"]))
    if _next_month_day(today, d.month, d.day) == d:
        days = [rng.choice(day_forms)] if rng is not None else list(dict.fromkeys(day_forms))
        groups.append(
            (
                4,
                [
                    *(f"{month} {day}" for day in days),
                    f"{month} the {_ordinal_suffix(d.day)}",
                    f"{short} {d.day}",
                    *(f"{day} of {month}" for day in days),
                    *(f"the {day} of {month}" for day in days),
                    f"{d.day} {month}",
                    f"{d.month}/{d.day}",
                ],
            )
        )
    if _next_day_of_month(today, d.day) == d:
        groups.append((1, [f"the {_ordinal_suffix(d.day)}", f"the {_ordinal_words(d.day)}"]))
    groups.append(
        (
            1,
            [
                f"{month} {_ordinal_suffix(d.day)}, {d.year}",
                f"{d.day} {month} {d.year}",
                f"{d.month}/{d.day}/{d.year}",
                d.isoformat(),
            ],
        )
    )
    return groups


# ---------------------------------------------------------------- times

_PARTS = {
    "in the morning": "am",
    "this morning": "am",
    "in the afternoon": "pm",
    "this afternoon": "pm",
    "in the evening": "pm",
    "this evening": "pm",
    "tonight": "pm",
    "at night": "night",
}
_PART_RE = "|".join(_PARTS)


def _hour_value(token: str) -> int | None:
    if token == "noon":
        return 12
    if token == "midnight":
        return 0
    n = _parse_int(token)
    return n if n is not None and 0 <= n <= 23 else None


def _apply_period(hour: int, period: str | None) -> int | None:
    """The 24-hour hour of a clock ``hour`` said with ``period`` ("am", "pm", "night" or None)."""
    if period is None:
        return hour
    if not 1 <= hour <= 12:
        return None
    if period == "am":
        return 0 if hour == 12 else hour
    if period == "pm":
        return 12 if hour == 12 else hour + 12
    # "at night": 12 is midnight, 1-5 are small hours, 6-11 are evening.
    return 0 if hour == 12 else hour if hour <= 5 else hour + 12


def _clock(s: str) -> tuple[int, int] | None:
    """``"7:30"``, ``"7"``, ``"seven thirty"``, ``"seven oh five"`` -> (hour, minute), before am/pm."""
    if m := re.fullmatch(r"(\d{1,2}):(\d{2})", s):
        hour, minute = int(m.group(1)), int(m.group(2))
        return (hour, minute) if hour <= 23 and minute <= 59 else None
    words = s.replace("-", " ").split()
    hour_ = _hour_value(words[0]) if words else None
    if hour_ is None:
        return None
    rest = " ".join(words[1:])
    if not rest:
        return hour_, 0
    if m := re.fullmatch(r"oh ([a-z]+)", rest):
        minute_ = _parse_int(m.group(1))
        return (hour_, minute_) if minute_ is not None and 1 <= minute_ <= 9 else None
    minute_ = None if rest.isdigit() else _parse_int(rest)
    return (hour_, minute_) if minute_ is not None and 10 <= minute_ <= 59 else None


def _parse_time(s: str) -> str | None:
    s = re.sub(r"(?<![a-z])([ap])\.\s?m\.?", r"\1m", s)
    s = re.sub(r"(\d)([ap]m)\b", r"\1 \2", s)
    s = re.sub(r"^at ", "", s)
    s = " ".join(s.replace("o'clock", "").replace("oclock", "").split())
    if s in ("noon", "midday", "12 noon"):
        return "12:00"
    if s in ("midnight", "12 midnight"):
        return "00:00"
    period: str | None = None
    if m := re.fullmatch(rf"(.+?) (am|pm|{_PART_RE})", s):
        s, period = m.group(1), _PARTS.get(m.group(2), m.group(2))
    if m := re.fullmatch(r"(half|quarter|[a-z0-9 -]+?)(?: minutes?)? (past|after|to|before) (.+)", s):
        # "quarter to eight pm": am/pm belongs to the named hour, the minutes are an offset from it.
        named = _hour_value(m.group(3))
        amount = {"half": 30, "quarter": 15}.get(m.group(1)) or _parse_int(m.group(1))
        if named is None or amount is None or not 1 <= amount <= 30:
            return None
        if m.group(3) in ("noon", "midnight") and period is not None:
            return None
        hour = _apply_period(named, period) if m.group(3) not in ("noon", "midnight") else named
        offset = amount if m.group(2) in ("past", "after") else -amount
        minute = 0
    else:
        clock = _clock(s)
        if clock is None:
            return None
        hour, minute = _apply_period(clock[0], period), clock[1]
        offset = 0
    if hour is None:
        return None
    total = (hour * 60 + minute + offset) % (24 * 60)
    return f"{total // 60:02d}:{total % 60:02d}"


def _part_of_day(hour: int) -> str | None:
    if 5 <= hour <= 11:
        return "in the morning"
    if 12 <= hour <= 16:
        return "in the afternoon"
    if 17 <= hour <= 22:
        return "in the evening"
    return None


def _minute_words(minute: int) -> str:
    return f"oh {_UNITS[minute]}" if minute < 10 else number_words(minute)


def _sample_time(rng: random.Random) -> tuple[int, int]:
    hour = rng.choices([rng.randint(6, 22), rng.randint(0, 23)], weights=[5, 1])[0]
    minute = rng.choices([0, 30, 15, 45, rng.choice([5, 10, 20, 25, 35, 40, 50, 55])], weights=[6, 4, 2, 2, 1])[0]
    return hour, minute


def _time_groups(hour: int, minute: int, rng: random.Random | None) -> list[tuple[float, list[str]]]:
    """Ways to say ``hour:minute``, in weighted groups; with ``rng`` one drawn spelling of am/pm
    and of the optional "ten past", without it every one (for :func:`surface_forms`)."""
    h12 = hour % 12 or 12
    word = number_words(h12)
    mer = "am" if hour < 12 else "pm"
    mer_forms = [mer, mer, mer.upper(), f"{mer[0]}.m."]
    part = _part_of_day(hour)
    nxt = (hour + 1) % 24
    nxt_word = number_words(nxt % 12 or 12)
    nxt_part = _part_of_day(nxt)

    groups: list[tuple[float, list[str]]] = [(2, [f"{hour:02d}:{minute:02d}", f"{hour}:{minute:02d}"])]
    clock = f"{h12}" if minute == 0 else f"{h12}:{minute:02d}"
    spoken = word if minute == 0 else f"{word} {_minute_words(minute)}"
    mers = [rng.choice(mer_forms)] if rng is not None else list(dict.fromkeys(mer_forms))
    groups.append((5, [f for m_ in mers for f in (f"{clock} {m_}", f"{clock}{m_}", f"{spoken} {m_}")]))
    if part:
        phrases = [f"{clock} {part}", f"{spoken} {part}"]
        if minute == 0:
            phrases.append(f"{word} o'clock {part}")
        if minute in (15, 30) or (minute in (5, 10, 20, 25) and (rng is None or rng.random() < 0.5)):
            amount = {15: "quarter", 30: "half"}.get(minute, number_words(minute))
            phrases.append(f"{amount} past {word} {part}")
        groups.append((3, phrases))
    if minute in (40, 45, 50, 55):
        amount = "quarter" if minute == 45 else number_words(60 - minute)
        if nxt == 12:
            groups.append((1, [f"{amount} to noon"]))
        elif nxt == 0:
            groups.append((1, [f"{amount} to midnight"]))
        elif nxt_part:
            groups.append((2, [f"{amount} to {nxt_word} {nxt_part}"]))
        if 6 <= nxt <= 12:
            groups.append((1, [f"{amount} to {nxt_word}"]))
    if 20 <= hour <= 23:
        groups.append((1, [f"{clock} at night", f"{spoken} at night"]))
    if 1 <= hour <= 12:
        # Without am/pm a clock time reads literally, so only morning hours and noon say so.
        bare = [f"{spoken}"] if minute else [f"{word} o'clock"]
        if minute == 30:
            bare.append(f"half past {word}")
        if minute == 15:
            bare.append(f"quarter past {word}")
        groups.append((1, bare))
    if (hour, minute) == (12, 0):
        groups.append((4, ["noon", "midday", "12 noon"]))
    if (hour, minute) == (0, 0):
        groups.append((4, ["midnight"]))
    return groups


# ---------------------------------------------------------------- saying one value
# One generator of phrasings per type (the ``_*_groups`` above); drawing a value and saying
# it (``sample_surface``), saying a given value (``say``) and listing every way to say it
# (``surface_forms``) all read it.


def _groups(
    kind: BuiltinType, value: str, today: datetime.date, rng: random.Random | None
) -> list[tuple[float, list[str]]]:
    try:
        if kind is BuiltinType.DATE:
            return _date_groups(datetime.date.fromisoformat(value), today, rng)
        if kind is BuiltinType.TIME:
            hh, mm = value.split(":")
            return _time_groups(int(hh), int(mm), rng)
        return _number_groups(int(value), rng)
    except ValueError:
        return []


# ---------------------------------------------------------------- public API


def _clean(text: str) -> str:
    s = " ".join(text.strip().lower().split())
    return s.rstrip("!?").strip()


def normalize(builtin: BuiltinType | str, text: str, *, today: datetime.date) -> str | None:
    """The canonical value of ``text`` as a ``builtin`` slot value, or None if it is not one.

    Case and surrounding whitespace do not matter. DATE values are resolved against ``today``.
    """
    kind = BuiltinType(builtin)
    s = _clean(text)
    if not s:
        return None
    if kind is BuiltinType.NUMBER:
        return _normalize_number(s.rstrip("."))
    if kind is BuiltinType.TIME:
        return _parse_time(s)
    d = _parse_date(s.rstrip("."), today)
    return None if d is None else d.isoformat()


def sample_surface(builtin: BuiltinType | str, rng: random.Random, *, today: datetime.date) -> tuple[str, str]:
    """A random realistic way to say a ``builtin`` value: ``(surface text, canonical value)``.

    ``normalize(builtin, text, today=today)`` gives back the canonical value.
    """
    kind = BuiltinType(builtin)
    if kind is BuiltinType.DATE:
        value = _sample_date(rng, today).isoformat()
    elif kind is BuiltinType.TIME:
        value = "{:02d}:{:02d}".format(*_sample_time(rng))
    else:
        value = str(_sample_number(rng))
    return say(kind, value, rng, today=today), value


def say(builtin: BuiltinType | str, value: str, rng: random.Random, *, today: datetime.date) -> str:
    """One realistic way to say the canonical ``builtin`` value (weighted like real users), always
    one that :func:`normalize` reads back to ``value``; ``value`` itself when no other is."""
    kind = BuiltinType(builtin)
    groups = [(w, fs) for w, g in _groups(kind, value, today, rng) if (fs := _reads_back(kind, g, value, today))]
    if not groups:
        return value
    forms = rng.choices([g for _, g in groups], weights=[w for w, _ in groups])[0]
    return rng.choice(forms)


def surface_forms(builtin: BuiltinType | str, value: str, *, today: datetime.date) -> tuple[str, ...]:
    """Every way :func:`say` may say the canonical ``builtin`` value, each once, in a fixed
    order; empty when ``value`` is not a canonical value of the type."""
    kind = BuiltinType(builtin)
    forms = (f for _, g in _groups(kind, value, today, None) for f in _reads_back(kind, g, value, today))
    return tuple(dict.fromkeys(forms))


def _reads_back(kind: BuiltinType, forms: list[str], value: str, today: datetime.date) -> list[str]:
    return [f for f in forms if _normalized(kind, f, today) == value]


@functools.lru_cache(maxsize=1 << 16)
def _normalized(kind: BuiltinType, text: str, today: datetime.date) -> str | None:
    # The simulator says the same few thousand forms over and over: read each once.
    return normalize(kind, text, today=today)
