"""Learning utterance templates and reactions from the skill's sample dialogues.

``_SampleLearner`` holds the :class:`~simulator.language.bank.UtteranceBank` methods
that read sample dialogues: delexicalising a user turn into a template
(``_delexicalise``), filing it under the act and API it performs (the simulator's one
act-inference rule set, :class:`simulator.acts.UserActs`), and collecting the
bare reactions sample users give to results and to a success (``_sample_reactions``).
The bank inherits them; it sets ``_user_acts`` (the skill's :class:`~simulator.acts.UserActs`) itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from skillspec import ActionKind, DialogAct, SampleDialogue, SystemTurn, UserAct, UserTurn
from skillspec.context import base_id, split_result_id

from ..acts import UserActs
from ..protocols import Outcome
from .templates import _ANAPHORIC_WORDS, Hole, Part, Template, _strip_parts, _words

_RESULT_ACTS = frozenset({DialogAct.OFFER, DialogAct.INFORM})


class _SampleLearner:
    """The sample-dialogue part of :class:`~simulator.language.bank.UtteranceBank`."""

    _user_acts: UserActs

    def _sample_templates(self, d: int, dialogue: SampleDialogue) -> Iterator[Template]:
        turns = dialogue.turns
        bound: dict[str, set[str]] = {}
        call_api: dict[str, str] = {}
        for turn in turns:
            if isinstance(turn, SystemTurn):
                for action in turn.actions:
                    for arg, entity in action.arguments.items():
                        bound.setdefault(entity, set()).add(arg)
                    if action.kind is ActionKind.API and action.id:
                        call_api[action.id] = action.name
        for i, turn in enumerate(turns):
            if isinstance(turn, SystemTurn):
                continue
            nxt = turns[i + 1] if i + 1 < len(turns) else None
            next_actions = list(nxt.actions) if isinstance(nxt, SystemTurn) else []
            made = self._delexicalise(turn, bound)
            if made is not None:
                key = self._user_acts.template_key(dialogue, i)
                if key is not None:
                    act, api = key
                    parts, slots = made
                    anaphoric = False
                    if act is UserAct.INVOKE and api is not None:
                        mentioned = {n for n, _ in slots}
                        anaphoric = not _ANAPHORIC_WORDS.isdisjoint(_words(parts)) or any(
                            split_result_id(entity) is not None
                            and call_api.get(base_id(entity)) != api
                            and arg not in mentioned
                            for a in next_actions
                            if self._user_acts.api_of(a) == api
                            for arg, entity in a.arguments.items()
                        )
                    yield Template(act, api, parts, slots, f"sample_dialogues[{d}].turns[{i}]", anaphoric)

    def _sample_reactions(self, dialogue: SampleDialogue) -> Iterator[tuple[Outcome, str]]:
        """``("results", "Sounds good.")``: a user turn without values between results and the
        offer of the next API; ``("success", "Thanks!")``: between a success and "anything else?"."""
        turns = dialogue.turns
        for i, turn in enumerate(turns[1:-1], 1):
            before, after = turns[i - 1], turns[i + 1]
            if not isinstance(turn, UserTurn) or turn.spans:
                continue
            if not (isinstance(before, SystemTurn) and isinstance(after, SystemTurn)):
                continue
            shown = {self._user_acts.act_of(a) for a in before.actions}
            then = {self._user_acts.act_of(a) for a in after.actions}
            if then == {DialogAct.OFFER_API} and DialogAct.OFFER_API not in shown and shown & _RESULT_ACTS:
                yield Outcome.RESULTS, turn.text
            elif then == {DialogAct.REQUEST_MORE} and shown & {DialogAct.NOTIFY_SUCCESS, DialogAct.INFORM}:
                yield Outcome.SUCCESS, turn.text

    def _delexicalise(
        self, turn: UserTurn, bound: Mapping[str, set[str]]
    ) -> tuple[tuple[Part, ...], tuple[tuple[str, str], ...]] | None:
        text = turn.text
        parts: list[Part] = []
        slots: list[tuple[str, str]] = []
        pos = 0
        for span in sorted(turn.spans, key=lambda s: s.start):
            if span.start < pos or span.end <= span.start or text[span.start : span.end] != span.text:
                return None  # overlapping or misplaced spans: not a trustworthy template
            args = bound.get(span.id, set())
            name = next(iter(args)) if len(args) == 1 else span.slot_type
            taken = {n for n, _ in slots}
            if name in taken:
                name = span.slot_type
            base, k = name, 2
            while name in taken:
                name, k = f"{base}_{k}", k + 1
            parts.append(text[pos : span.start])
            parts.append(Hole(name))
            slots.append((name, span.slot_type))
            pos = span.end
        parts.append(text[pos:])
        stripped = _strip_parts(parts)
        return (stripped, tuple(slots)) if stripped else None
