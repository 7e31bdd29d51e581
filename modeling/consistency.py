"""The consistency check: every action the manager takes is valid against the skill spec.

The models propose; this module disposes. A proposed action is refused when

* an API call leaves a required argument (without a default) unfilled: the alternative
  is the API's ``request_args`` template that asks for the most of the missing ones;
* a transactional API is called without a ``confirm_api`` response about it in the
  previous system turn (the user's answer to it is the turn being handled): the
  alternative is that confirmation;
* a call repeats, with the same argument values, a call already made in this turn
  (no new information since);
* a response has an argument without a compatible entity, or repeats a response of this
  turn with the same values;
* an argument points at an entity whose slot type is not the argument's;
* the fallback response (a turn the skill does not handle) is not the turn's first action,
  or anything but waiting follows it.

The runtime then tries the alternative, else the next most probable action, and records
every refusal as a :class:`Decision`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skillspec.annotated import WAIT, AnnotatedActionKind

from .features import DialogueTracker, Entity, SkillIndex


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""
    alternative: str | None = None


OK = Verdict(True)


@dataclass(frozen=True)
class Decision:
    """One consistency decision about a proposed action."""

    proposed: str
    accepted: bool
    reason: str
    alternative: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "proposed": self.proposed,
            "accepted": self.accepted,
            "reason": self.reason,
            "alternative": self.alternative,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """The decision :meth:`to_dict` wrote."""
        alternative = data.get("alternative")
        return cls(str(data["proposed"]), bool(data["accepted"]), str(data["reason"]), alternative and str(alternative))


def check_action(
    index: SkillIndex, tracker: DialogueTracker, action: str, arguments: Mapping[str, Entity | None]
) -> Verdict:
    """Is ``action`` with ``arguments`` (argument name -> entity, None = unbound) valid now?"""
    if action == WAIT:
        return OK
    assert tracker.current is not None
    if action == index.fallback:
        # The fallback answers a turn the manager does not handle: alone, or not at all.
        if tracker.current.actions:
            return Verdict(False, "the fallback response only answers a whole turn, as its first action")
        return OK
    if tracker.current.actions and tracker.current.actions[-1] == index.fallback:
        return Verdict(False, "nothing follows the fallback response but waiting for the user", WAIT)
    spec = index.arguments[action]
    for name, slot_type, _, _ in spec:
        e = arguments.get(name)
        if e is not None and e.slot_type != slot_type:
            return Verdict(False, f"argument {name} needs a {slot_type}, not the {e.slot_type} {e.value!r}")
    values = {n: e.value for n, e in arguments.items() if e is not None}
    assert tracker.current is not None
    if index.kind(action) is AnnotatedActionKind.API:
        missing = [n for n, _, req, default in spec if req and default is None and arguments.get(n) is None]
        if missing:
            return Verdict(
                False, f"required argument(s) {', '.join(missing)} not filled", _request_for(index, action, missing)
            )
        if index.apis[action].transactional and not _confirmed(index, tracker, action):
            confirms = index.confirms.get(action, [])
            return Verdict(
                False, f"{action} is transactional and the user has not confirmed it", confirms[0] if confirms else None
            )
        for c in tracker.calls:
            if c.turn == tracker.turn_index and c.api == action and c.arguments == values:
                return Verdict(False, f"repeats call {c.key} of this turn with the same arguments")
        return OK
    missing = [n for n, _, _, _ in spec if arguments.get(n) is None]
    if missing:
        return Verdict(False, f"no value for argument(s) {', '.join(missing)}")
    if _repeats_response(tracker, action, arguments):
        return Verdict(False, "repeats a response of this turn")
    return OK


def confirmation_bindings(index: SkillIndex, tracker: DialogueTracker, api: str) -> dict[str, str]:
    """The entities the confirmation of ``api`` in the previous system turn showed, by argument name."""
    confirms = set(index.confirms.get(api, ()))
    prev = tracker.answered_turn()
    return {arg: key for (t, act, arg, key) in tracker.bindings if t == prev and act in confirms}


def _confirmed(index: SkillIndex, tracker: DialogueTracker, api: str) -> bool:
    prev = tracker.answered_turn()  # "yes" after "can't help with that" still answers the confirmation
    if prev is None:
        return False
    if not set(index.confirms.get(api, ())) & set(tracker.turns[prev].actions):
        return False
    # Confirmed once, called once: a second call in this turn needs a new confirmation.
    return not any(c.api == api and c.turn == tracker.turn_index for c in tracker.calls)


def _request_for(index: SkillIndex, api: str, missing: list[str]) -> str | None:
    best: tuple[int, int, str] | None = None
    for name, requested in index.requests.get(api, ()):
        covered = len(requested & set(missing))
        if covered == 0:
            continue
        key = (covered, -len(requested - set(missing)), name)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def _repeats_response(tracker: DialogueTracker, action: str, arguments: Mapping[str, Entity | None]) -> bool:
    assert tracker.current is not None
    mine = {n: e.id for n, e in arguments.items() if e is not None}
    return any(a == action and b == mine for a, b in zip(tracker.current.actions, tracker.current.bound, strict=True))
