"""What a sample dialogue's user turns do: the simulator's one act-inference rule set.

A sample user turn's acts are not annotated; they are read off the system turns around
it, once, here. The sample converter writes them as the turn's gold ``acts``
(:meth:`UserActs.acts`); the utterance bank files the turn as a template of one act (and
API) by a fixed projection of those same acts (:meth:`UserActs.template_key`).

The acts of user turn ``t`` (``prev`` and ``next``: the system turns around it): a turn
without spans that ``next`` answers with the fallback response is out of scope; the
first user turn invokes; no spans before a goodbye is a goodbye; after a confirmation,
affirm when the confirmed call follows (or the words say yes), else deny; after an offer
of an API, affirm when it is taken up, else deny; no spans before a call repeated with
the same arguments asks for more; an API that ``next`` calls or handles and ``prev`` was
not about is invoked; spans inform, or change a value bound before; failing all that,
yes/no words decide.
"""

from __future__ import annotations

import re

from skillspec import ActionKind, DialogAct, SampleDialogue, Skill, SystemTurn, UserAct, UserTurn
from skillspec.context import base_id, split_result_id
from skillspec.fallback import response_templates
from skillspec.index import by_name
from skillspec.models import Action

_YES = re.compile(
    r"(yes|yeah|yep|yup|sure|ok|okay|correct|right|that's right|sounds good|go ahead|please do|do it|great|perfect"
    r"|absolutely|definitely|of course)\b",
    re.IGNORECASE,
)
_NO = re.compile(r"(no|nope|nah|not|don't|cancel)\b", re.IGNORECASE)
# System acts that handle an API: asking for or confirming its arguments (the user has started on it).
_HANDLING = frozenset({DialogAct.REQUEST_ARGS, DialogAct.CONFIRM_ARGS, DialogAct.CONFIRM_API})


class UserActs:
    """The act-inference rules over one skill's response templates; build once per skill."""

    def __init__(self, skill: Skill) -> None:
        self.templates = by_name(response_templates(skill))

    def template_key(self, d: SampleDialogue, t: int) -> tuple[UserAct, str | None] | None:
        """The one act (and, for ``invoke``, the API) user turn ``t`` is a template of, projected
        from :meth:`acts`; None when no single act says it.

        * ``invoke`` of the API the turn starts (:meth:`invoked_api`) — also for an offer of
          an API taken up ("I'll take it", "Yes, for two"): taking up the offer starts it;
        * else the act that carries the turn's values: ``change``, or ``inform`` when the
          turn has spans (a template may open with "yes"/"no": the renderer merges those);
        * else a lone ``affirm``, ``deny``, ``request_more`` or ``goodbye``.
        """
        acts = self.acts(d, t)
        turn = d.turns[t]
        assert isinstance(turn, UserTurn)
        started = UserAct.INVOKE in acts or (acts[0] is UserAct.AFFIRM and self._offer_taken(d, t))
        if started:
            api = self.invoked_api(d, t)
            return (UserAct.INVOKE, api) if api is not None else None
        if UserAct.CHANGE in acts:
            return UserAct.CHANGE, None
        if turn.spans:
            return (UserAct.INFORM, None) if UserAct.INFORM in acts else None
        if len(acts) == 1 and acts[0] is not UserAct.INFORM:
            return acts[0], None
        return None

    def _offer_taken(self, d: SampleDialogue, t: int) -> bool:
        prev = d.turns[t - 1] if t > 0 and isinstance(d.turns[t - 1], SystemTurn) else None
        nxt = d.turns[t + 1] if t + 1 < len(d.turns) and isinstance(d.turns[t + 1], SystemTurn) else None
        if prev is None or nxt is None:
            return False
        assert isinstance(prev, SystemTurn) and isinstance(nxt, SystemTurn)
        offered = self.response_apis(prev, DialogAct.OFFER_API)
        return bool(offered & (self.about(nxt, _HANDLING) | {a.name for a in nxt.actions if a.kind is ActionKind.API}))

    def invoked_api(self, d: SampleDialogue, t: int) -> str | None:
        """The API user turn ``t`` starts: for the first user turn the dialogue's first call
        (else the first API a system turn is about); later, the first API ``next`` calls or
        handles that no earlier system turn engaged, or one now bound to another call's
        result than before ("book that one"), or else one ``next`` handles that ``prev`` was
        not about."""
        turns = d.turns
        if all(not isinstance(x, UserTurn) for x in turns[:t]):
            actions = [a for x in turns if isinstance(x, SystemTurn) for a in x.actions]
            called = next((a.name for a in actions if a.kind is ActionKind.API), None)
            return called or next((api for a in actions if (api := self.api_of(a))), None)
        prior = [a for x in turns[:t] if isinstance(x, SystemTurn) for a in x.actions]
        nxt = turns[t + 1] if t + 1 < len(turns) else None
        next_actions = list(nxt.actions) if isinstance(nxt, SystemTurn) else []
        call_api = {
            a.id: a.name
            for x in turns
            if isinstance(x, SystemTurn)
            for a in x.actions
            if a.kind is ActionKind.API and a.id
        }
        starts = [a for a in next_actions if a.kind is ActionKind.API or self.act_of(a) in _HANDLING]
        engaged = {a.name for a in prior if a.kind is ActionKind.API} | {
            api for a in prior if self.act_of(a) in _HANDLING and (api := self.api_of(a))
        }
        new_api = next((api for a in starts if (api := self.api_of(a)) and api not in engaged), None)
        if new_api is not None:
            return new_api
        # "Book that one": the API is now bound to another API's result than it was before.
        before: dict[tuple[str, str], set[str]] = {}
        for a in prior:
            api = self.api_of(a)
            if api is not None and (a.kind is ActionKind.API or self.act_of(a) in _HANDLING):
                for arg, entity in a.arguments.items():
                    before.setdefault((api, arg), set()).add(entity)
        for a in starts:
            api = self.api_of(a)
            for arg, entity in a.arguments.items():
                earlier_entities = before.get((api or "", arg))
                if (
                    split_result_id(entity) is not None
                    and call_api.get(base_id(entity)) not in (None, api)
                    and earlier_entities is not None
                    and entity not in earlier_entities
                ):
                    return api
        prev = turns[t - 1] if isinstance(turns[t - 1], SystemTurn) else None
        about_prev = self.about(prev) if isinstance(prev, SystemTurn) else set()
        return next((api for a in starts if (api := self.api_of(a)) and api not in about_prev), None)

    def api_of(self, action: Action) -> str | None:
        """The API an action is about: the one it calls, or its response template's."""
        if action.kind is ActionKind.API:
            return action.name
        tpl = self.templates.get(action.name)
        return tpl.api if tpl is not None else None

    def act_of(self, action: Action) -> DialogAct | None:
        """A response's dialog act (None for an API call or an unknown template)."""
        if action.kind is ActionKind.API:
            return None
        tpl = self.templates.get(action.name)
        return tpl.act if tpl is not None else None

    def about(self, turn: SystemTurn, acts: frozenset[DialogAct] | None = None) -> set[str]:
        """APIs a system turn is about: those it calls and those of its responses (with an act in ``acts``)."""
        out: set[str] = set()
        for action in turn.actions:
            if action.kind is ActionKind.API:
                out.add(action.name)
            elif (
                (tpl := self.templates.get(action.name)) is not None
                and tpl.api is not None
                and (acts is None or tpl.act in acts)
            ):
                out.add(tpl.api)
        return out

    def response_apis(self, turn: SystemTurn, act: DialogAct) -> set[str]:
        return {
            tpl.api
            for action in turn.actions
            if action.kind is ActionKind.RESPONSE
            and (tpl := self.templates.get(action.name)) is not None
            and tpl.act is act
            and tpl.api is not None
        }

    def acts(self, d: SampleDialogue, t: int) -> list[UserAct]:
        """The acts of user turn ``t`` of ``d``, in order (a converted sample's gold ``acts``)."""
        turn = d.turns[t]
        assert isinstance(turn, UserTurn)
        nxt_turn = d.turns[t + 1] if t + 1 < len(d.turns) else None
        if isinstance(nxt_turn, SystemTurn) and not turn.spans and self.response_apis_any(nxt_turn, DialogAct.FALLBACK):
            return [UserAct.OUT_OF_SCOPE]  # the system answered with its fallback: the skill does not handle it
        if t == 0:
            return [UserAct.INVOKE]
        prev = d.turns[t - 1] if isinstance(d.turns[t - 1], SystemTurn) else None
        nxt = d.turns[t + 1] if t + 1 < len(d.turns) and isinstance(d.turns[t + 1], SystemTurn) else None
        assert prev is None or isinstance(prev, SystemTurn)
        assert nxt is None or isinstance(nxt, SystemTurn)
        if nxt is not None and not turn.spans and self.response_apis_any(nxt, DialogAct.GOODBYE):
            return [UserAct.GOODBYE]
        acts: list[UserAct] = []
        next_calls = {a.name for a in nxt.actions if a.kind is ActionKind.API} if nxt is not None else set()
        handled = self.about(nxt, _HANDLING) if nxt is not None else set()
        confirmed = (
            self.response_apis(prev, DialogAct.CONFIRM_API) | self.response_apis(prev, DialogAct.CONFIRM_ARGS)
            if prev is not None
            else set()
        )
        offered = self.response_apis(prev, DialogAct.OFFER_API) if prev is not None else set()
        if confirmed:
            says_yes = not turn.spans and _YES.match(turn.text.strip()) is not None
            acts.append(UserAct.AFFIRM if confirmed & next_calls or says_yes else UserAct.DENY)
        elif offered:
            acts.append(UserAct.AFFIRM if offered & (handled | next_calls) else UserAct.DENY)
        elif not turn.spans and nxt is not None and self.repeats_a_call(d, t + 1):
            acts.append(UserAct.REQUEST_MORE)
        elif (handled | next_calls) - (self.about(prev) if prev is not None else set()):
            acts.append(UserAct.INVOKE)
        if turn.spans and UserAct.INVOKE not in acts:
            acts.append(UserAct.CHANGE if self.changes(d, t) else UserAct.INFORM)
        if not acts:
            text = turn.text.strip()
            acts.append(UserAct.AFFIRM if _YES.match(text) else UserAct.DENY if _NO.match(text) else UserAct.INFORM)
        return acts

    def response_apis_any(self, turn: SystemTurn, act: DialogAct) -> bool:
        return any(
            action.kind is ActionKind.RESPONSE
            and (tpl := self.templates.get(action.name)) is not None
            and tpl.act is act
            for action in turn.actions
        )

    def _key(self, kind: ActionKind, name: str) -> str:
        """What makes two actions' bindings comparable: the API they are about."""
        if kind is ActionKind.API:
            return name
        tpl = self.templates.get(name)
        return tpl.api if tpl is not None and tpl.api is not None else name

    def repeats_a_call(self, d: SampleDialogue, t: int) -> bool:
        turn = d.turns[t]
        assert isinstance(turn, SystemTurn)
        earlier = [
            (a.name, a.arguments)
            for other in d.turns[:t]
            if isinstance(other, SystemTurn)
            for a in other.actions
            if a.kind is ActionKind.API
        ]
        return any(a.kind is ActionKind.API and (a.name, a.arguments) in earlier for a in turn.actions)

    def changes(self, d: SampleDialogue, t: int) -> bool:
        turn = d.turns[t]
        assert isinstance(turn, UserTurn)
        if t + 1 >= len(d.turns) or not isinstance(nxt := d.turns[t + 1], SystemTurn):
            return False
        mine = {s.id for s in turn.spans}
        before: dict[tuple[str, str], set[str]] = {}
        for other in d.turns[:t]:
            if isinstance(other, SystemTurn):
                for a in other.actions:
                    for name, ref in a.arguments.items():
                        before.setdefault((self._key(a.kind, a.name), name), set()).add(ref)
        for a in nxt.actions:
            for name, ref in a.arguments.items():
                if ref in mine and (before.get((self._key(a.kind, a.name), name), set()) - {ref}):
                    return True
        return False
