"""Learning utterance templates and reactions from the skill's sample dialogues.

``_SampleLearner`` holds the :class:`~simulator.language.bank.UtteranceBank` methods
that read sample dialogues: delexicalising a user turn into a template
(``_delexicalise``), inferring the act and API it performs from the system turns
around it (``_infer_act``, see the bank's docstring for the rules), and collecting the
bare reactions sample users give to results and to a success (``_sample_reactions``).
The bank inherits them; it sets ``_response_templates`` itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from skillspec import ActionKind, DialogAct, ResponseTemplate, SampleDialogue, SystemTurn, UserAct, UserTurn
from skillspec.models import Action

from ..protocols import Outcome
from .templates import _ANAPHORIC_WORDS, Hole, Part, Template, _strip_parts, _words

_RESULT_ACTS = frozenset({DialogAct.OFFER, DialogAct.INFORM})
# System acts that show the user has started on an API.
_ENGAGING = frozenset({DialogAct.REQUEST_ARGS, DialogAct.CONFIRM_ARGS, DialogAct.CONFIRM_API})


class _SampleLearner:
    """The sample-dialogue part of :class:`~simulator.language.bank.UtteranceBank`."""

    _response_templates: dict[str, ResponseTemplate]

    def _action_api(self, action: Action) -> str | None:
        if action.kind is ActionKind.API:
            return action.name
        t = self._response_templates.get(action.name)
        return t.api if t is not None else None

    def _action_act(self, action: Action) -> DialogAct | None:
        if action.kind is ActionKind.API:
            return None
        t = self._response_templates.get(action.name)
        return t.act if t is not None else None

    def _sample_templates(self, d: int, dialogue: SampleDialogue) -> Iterator[Template]:
        turns = dialogue.turns
        bound: dict[str, set[str]] = {}
        call_api: dict[str, str] = {}
        first_api: str | None = None
        for turn in turns:
            if isinstance(turn, SystemTurn):
                for action in turn.actions:
                    for arg, entity in action.arguments.items():
                        bound.setdefault(entity, set()).add(arg)
                    if action.kind is ActionKind.API:
                        first_api = first_api or action.name
                        if action.id:
                            call_api[action.id] = action.name
        if first_api is None:
            first_api = next(
                (
                    api
                    for turn in turns
                    if isinstance(turn, SystemTurn)
                    for action in turn.actions
                    if (api := self._action_api(action))
                ),
                None,
            )
        prior: list[Action] = []
        first_user = True
        for i, turn in enumerate(turns):
            if isinstance(turn, SystemTurn):
                prior.extend(turn.actions)
                continue
            nxt = turns[i + 1] if i + 1 < len(turns) else None
            prev = turns[i - 1] if i > 0 else None
            next_actions = list(nxt.actions) if isinstance(nxt, SystemTurn) else []
            prev_actions = list(prev.actions) if isinstance(prev, SystemTurn) else []
            made = self._delexicalise(turn, bound)
            if made is not None:
                act, api = self._infer_act(
                    bool(turn.spans), first_user, first_api, made[1], prior, prev_actions, next_actions, call_api
                )
                if act is not None:
                    parts, slots = made
                    anaphoric = False
                    if act is UserAct.INVOKE and api is not None:
                        mentioned = {n for n, _ in slots}
                        anaphoric = not _ANAPHORIC_WORDS.isdisjoint(_words(parts)) or any(
                            "." in entity and call_api.get(entity.split(".")[0]) != api and arg not in mentioned
                            for a in next_actions
                            if self._action_api(a) == api
                            for arg, entity in a.arguments.items()
                        )
                    yield Template(act, api, parts, slots, f"sample_dialogues[{d}].turns[{i}]", anaphoric)
            first_user = False

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
            shown = {self._action_act(a) for a in before.actions}
            then = {self._action_act(a) for a in after.actions}
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

    def _infer_act(
        self,
        has_spans: bool,
        first_user: bool,
        first_api: str | None,
        slots: Sequence[tuple[str, str]],
        prior: Sequence[Action],
        prev_actions: Sequence[Action],
        next_actions: Sequence[Action],
        call_api: Mapping[str, str],
    ) -> tuple[UserAct | None, str | None]:
        if first_user:
            return (UserAct.INVOKE, first_api) if first_api else (None, None)
        engaged = {a.name for a in prior if a.kind is ActionKind.API} | {
            api for a in prior if self._action_act(a) in _ENGAGING and (api := self._action_api(a))
        }
        new_api = next(
            (
                api
                for a in next_actions
                if (a.kind is ActionKind.API or self._action_act(a) in _ENGAGING)
                and (api := self._action_api(a))
                and api not in engaged
            ),
            None,
        )
        if new_api is None:
            # "Book that one": the API is now bound to another API's result than it was before.
            before: dict[tuple[str, str], set[str]] = {}
            for a in prior:
                api = self._action_api(a)
                if api is not None and (a.kind is ActionKind.API or self._action_act(a) in _ENGAGING):
                    for arg, entity in a.arguments.items():
                        before.setdefault((api, arg), set()).add(entity)
            for a in next_actions:
                api = self._action_api(a)
                if api is None or not (a.kind is ActionKind.API or self._action_act(a) in _ENGAGING):
                    continue
                for arg, entity in a.arguments.items():
                    earlier_entities = before.get((api, arg))
                    if (
                        "." in entity
                        and call_api.get(entity.split(".")[0]) not in (None, api)
                        and earlier_entities is not None
                        and entity not in earlier_entities
                    ):
                        new_api = api
                        break
                if new_api:
                    break
        if has_spans:
            earlier: dict[str, set[str]] = {}
            for a in prior:
                for arg, entity in a.arguments.items():
                    earlier.setdefault(arg, set()).add(entity)
            if slots and all(name in earlier for name, _ in slots):
                return UserAct.CHANGE, None
            if new_api is not None:
                return UserAct.INVOKE, new_api
            return UserAct.INFORM, None
        if next_actions and all(self._action_act(a) is DialogAct.GOODBYE for a in next_actions):
            return UserAct.GOODBYE, None
        last_call: dict[str, dict[str, str]] = {a.name: dict(a.arguments) for a in prior if a.kind is ActionKind.API}
        for a in next_actions:
            if a.kind is ActionKind.API and last_call.get(a.name) == dict(a.arguments):
                return UserAct.REQUEST_MORE, None
        if new_api is not None:
            return UserAct.INVOKE, new_api
        asked = [
            (act, api)
            for a in prev_actions
            if (act := self._action_act(a)) in (DialogAct.CONFIRM_ARGS, DialogAct.CONFIRM_API, DialogAct.OFFER_API)
            and (api := self._action_api(a))
        ]
        if asked:
            act, api = asked[-1]
            if any(a.kind is ActionKind.API and a.name == api for a in next_actions):
                return UserAct.AFFIRM, None
            if act is DialogAct.OFFER_API and any(
                self._action_api(a) == api and self._action_act(a) in (DialogAct.REQUEST_ARGS, DialogAct.CONFIRM_API)
                for a in next_actions
            ):
                return UserAct.AFFIRM, None
            if not any(self._action_api(a) == api for a in next_actions):
                return UserAct.DENY, None
        return None, None
