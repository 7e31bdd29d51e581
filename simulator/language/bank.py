"""The utterance bank: a skill's user-act templates, and the renderer of user-turn plans.

:class:`UtteranceBank` gathers templates from the skill's utterance sets and (through
``_SampleLearner``, in :mod:`.learn`) from its sample dialogues, and renders a
:class:`~simulator.protocols.UserTurnPlan` as segments with each planned value
mentioned exactly once: an exact template when one says the planned values, else a
composition of several (``_map_slots``, recipes of ``_Section``), else built-in
phrases (``_FALLBACKS``, ``_REACTIONS``, carriers) joined with weighted joiners.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from skillspec import BuiltinType, Skill, UserAct

from ..acts import UserActs
from ..protocols import Outcome, UserTurnPlan
from ..text import Mention, Segment, Value
from .grammar import _Article, _article_for, _Echo, _Option, _option, _plural_word, _RenderPart, _takes_on
from .learn import _SampleLearner
from .templates import _ANAPHORIC_WORDS, Hole, Part, Template, _parse_variant, _words


def _map_slots(
    slots: Sequence[tuple[str, str]], mentions: Mapping[str, str], fixed: frozenset[str] = frozenset()
) -> dict[str, str] | None:
    """Placeholder name -> mention name, or None if the placeholders cannot all be mentioned.

    A placeholder maps to the mention of the same name and slot type; one whose name is
    not in ``fixed`` (the skill's argument names) may instead map to the one mention of
    its slot type, when neither side has another of that type.
    """
    mapping: dict[str, str] = {}
    pending: list[tuple[str, str]] = []
    for name, slot_type in slots:
        if mentions.get(name) == slot_type:
            mapping[name] = name
        elif name in fixed:
            return None
        else:
            pending.append((name, slot_type))
    if pending:
        used = set(mapping.values())
        for name, slot_type in pending:
            if sum(1 for _, t in pending if t == slot_type) != 1:
                return None
            candidates = [m for m, t in mentions.items() if t == slot_type and m not in used]
            if len(candidates) != 1:
                return None
            mapping[name] = candidates[0]
            used.add(candidates[0])
    return mapping


# Built-in phrases for skills that have no utterance set for an act.
_FALLBACKS: dict[UserAct, tuple[str, ...]] = {
    UserAct.AFFIRM: ("Yes", "Yes please", "Sure", "That's right", "Sounds good", "Yeah, go ahead"),
    UserAct.DENY: ("No", "No, that's not right", "Not quite", "Nope"),
    UserAct.REQUEST_MORE: ("Another one?", "Anything else?", "Do you have any other options?", "What else is there?"),
    UserAct.GOODBYE: ("Thanks, bye", "That's all, thanks", "Goodbye", "No, that's it. Bye!"),
}
# Bare reactions when the samples show none (see UserTurnPlan.reaction).
_REACTIONS: dict[Outcome, tuple[str, ...]] = {
    Outcome.RESULTS: (
        "Sounds good.",
        "That sounds nice.",
        "Great.",
        "Okay, that works for me.",
        "That one sounds good.",
    ),
    Outcome.SUCCESS: ("Thank you.", "Thanks!", "Great, thanks.", "Thanks a lot.", "Perfect, thank you."),
}
_MENTION_ACTS = frozenset({UserAct.INVOKE, UserAct.INFORM, UserAct.CHANGE})

# (joiner, capitalise what follows), with weights: between the parts of one act, and between acts.
_REST_JOINERS: tuple[tuple[str, bool], ...] = ((", ", False), (", and ", False), (". ", True), (" — ", False))
_REST_CUM = (4.0, 6.0, 8.0, 9.0)
_ACT_JOINERS: tuple[tuple[str, bool], ...] = ((", ", False), (". ", True), (" — ", False))
_ACT_CUM = (5.0, 8.0, 9.0)


def _api_words(api: str) -> str:
    words: list[str] = []
    current = ""
    for c in api:
        if c == "_" or (c.isupper() and current and not current[-1].isupper()):
            if current:
                words.append(current)
            current = "" if c == "_" else c
        else:
            current += c
    if current:
        words.append(current)
    return " ".join(w.lower() for w in words) or api


@dataclass(frozen=True, slots=True)
class _Section:
    """What one act of a turn may say: alternatives, each a list of parts, each a choice of options."""

    act: UserAct
    alternatives: tuple[tuple[tuple[_Option, ...], ...], ...]
    cum_weights: tuple[float, ...]


_RecipeKey = tuple[tuple[UserAct, ...], str | None, bool, frozenset[tuple[str, str]]]


def _pick(cum: Sequence[float], rng: random.Random) -> int:
    x = rng.random() * cum[-1]
    for i, c in enumerate(cum):
        if x < c:
            return i
    return len(cum) - 1


def _push(out: list[Segment], s: str) -> None:
    if not s:
        return
    if out:
        last = out[-1]
        if isinstance(last, str):
            out[-1] = last + s
            return
    out.append(s)


class UtteranceBank(_SampleLearner):
    """Templates for every user act of a skill, and the renderer of user-turn plans.

    Templates come from the skill's utterance sets and from the user turns of its
    sample dialogues (test conversations excluded: they must stay unseen). A sample
    user turn is delexicalised: each span becomes a placeholder named after the one
    argument (of an API or a response template) its entity is bound to in the
    dialogue, or after its slot type when it is bound to none or to several. The act
    (and, for ``invoke``, the API) it is a template of comes from the simulator's one
    act-inference rule set: :meth:`simulator.acts.UserActs.template_key` projects the
    acts that also become a converted sample's gold acts.

    An ``invoke`` template is *anaphoric* (for plans with ``anaphora``) when it says
    "it", "that", "this", "them", "those" or "these", or when, in its dialogue, the
    invoked API gets an argument from an earlier result.
    """

    def __init__(self, skill: Skill, *, include_samples: bool = True) -> None:
        self.skill = skill
        self._user_acts = UserActs(skill)
        self._builtin_types = {s.name: s.builtin for s in reversed(skill.slot_types)}
        self._argument_names = frozenset(arg.name for api in skill.apis for arg in api.arguments)
        seen: set[tuple[UserAct, str | None, tuple[Part, ...]]] = set()
        templates: list[Template] = []
        candidates = list(self._set_templates())
        if include_samples:
            for d, dialogue in enumerate(skill.sample_dialogues):
                if not dialogue.test:
                    candidates.extend(self._sample_templates(d, dialogue))
        for t in candidates:
            key = (t.act, t.api, t.parts)
            if key not in seen:
                seen.add(key)
                templates.append(t)
        self.templates: tuple[Template, ...] = tuple(templates)
        # Bare reactions the sample users give, by what they react to (see UserTurnPlan.reaction).
        self.reactions: dict[Outcome, list[str]] = {}
        if include_samples:
            for dialogue in skill.sample_dialogues:
                if not dialogue.test:
                    for kind, text in self._sample_reactions(dialogue):
                        if text not in self.reactions.setdefault(kind, []):
                            self.reactions[kind].append(text)
        self._pools: dict[tuple[UserAct, str | None], list[Template]] = {}
        for t in templates:
            self._pools.setdefault((t.act, t.api), []).append(t)
        # Singular -> plural of the nouns said after numbers ("passengers"), to make them agree.
        self._singulars: dict[str, str] = {}
        for t in templates:
            numbers = {n for n, st in t.slots if self._builtin_types.get(st) is BuiltinType.NUMBER}
            for i, p in enumerate(t.parts[1:], 1):
                before = t.parts[i - 1]
                if isinstance(p, str) and isinstance(before, Hole) and before.name in numbers:
                    word = p[1:].split(" ", 1)[0].rstrip(",.?!") if p.startswith(" ") else ""
                    singular = _plural_word(word) if word.isalpha() else None
                    if singular is not None:
                        self._singulars.setdefault(singular.lower(), word.lower())
        self._recipes: dict[_RecipeKey, list[_Section]] = {}

    # -------------------------------------------------------- template sources

    def _set_templates(self) -> Iterator[Template]:
        for s, uset in enumerate(self.skill.utterance_sets):
            types = {a.name: a.slot_type for a in reversed(uset.arguments)}
            for v, variant in enumerate(uset.variants):
                parts = _parse_variant(variant)
                if parts is None or not parts:
                    continue
                names = [p.name for p in parts if isinstance(p, Hole)]
                # Unknown or repeated placeholders cannot be mentioned exactly once: skip (validation reports them).
                if any(n not in types for n in names) or len(set(names)) != len(names):
                    continue
                anaphoric = uset.act is UserAct.INVOKE and not _ANAPHORIC_WORDS.isdisjoint(_words(parts))
                yield Template(
                    uset.act,
                    uset.api,
                    parts,
                    tuple((n, types[n]) for n in names),
                    f"utterance_sets[{s}].variants[{v}]",
                    anaphoric,
                )

    # -------------------------------------------------------- rendering

    def render(self, plan: UserTurnPlan, rng: random.Random) -> list[Segment]:
        """The segments of a user turn that does ``plan``: each planned value mentioned exactly once.

        Each mention is ``Mention(name, value)`` for ``name, value in plan.mentions.items()``;
        there is no other mention. Raises ValueError for a plan with nothing to say.
        """
        if plan.question is not None:
            return [plan.question.text]
        if plan.reaction is not None and not plan.mentions:
            said = self.reactions.get(plan.reaction) or _REACTIONS[plan.reaction]
            return [said[rng.randrange(len(said))]]
        mentions = plan.mentions
        key: _RecipeKey = (
            tuple(plan.acts),
            plan.api,
            plan.anaphora,
            frozenset([(n, v.slot_type) for n, v in mentions.items()]),
        )
        recipe = self._recipes.get(key)
        if recipe is None:
            recipe = self._recipes[key] = self._recipe(*key)
        chosen: list[tuple[UserAct, list[_Option]]] = []
        for section in recipe:
            alternatives = section.alternatives
            alt = alternatives[0] if len(alternatives) == 1 else alternatives[_pick(section.cum_weights, rng)]
            options = [p[0] if len(p) == 1 else p[rng.randrange(len(p))] for p in alt]
            if len(options) > 2:
                rest = options[1:]
                rng.shuffle(rest)
                options[1:] = rest
            chosen.append((section.act, options))
        out: list[Segment] = []
        previous: _Option | None = None
        for s, (act, options) in enumerate(chosen):
            # "No" before "No, it's 4 passengers" says it twice.
            if (
                act in (UserAct.AFFIRM, UserAct.DENY)
                and s + 1 < len(chosen)
                and chosen[s + 1][1]
                and chosen[s + 1][1][0].opens is act
            ):
                continue
            for k, option in enumerate(options):
                if previous is None:
                    self._emit(out, option.upper, mentions, True)
                else:
                    if previous.stop:
                        joiner, cap = " ", True
                    elif k == 0:
                        joiner, cap = _ACT_JOINERS[_pick(_ACT_CUM, rng)]
                    else:
                        joiner, cap = _REST_JOINERS[_pick(_REST_CUM, rng)]
                    if cap and option.bare and not previous.stop:
                        joiner, cap = ", ", False
                    _push(out, joiner)
                    self._emit(out, option.upper if cap else option.lower, mentions, cap)
                previous = option
        return out

    @staticmethod
    def _emit(out: list[Segment], parts: tuple[_RenderPart, ...], mentions: Mapping[str, Value], cap: bool) -> None:
        said = ""
        for i, p in enumerate(parts):
            if isinstance(p, str):
                _push(out, p)
            elif isinstance(p, Hole):
                value = mentions[p.name]
                said = value.text
                if p.on and _takes_on(said):
                    _push(out, "On " if cap and i == 0 else "on ")
                out.append(Mention(p.name, value))
            elif isinstance(p, _Echo):
                n = len(p.word)
                if said[-n:].lower() == p.word and (len(said) == n or said[-n - 1] == " "):
                    _push(out, p.text[n + 1 :])
                else:
                    _push(out, p.text)
            elif isinstance(p, _Article):
                after = parts[i + 1]
                article = _article_for(mentions[after.name].text) if isinstance(after, Hole) else "a"
                _push(out, p.head + (article.capitalize() if p.capital else article) + " ")
            else:
                _push(out, p.singular if mentions[p.number].value == "1" else p.plural)

    def _recipe(
        self, acts: tuple[UserAct, ...], api: str | None, anaphora: bool, mention_items: frozenset[tuple[str, str]]
    ) -> list[_Section]:
        mentions = dict(sorted(mention_items))
        sections: list[_Section] = []
        carrier_done = False
        for act in acts:
            act = UserAct(act)
            if act in _MENTION_ACTS:
                given = {} if carrier_done else mentions
                carrier_done = True
                if not given and act is not UserAct.INVOKE:
                    continue
                sections.append(self._mention_section(act, api, anaphora, given))
            else:
                options = tuple(self._option(t, {}) for t in self._pool(act, api) if not t.slots)
                if not options:
                    options = tuple(_option((text,), {}, None) for text in _FALLBACKS[act])
                sections.append(_Section(act, ((options,),), (1.0,)))
        if not carrier_done and mentions:
            sections.append(self._mention_section(UserAct.INFORM, api, False, mentions))
        if not sections:
            raise ValueError(f"nothing to say for acts {[str(a) for a in acts]} without mentions")
        return sections

    def _option(self, template: Template, mapping: Mapping[str, str]) -> _Option:
        types = {n: self._builtin_types.get(t) for n, t in template.slots}
        return _option(template.parts, mapping, template, types, self._singulars)

    def _pool(self, act: UserAct, api: str | None) -> list[Template]:
        if act is UserAct.INVOKE:
            return self._pools.get((act, api), []) if api is not None else []
        pool = list(self._pools.get((act, None), []))
        if api is not None:
            pool += self._pools.get((act, api), [])
        return pool

    def _mention_section(self, act: UserAct, api: str | None, anaphora: bool, mentions: Mapping[str, str]) -> _Section:
        pool = self._pool(act, api)
        if act is UserAct.INVOKE:
            pool = [t for t in pool if t.anaphoric == anaphora]
        exact: list[_Option] = []
        groups: dict[frozenset[str], list[_Option]] = {}
        for t in pool:
            if len(t.slots) > len(mentions):
                continue
            mapping = _map_slots(t.slots, mentions, self._argument_names)
            if mapping is None:
                continue
            option = self._option(t, mapping)
            if len(mapping) == len(mentions):
                exact.append(option)
            elif mapping or act is UserAct.INVOKE:
                groups.setdefault(frozenset(mapping.values()), []).append(option)
        if exact:
            return _Section(act, ((tuple(exact),),), (1.0,))
        alternatives: list[tuple[tuple[_Option, ...], ...]] = []
        weights: list[float] = []
        # Larger first parts read better; the few best of them give variety.
        for covered, options in sorted(groups.items(), key=lambda g: -len(g[0]))[:8]:
            rest = {n: t for n, t in mentions.items() if n not in covered}
            alternatives.append((tuple(options), *self._cover(api, rest)))
            weights.append(float((len(covered) + 1) ** 2))
        if not alternatives:
            if act is UserAct.INVOKE:
                primary = self._invoke_fallback(api, anaphora)
                alternatives.append((primary, *self._cover(api, mentions)))
            elif act is UserAct.CHANGE:
                first = next(iter(mentions))
                rest = {n: t for n, t in mentions.items() if n != first}
                alternatives.append((self._carriers(first, mentions[first], change=True), *self._cover(api, rest)))
            else:
                alternatives.append(tuple(self._cover(api, mentions)))
            weights.append(1.0)
        cum: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            cum.append(total)
        return _Section(act, tuple(alternatives), tuple(cum))

    def _cover(self, api: str | None, mentions: Mapping[str, str]) -> list[tuple[_Option, ...]]:
        """Inform parts that together mention exactly ``mentions``: the largest templates first."""
        parts: list[tuple[_Option, ...]] = []
        remaining = dict(mentions)
        pool = [t for t in self._pool(UserAct.INFORM, api) if t.slots]
        while remaining:
            groups: dict[frozenset[str], list[_Option]] = {}
            for t in pool:
                if len(t.slots) > len(remaining):
                    continue
                mapping = _map_slots(t.slots, remaining, self._argument_names)
                if mapping:
                    groups.setdefault(frozenset(mapping.values()), []).append(self._option(t, mapping))
            if not groups:
                for name, slot_type in remaining.items():
                    parts.append(self._carriers(name, slot_type, change=False))
                break
            covered, options = max(groups.items(), key=lambda g: len(g[0]))
            parts.append(tuple(options))
            remaining = {n: t for n, t in remaining.items() if n not in covered}
        return parts

    def _carriers(self, name: str, slot_type: str, *, change: bool) -> tuple[_Option, ...]:
        words = name.replace("_", " ")
        h = Hole(name)
        builtin = self._builtin_types.get(slot_type)
        phrases: list[tuple[Part, ...]]
        if change:
            phrases = [("actually, ", h), ("make it ", h, " instead"), (f"change the {words} to ", h), ("I meant ", h)]
        elif builtin is BuiltinType.DATE:
            phrases = [(Hole(name, on=True),), (h,), (f"the {words} is ", h)]
        elif builtin is BuiltinType.TIME:
            phrases = [("at ", h), ("around ", h), (h,)]
        elif builtin is BuiltinType.NUMBER:
            phrases = [(h,), (f"{words}: ", h)]
        else:
            phrases = [(h,), (h, ", please"), (f"the {words} is ", h)]
        identity = {name: name}
        return tuple(_option(p, identity, None) for p in phrases)

    def _invoke_fallback(self, api: str | None, anaphora: bool) -> tuple[_Option, ...]:
        words = _api_words(api) if api else "get some help"
        if anaphora:
            verb = words.split(" ", 1)[0]
            phrases = [
                f"{verb.capitalize()} it",
                f"{verb.capitalize()} that one",
                "That one works",
                "I'll take that one",
            ]
        else:
            phrases = [f"I'd like to {words}", f"Can you {words}?", f"I want to {words}"]
        return tuple(_option((p,), {}, None) for p in phrases)
