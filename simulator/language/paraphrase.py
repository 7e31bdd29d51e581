"""Paraphrasers: varying the plain text of a user turn without touching a mention.

:class:`RuleParaphraser` applies rules, each with its probability: fillers and
greetings, politeness, hedges, contractions or expansions, slang, reordering of "from
X to Y", dropped final punctuation and a lowercase start. :class:`ChainParaphraser`
applies paraphrasers in turn; :class:`NoParaphraser` leaves the wording as it is.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from skillspec import UserAct

from ..protocols import Paraphraser
from ..text import Mention, Segment
from .bank import _push
from .grammar import _lower_first
from .templates import _AFFIRM_WORDS, _DENY_WORDS


def _merged(segments: Sequence[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in segments:
        if isinstance(s, str):
            if s:
                _push(out, s)
        else:
            out.append(s)
    return out


def _replace_word(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new`` where it is a whole word (sequence)."""
    i = text.find(old)
    if i < 0:
        return text
    out: list[str] = []
    start, n = 0, len(old)
    while i >= 0:
        j = i + n
        if (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "'")) and (
            j == len(text) or not (text[j].isalnum() or text[j] == "'")
        ):
            out.append(text[start:i])
            out.append(new)
            start = j
            i = text.find(old, j)
        else:
            i = text.find(old, i + 1)
    out.append(text[start:])
    return "".join(out)


_CONTRACTIONS: tuple[tuple[str, str], ...] = (
    ("I would", "I'd"),
    ("I am", "I'm"),
    ("I will", "I'll"),
    ("do not", "don't"),
    ("Do not", "Don't"),
    ("does not", "doesn't"),
    ("is not", "isn't"),
    ("will not", "won't"),
    ("cannot", "can't"),
    ("it is", "it's"),
    ("It is", "It's"),
    ("that is", "that's"),
    ("That is", "That's"),
    ("what is", "what's"),
    ("What is", "What's"),
    ("there is", "there's"),
    ("There is", "There's"),
    ("we would", "we'd"),
    ("We would", "We'd"),
    ("we will", "we'll"),
    ("We will", "We'll"),
    ("let us", "let's"),
    ("Let us", "Let's"),
)
_EXPANSIONS = tuple((b, a) for a, b in _CONTRACTIONS)
_SLANG: tuple[tuple[str, str], ...] = (("want to", "wanna"), ("going to", "gonna"), ("Want to", "Wanna"))
_IMPERATIVES = frozenset(
    {
        "find",
        "book",
        "show",
        "search",
        "get",
        "reserve",
        "order",
        "send",
        "check",
        "give",
        "tell",
        "make",
        "change",
        "look",
        "help",
        "fly",
        "cancel",
        "add",
        "put",
        "switch",
        "deliver",
    }
)
_FILLERS = ("Um, ", "Uh, ", "So, ", "Well, ", "Hmm, ", "Okay, ")
_GREETINGS = ("Hi, ", "Hello, ", "Hey, ")
_HEDGES = ("I think ", "Maybe ", "I guess ")
_INTERJECTIONS = frozenset({"um", "uh", "hmm", "so", "well", "okay", "oh", "actually", "sorry", "hi", "hello", "hey"})


def _map_literals(segments: list[Segment], table: Sequence[tuple[str, str]]) -> list[Segment]:
    out: list[Segment] = []
    for s in segments:
        if isinstance(s, str):
            for old, new in table:
                if old in s:
                    s = _replace_word(s, old, new)
        out.append(s)
    return out


def _prefix(segments: list[Segment], prefix: str) -> list[Segment]:
    first = segments[0]
    if isinstance(first, str):
        return [prefix + _lower_first(first), *segments[1:]]
    return [prefix, *segments]


def _ends_question(segments: Sequence[Segment]) -> bool:
    last = segments[-1]
    return isinstance(last, str) and last.rstrip().endswith("?")


def _swap_route(segments: list[Segment]) -> list[Segment]:
    """``from {a} to {b}`` <-> ``to {b} from {a}``, only where both are that simple."""
    for i in range(len(segments) - 3):
        head, a, mid, b = segments[i : i + 4]
        if not (isinstance(head, str) and isinstance(a, Mention) and isinstance(b, Mention)):
            continue
        tail = segments[i + 4] if i + 4 < len(segments) else None
        if isinstance(tail, str) and tail[:1].isalnum():
            continue
        for first, second in ((" to ", " from "), (" from ", " to ")):
            word = second.lstrip()
            said = head[-len(word) :]
            if mid == first and said.lower() == word and (len(head) == len(word) or not head[-len(word) - 1].isalnum()):
                replacement = first.lstrip()
                if said[0].isupper():
                    replacement = replacement.capitalize()
                return [*segments[:i], head[: -len(word)] + replacement, b, second, a, *segments[i + 4 :]]
    return segments


@dataclass(frozen=True)
class RuleParaphraser:
    """Varies the plain text of a user turn by rules, each applied with its probability.

    Never changes a mention; ``reorder`` may swap two mentions in "from X to Y".
    """

    filler: float = 0.08
    politeness: float = 0.12
    hedge: float = 0.06
    contraction: float = 0.3
    slang: float = 0.03
    reorder: float = 0.2
    drop_punctuation: float = 0.25
    lowercase: float = 0.15

    def paraphrase(self, segments: Sequence[Segment], acts: Sequence[UserAct], rng: random.Random) -> list[Segment]:
        segs = _merged(segments)
        if not segs:
            return segs
        r = rng.random
        if r() < self.reorder:
            segs = _swap_route(segs)
        if r() < self.contraction:
            segs = _map_literals(segs, _CONTRACTIONS if r() < 0.6 else _EXPANSIONS)
        if r() < self.slang:
            segs = _map_literals(segs, _SLANG)
        informative = UserAct.INVOKE in acts or UserAct.INFORM in acts or UserAct.CHANGE in acts
        if informative and r() < self.politeness:
            segs = self._polite(segs, rng)
        first = segs[0]
        word = first.split(" ", 1)[0].lower().strip(",.!") if isinstance(first, str) else ""
        opener = word in _AFFIRM_WORDS or word in _DENY_WORDS or word in _INTERJECTIONS
        hedged = acts[0] in (UserAct.INFORM, UserAct.CHANGE) if acts else False
        if hedged and r() < self.hedge and not opener and not _ends_question(segs):
            segs = _prefix(segs, _HEDGES[rng.randrange(len(_HEDGES))])
            opener = True
        if r() < self.filler and word not in _INTERJECTIONS:
            fillers = _GREETINGS + _FILLERS if acts and acts[0] is UserAct.INVOKE else _FILLERS
            segs = _prefix(segs, fillers[rng.randrange(len(fillers))])
        if r() < self.drop_punctuation:
            last = segs[-1]
            if isinstance(last, str):
                stripped = last.rstrip(".!?")
                segs = [*segs[:-1], stripped] if stripped else segs[:-1]
        if r() < self.lowercase:
            first = segs[0]
            if isinstance(first, str):
                segs = [_lower_first(first), *segs[1:]]
        return segs

    @staticmethod
    def _polite(segs: list[Segment], rng: random.Random) -> list[Segment]:
        if any(isinstance(s, str) and "please" in s.lower() for s in segs):
            return segs
        first = segs[0]
        word = first.split(" ", 1)[0].lower().strip(",.!") if isinstance(first, str) else ""
        choice = rng.randrange(4) if word in _IMPERATIVES else rng.randrange(2)
        if choice >= 2:  # "Please find me..." / "Could you find me...?"
            if choice == 2:
                return _prefix(segs, "Please ")
            segs = _prefix(segs, "Could you " if rng.random() < 0.5 else "Can you ")
            last = segs[-1]
            if isinstance(last, str):
                return [*segs[:-1], last.rstrip(".!") + ("" if last.endswith("?") else "?")]
            return [*segs, "?"]
        suffix = ", please" if choice == 0 else ", thanks"
        last = segs[-1]
        if isinstance(last, str):
            core = last.rstrip(".!?")
            return [*segs[:-1], core + suffix + last[len(core) :]]
        return [*segs, suffix]


class NoParaphraser:
    """Leaves the wording as it is."""

    def paraphrase(self, segments: Sequence[Segment], acts: Sequence[UserAct], rng: random.Random) -> list[Segment]:
        return list(segments)


class ChainParaphraser:
    """Applies paraphrasers one after the other."""

    def __init__(self, *paraphrasers: Paraphraser) -> None:
        self.paraphrasers = paraphrasers

    def paraphrase(self, segments: Sequence[Segment], acts: Sequence[UserAct], rng: random.Random) -> list[Segment]:
        out = list(segments)
        for p in self.paraphrasers:
            out = p.paraphrase(out, acts, rng)
        return out
