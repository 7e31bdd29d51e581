"""The conversion of one SGD dialogue (``_Converter``): user turns become spans bound
to entities, acts and a delexicalised utterance-set variant; system turns become API calls
(their arguments bound to the entities their values came from, their results the matching
``service_results`` row), a response template signature and a delexicalised variant. A
sample's values and wordings extend the catalogue, an evaluation dialogue's never do. The
module is over 500 lines because ``_Converter`` alone is: its methods share one
dialogue's conversion (the service, the catalogue, the evaluation flag and the state passed
between turns), and cutting the class apart would change code that is moved here verbatim."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from skillspec import DialogAct, EntitySource, UserAct, result_id
from skillspec.builtins import number_words

from .catalogue import DONTCARE, _Catalogue
from .naming import _unique, snake, valid_name
from .schema import _actions, _Intent, _pairs, _Service
from .turns import COUNT, _Bind, _Call, _Dialogue, _Entity, _Part, _Skip, _State, _STurn, _TemplateKey, _USpan, _UTurn

# What each SGD user act is in Colloquy's terms; REQUEST (the user asks for a slot's
# value) has no counterpart.
USER_ACTS: dict[str, UserAct] = {
    "INFORM_INTENT": UserAct.INVOKE,
    "INFORM": UserAct.INFORM,
    "AFFIRM": UserAct.AFFIRM,
    "AFFIRM_INTENT": UserAct.AFFIRM,
    "SELECT": UserAct.AFFIRM,
    "NEGATE": UserAct.DENY,
    "NEGATE_INTENT": UserAct.DENY,
    "REQUEST_ALTS": UserAct.REQUEST_MORE,
    "THANK_YOU": UserAct.GOODBYE,
    "GOODBYE": UserAct.GOODBYE,
}

# The act that names a multi-act system turn's template comes first here.
PRIMARY_ORDER = [
    "NOTIFY_FAILURE",
    "NOTIFY_SUCCESS",
    "CONFIRM",
    "OFFER_INTENT",
    "REQUEST",
    "OFFER",
    "INFORM_COUNT",
    "INFORM",
    "REQ_MORE",
    "GOODBYE",
]
# Reading order of the acts in a template name, e.g. inform_count_offer_restaurant_name.
NAME_ORDER = [
    "NOTIFY_FAILURE",
    "NOTIFY_SUCCESS",
    "INFORM_COUNT",
    "OFFER",
    "INFORM",
    "CONFIRM",
    "REQUEST",
    "OFFER_INTENT",
    "REQ_MORE",
    "GOODBYE",
]
SYSTEM_ACTS: dict[str, DialogAct] = {
    "REQUEST": DialogAct.REQUEST_ARGS,
    "OFFER": DialogAct.OFFER,
    "INFORM": DialogAct.INFORM,
    "INFORM_COUNT": DialogAct.INFORM,
    "NOTIFY_SUCCESS": DialogAct.NOTIFY_SUCCESS,
    "NOTIFY_FAILURE": DialogAct.NOTIFY_FAILURE,
    "OFFER_INTENT": DialogAct.OFFER_API,
    "REQ_MORE": DialogAct.REQUEST_MORE,
    "GOODBYE": DialogAct.GOODBYE,
}


MAX_VARIANT = 1000
MAX_USER_TEXT = 2000


def _locate(text: str, forms: Iterable[str], taken: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """Where one of ``forms`` occurs in ``text`` as whole words, not overlapping ``taken``."""
    for form in sorted({f for f in forms if f.strip()}, key=lambda f: (-len(f), f)):
        pattern = r"(?<!\w)" + re.escape(form) + r"(?!\w)"
        for m in re.finditer(pattern, text, flags=re.IGNORECASE):
            if not any(m.start() < e and s < m.end() for s, e in taken):
                return m.start(), m.end()
    return None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and start < len(text) and text[start].isspace():
        start += 1
    while end > start and end <= len(text) and text[end - 1].isspace():
        end -= 1
    return start, end


def _delexicalise(text: str, replacements: Sequence[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for start, end, name in sorted(replacements):
        out.append(text[pos:start].replace("{", "{{").replace("}", "}}"))
        out.append("{" + name + "}")
        pos = end
    out.append(text[pos:].replace("{", "{{").replace("}", "}}"))
    return "".join(out)


class _Converter:
    """Converts dialogues; a sample's values and wordings extend the catalogue, an
    evaluation dialogue's (``evaluation``) never do."""

    def __init__(self, service: _Service, catalogue: _Catalogue, *, evaluation: bool):
        self.service = service
        self.cat = catalogue
        self.evaluation = evaluation

    def _value(self, slot: str, raw: str) -> str | None:
        """The value ``raw`` stands for: the catalogue's spelling when it has it; else, in a
        sample, a new catalogue value, and in an evaluation dialogue ``raw`` itself (what a
        real user says need not be in the provider's database). None if unusable."""
        if self.evaluation:
            return self.cat.lookup(slot, raw) or self.cat.usable(slot, raw)
        return self.cat.add(slot, raw)

    def _known(self, slot: str, raw: str) -> str | None:
        """Like :meth:`_value`, but a sample's value must already be in the catalogue."""
        return self._value(slot, raw) if self.evaluation else self.cat.lookup(slot, raw)

    # -- entities

    def _find(
        self, st: _State, slot: str, value: str, prefer: EntitySource, *, lenient: bool = False
    ) -> _Entity | None:
        """The entity a value came from: the most recent one with that value, from the
        preferred source first; only a user span if the user said the value (unless
        ``lenient``: then an earlier result with that value will do)."""
        said = (slot, value) in st.said and not lenient
        matches = [
            e
            for e in reversed(st.entities)
            if e.slot == slot and value in (e.value, e.meant) and (e.source is EntitySource.SPAN or not said)
        ]
        matches.sort(key=lambda e: e.source != prefer)  # stable: most recent first within each source
        return matches[0] if matches else None

    # -- the whole dialogue

    def convert(self, dialogue: dict[str, Any]) -> _Dialogue:
        try:
            return self._convert(dialogue)
        except _Skip:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise _Skip("malformed SGD dialogue", f"{type(exc).__name__}: {exc}") from None

    def _convert(self, dialogue: dict[str, Any]) -> _Dialogue:
        out = _Dialogue(str(dialogue["dialogue_id"]), [], [], Counter())
        st = _State()
        active: str | None = None
        last_call: _Call | None = None
        turns = dialogue["turns"]
        if not turns:
            raise _Skip("empty dialogue")
        for t, turn in enumerate(turns):
            expected = "USER" if t % 2 == 0 else "SYSTEM"
            if turn["speaker"] != expected:
                raise _Skip("turns do not alternate between user and system", f"turn {t}")
            frames = [f for f in turn["frames"] if f["service"] == self.service.name]
            if len(frames) != len(turn["frames"]):
                raise _Skip("involves other services", f"turn {t}")
            if len(frames) != 1:
                raise _Skip("a turn without exactly one frame of the service", f"turn {t}")
            frame, text = frames[0], str(turn["utterance"])
            if expected == "USER":
                if not self.evaluation and not 0 < len(text.strip()) <= MAX_USER_TEXT:
                    raise _Skip("a user utterance that a sample dialogue cannot hold (empty or too long)", f"turn {t}")
                state = frame.get("state") or {}
                intent = state.get("active_intent")
                active = intent if intent in self.service.intents else active
                out.turns.append(self._user_turn(t, text, frame, active, st, out))
            else:
                sturn, last_call = self._system_turn(t, text, frame, active, st, last_call, out)
                out.turns.append(sturn)
        return out

    # -- user turns

    def _canonical(self, actions: Sequence[dict[str, Any]], slot: str, surface: str) -> str:
        pairs = [p for a in actions if a.get("slot") == slot for p in _pairs(a)]
        for value, canonical in pairs:
            if value == surface:
                return canonical
        for value, canonical in pairs:
            if value.lower() == surface.lower():
                return canonical
        return surface

    def _user_turn(
        self,
        t: int,
        text: str,
        frame: dict[str, Any],
        active: str | None,
        st: _State,
        out: _Dialogue,
    ) -> _UTurn:
        actions = _actions(frame)
        found: list[tuple[int, int, str, str]] = []  # start, end, slot, value
        for s in frame.get("slots", []):
            slot, start, end = s["slot"], int(s["start"]), int(s["exclusive_end"])
            if slot not in self.service.slots:
                out.notes["user spans of slots not in the schema, ignored"] += 1
                continue
            start, end = _trim(text, start, end)
            if not 0 <= start < end <= len(text):
                out.notes["user spans outside the text, ignored"] += 1
                continue
            surface = text[start:end]
            canonical = self._canonical(actions, slot, surface)
            value = self._value(slot, canonical)
            if value is None:
                if canonical != DONTCARE:  # a dontcare is reported with its INFORM act
                    out.not_located.append(("unusable value", slot, f"{slot}={canonical!r} in {text!r}"))
                continue
            found.append((start, end, slot, value))
        unlocated = False
        for a in actions:
            if a.get("act") != "INFORM" or a.get("slot") not in self.service.slots:
                continue
            slot = a["slot"]
            for surface, canonical in _pairs(a):
                if canonical == DONTCARE:
                    out.not_located.append(("'dontcare' (no value to annotate)", slot, f"{surface!r} in {text!r}"))
                    unlocated = True
                    continue
                value = self._value(slot, canonical)
                if value is None:
                    out.not_located.append(("unusable value", slot, f"{canonical!r} in {text!r}"))
                    unlocated = True
                    continue
                if any(f[2] == slot and f[3] == value for f in found):
                    continue
                where = _locate(
                    text, [surface, canonical, *self.cat.forms_of(slot, value)], [(f[0], f[1]) for f in found]
                )
                if where is None:
                    reason = (
                        "categorical value not found in the text"
                        if self.service.slots[slot].categorical
                        else "value without an SGD span and not found in the text"
                    )
                    out.not_located.append((reason, slot, f"{slot}={canonical!r} in {text!r}"))
                    unlocated = True
                else:
                    found.append((where[0], where[1], slot, value))
                    out.notes["user values located in the text through the catalogue"] += 1
        found.sort()
        spans: list[_USpan] = []
        for start, end, slot, value in found:
            if spans and start < spans[-1].end:
                out.notes["overlapping user spans dropped"] += 1
                continue
            meant = None
            why = self.cat.annotatable(slot, text[start:end], value, learn=not self.evaluation)
            named = self.cat.lookup(slot, text[start:end]) if slot not in self.cat.builtin else None
            if why is not None and named is not None:
                # The words name another catalogue value ("Asian Fusion" for SGD's "Sushi"):
                # annotate what was said; bindings that want SGD's value take this span.
                meant, value = value, named
                out.notes["user spans annotated with the catalogue value their words name, not SGD's"] += 1
            elif why is not None:
                out.not_located.append((why, slot, f"{slot}={value!r} said {text[start:end]!r} in {text!r}"))
                unlocated = True
                continue
            if slot not in self.cat.builtin:
                if self.cat.lookup(slot, value) != value:
                    out.notes["user values not in the catalogue (annotated as said; evaluation dialogues)"] += 1
                elif self.cat.lookup(slot, text[start:end]) != value:
                    out.notes["user wordings that are no catalogue form of their value (evaluation dialogues)"] += 1
            said = text[start:end]
            entity = _Entity(
                st.ids.span(), self.service.slots[slot].name, t, EntitySource.SPAN, value, said, slot=slot, meant=meant
            )
            st.entities.append(entity)
            spans.append(_USpan(start, end, slot, text[start:end], entity))

        acts: list[str] = []
        sgd_acts = {str(a.get("act")) for a in actions}
        changed = False
        for a in actions:
            act = USER_ACTS.get(str(a.get("act")))
            if act is UserAct.INFORM and a.get("slot") in self.service.slots:
                for _, canonical in _pairs(a):
                    value = self._known(a["slot"], canonical)
                    if value is not None:
                        if st.informed.get(a["slot"], value) != value:
                            changed = True
                        st.informed[a["slot"]] = value
                        st.said.add((a["slot"], value))
            if act is not None and act.value not in acts:
                acts.append(act.value)
        if changed:
            acts = [UserAct.CHANGE.value if a == UserAct.INFORM.value else a for a in acts]
        if "REQUEST" in sgd_acts:
            out.notes["user turns asking for a slot's value (SGD REQUEST: no Colloquy user act)"] += 1

        set_key = self._set_key(sgd_acts, actions, active, changed)
        variant = None
        if set_key is not None and not unlocated and "REQUEST" not in sgd_acts:
            variant = _delexicalise(text, [(s.start, s.end, self.service.slots[s.slot].name) for s in spans])
        return _UTurn(text, acts, spans, set_key, variant)

    def _set_key(
        self, sgd_acts: set[str], actions: Sequence[dict[str, Any]], active: str | None, changed: bool
    ) -> tuple[UserAct, str | None] | None:
        api = self.service.intents[active].name if active in self.service.intents else None
        if "INFORM_INTENT" in sgd_acts:
            intents = [
                v for a in actions if a.get("act") == "INFORM_INTENT" for v, _ in _pairs(a) if v in self.service.intents
            ]
            return (UserAct.INVOKE, self.service.intents[intents[0]].name) if intents else None
        if "INFORM" in sgd_acts:
            return (UserAct.CHANGE if changed else UserAct.INFORM, api)
        for sgd, act in (
            ("REQUEST_ALTS", UserAct.REQUEST_MORE),
            ("GOODBYE", UserAct.GOODBYE),
            ("THANK_YOU", UserAct.GOODBYE),
            ("NEGATE", UserAct.DENY),
            ("NEGATE_INTENT", UserAct.DENY),
            ("AFFIRM", UserAct.AFFIRM),
            ("AFFIRM_INTENT", UserAct.AFFIRM),
            ("SELECT", UserAct.AFFIRM),
        ):
            if sgd in sgd_acts:
                return (act, None)
        return None

    # -- system turns

    def _mentioned(self, actions: Sequence[dict[str, Any]]) -> dict[str, str]:
        """Catalogue values the system mentions (not suggests), by slot."""
        out: dict[str, str] = {}
        for a in actions:
            if a.get("act") in ("REQUEST", "OFFER_INTENT", "INFORM_COUNT") or a.get("slot") not in self.service.slots:
                continue
            for _, canonical in _pairs(a):
                value = self._known(a["slot"], canonical)
                if value is not None:
                    out.setdefault(a["slot"], value)
        return out

    def _matches(self, row: dict[str, Any], wanted: dict[str, str]) -> int:
        return sum(1 for s, v in wanted.items() if s in row and self.cat.lookup(s, str(row[s])) == v)

    def _results(self, call_id: str, intent: _Intent, rows: list[dict[str, Any]], row: int, t: int) -> list[_Entity]:
        """The entities of a call's result row: every return field, or none when nothing was found."""
        results: list[_Entity] = []
        if not rows:
            return results
        for slot in intent.results:
            raw = rows[row].get(slot)
            # Every given dialogue's service results are in the catalogue already.
            value = self.cat.add(slot, str(raw)) if raw is not None else None
            if value is None:
                raise _Skip("a service result has no usable value for a return field", f"turn {t}: {slot}={raw!r}")
            name = self.service.slots[slot].name
            results.append(_Entity(result_id(call_id, name), name, t, EntitySource.RESULT, value, value, slot=slot))
        if intent.counts:
            count, name = str(len(rows)), self.service.count_type
            results.append(_Entity(result_id(call_id, name), name, t, EntitySource.RESULT, count, count, slot=COUNT))
        return results

    def _call(
        self,
        t: int,
        frame: dict[str, Any],
        wanted: dict[str, str],
        st: _State,
        out: _Dialogue,
    ) -> _Call:
        call = frame["service_call"]
        method = call["method"]
        intent = self.service.intents.get(method)
        if intent is None:
            raise _Skip("service call of an intent not in the schema", str(method))
        params = {str(k): str(v) for k, v in call.get("parameters", {}).items()}
        binds: list[_Bind] = []
        for slot in intent.arguments:
            if slot not in params:
                if slot in intent.required:
                    raise _Skip("service call without a required argument", f"turn {t}: {method}.{slot}")
                continue
            value = self._known(slot, params[slot])
            entity = self._find(st, slot, value, EntitySource.SPAN) if value is not None else None
            if entity is None and value is not None and slot in intent.required:
                entity = self._find(st, slot, value, EntitySource.SPAN, lenient=True)
                if entity is not None:
                    out.notes["required API arguments bound to an earlier result (the user's words not located)"] += 1
            if entity is None:
                if slot in intent.required:
                    raise _Skip(
                        "a required API argument's value is neither said by the user nor returned by an earlier call",
                        f"turn {t}: {method}.{slot}={params[slot]!r}",
                    )
                if params[slot] == intent.optional.get(slot):
                    out.notes["optional API arguments at their default left out"] += 1
                else:
                    out.notes["optional API arguments left out (value not located in the dialogue)"] += 1
                continue
            binds.append(_Bind(self.service.slots[slot].name, entity))
        for slot in params:
            if slot not in intent.arguments:
                out.notes["service call parameters that are no argument of the intent, ignored"] += 1
        raw_rows = frame.get("service_results") or []
        rows = [r for r in raw_rows if isinstance(r, dict)] if isinstance(raw_rows, list) else []
        row = max(range(len(rows)), key=lambda i: (self._matches(rows[i], wanted), -i)) if rows else 0
        call_id = st.ids.call()
        results = self._results(call_id, intent, rows, row, t)
        st.entities.extend(results)
        return _Call(intent, call_id, binds, rows, row, results)

    def _recall(self, t: int, previous: _Call, wanted: dict[str, str], st: _State) -> _Call | None:
        """The earlier call again, when the system offers another of its rows."""
        if not previous.rows:
            return None
        current = self._matches(previous.rows[previous.row], wanted)
        best = max(range(len(previous.rows)), key=lambda i: (self._matches(previous.rows[i], wanted), -i))
        if self._matches(previous.rows[best], wanted) <= current:
            return None
        call_id = st.ids.call()
        results = self._results(call_id, previous.intent, previous.rows, best, t)
        st.entities.extend(results)
        return _Call(previous.intent, call_id, list(previous.binds), previous.rows, best, results)

    def _system_turn(
        self,
        t: int,
        text: str,
        frame: dict[str, Any],
        active: str | None,
        st: _State,
        last_call: _Call | None,
        out: _Dialogue,
    ) -> tuple[_STurn, _Call | None]:
        actions = _actions(frame)
        by_act: dict[str, list[dict[str, Any]]] = {}
        for a in actions:
            by_act.setdefault(str(a.get("act")), []).append(a)
        if not by_act:
            raise _Skip("a system turn without acts", f"turn {t}")
        unknown = sorted(set(by_act) - set(NAME_ORDER))
        if unknown:
            raise _Skip("unknown SGD system act", f"turn {t}: {', '.join(unknown)}")
        wanted = self._mentioned(actions)
        calls: list[_Call] = []
        if frame.get("service_call"):
            calls.append(self._call(t, frame, wanted, st, out))
        elif "OFFER" in by_act and last_call is not None:
            again = self._recall(t, last_call, wanted, st)
            if again is not None:
                calls.append(again)
                out.notes["API calls repeated for an alternative result offered without a new SGD call"] += 1
        this_call = calls[-1] if calls else None
        if this_call is not None:
            last_call = this_call

        spans = [
            (int(s["start"]), int(s["exclusive_end"]), str(s["slot"]))
            for s in frame.get("slots", [])
            if 0 <= int(s["start"]) < int(s["exclusive_end"]) <= len(text)
        ]
        used: list[tuple[int, int]] = []
        replacements: list[tuple[int, int, str]] = []
        binds: list[_Bind] = []
        arg_names: set[str] = set()
        arguments: list[tuple[str, str]] = []
        parts: list[_Part] = []
        requested: list[str] = []
        offered: str | None = None

        def place(slot: str, surface: str, value: str, entity: _Entity, forms: list[str]) -> bool:
            where = None
            for start, end, s in spans:
                if s == slot and (start, end) not in used:
                    said = text[start:end]
                    if said.lower() == surface.lower() or self.cat.lookup(slot, said) == value:
                        where = (start, end)
                        break
            if where is None:
                where = _locate(text, [surface, *forms], used)
            if where is None:
                return False
            base = self.service.slots[slot].name if slot != COUNT else self.service.count_type
            name = _unique(base, arg_names)
            used.append(where)
            replacements.append((where[0], where[1], name))
            binds.append(_Bind(name, entity))
            arguments.append((name, slot))
            return True

        for act in NAME_ORDER:
            group = by_act.get(act)
            if group is None:
                continue
            before = len(arguments)
            if act == "REQUEST":
                slots = sorted(
                    {str(a.get("slot")) for a in group if a.get("slot") in self.service.slots},
                    key=self.service.slot_order,
                )
                requested = [self.service.slots[s].name for s in slots]
                parts.append(_Part(act, "_".join(["request", *requested]), requested=tuple(slots)))
                continue
            if act == "OFFER_INTENT":
                intents = [v for a in group for v, _ in _pairs(a) if v in self.service.intents]
                offered = intents[0] if intents else None
                label = "offer_" + snake(self.service.intents[offered].name) if offered else "offer_intent"
                parts.append(_Part(act, label, intent=offered))
                continue
            if act == "INFORM_COUNT":
                source = this_call or last_call
                count = next((e for e in (source.results if source else []) if e.slot == COUNT), None)
                for surface, _ in _pairs(group[0])[:1]:
                    forms = [number_words(int(surface))] if surface.isdigit() and int(surface) < 1000 else []
                    if count is None or count.value != surface or not place(COUNT, surface, surface, count, forms):
                        out.notes["system values kept as literal text (not bound or not found)"] += 1
                parts.append(_Part(act, "inform_count"))  # its argument is the one of slot COUNT
                continue
            prefer = EntitySource.SPAN if act == "CONFIRM" else EntitySource.RESULT
            literals: list[str] = []
            said: list[tuple[str, str]] = []
            ordered = sorted(
                (a for a in group if a.get("slot") in self.service.slots),
                key=lambda a: self.service.slot_order(str(a["slot"])),
            )
            for a in ordered:
                slot = str(a["slot"])
                for surface, canonical in _pairs(a):
                    value = self._known(slot, canonical)
                    entity = None
                    if value is not None and this_call is not None:
                        entity = next((e for e in this_call.results if e.slot == slot and e.value == value), None)
                    if value is not None and entity is None:
                        entity = self._find(st, slot, value, prefer)
                    forms = [canonical, *self.cat.forms_of(slot, value)] if value is not None else [canonical]
                    if entity is None or value is None or not place(slot, surface, value, entity, forms):
                        if self.service.slots[slot].categorical:
                            # A categorical value said in words of its own ("they do not serve
                            # alcohol") names the template instead: it stays true to its text.
                            literals.append(valid_name(f"{self.service.slots[slot].name}_{value or canonical}").lower())
                            said.append((slot, value or canonical))
                            out.notes["categorical system values kept in the text (they name the template)"] += 1
                        else:
                            out.notes["system values kept as literal text (not bound or not found)"] += 1
            parts.append(_Part(act, act.lower(), tuple(n for n, _ in arguments[before:]), tuple(literals), tuple(said)))

        primary = next(a for a in PRIMARY_ORDER if a in by_act)
        act, api = self._template_act(primary, t, requested, active, this_call, offered, "OFFER" in by_act)
        key = _TemplateKey(
            tuple(parts),
            act,
            api,
            tuple(requested) if act is DialogAct.REQUEST_ARGS else (),
            tuple(arguments),
        )
        variant = _delexicalise(text, replacements)
        if not variant.strip() or len(variant) > MAX_VARIANT:
            raise _Skip("a system utterance that cannot be a template variant (empty or too long)", f"turn {t}")
        return _STurn(text, calls, key, binds, variant), last_call

    def _template_act(
        self,
        primary: str,
        t: int,
        requested: list[str],
        active: str | None,
        this_call: _Call | None,
        offered: str | None,
        offers: bool,
    ) -> tuple[DialogAct, str | None]:
        active_intent = self.service.intents.get(active) if active is not None else None
        if primary == "REQUEST":

            def has_all(i: _Intent) -> bool:
                return set(requested) <= {self.service.slots[s].name for s in i.arguments}

            candidates = [active_intent] if active_intent is not None else []
            candidates += list(self.service.intents.values())
            intent = next((i for i in candidates if has_all(i)), None) if requested else None
            if intent is None:
                raise _Skip("the system asks for slots that are no API's arguments", f"turn {t}: {requested}")
            return DialogAct.REQUEST_ARGS, intent.name
        if primary == "CONFIRM":
            if active_intent is None:
                raise _Skip("a confirmation without an active intent", f"turn {t}")
            return (
                DialogAct.CONFIRM_API if active_intent.transactional else DialogAct.CONFIRM_ARGS,
                active_intent.name,
            )
        if primary in ("NOTIFY_SUCCESS", "NOTIFY_FAILURE"):
            intent = this_call.intent if this_call is not None else active_intent
            if intent is None:
                raise _Skip("a notification without an API", f"turn {t}")
            if primary == "NOTIFY_FAILURE" and offers and intent.transactional:
                # "That failed; shall I book it for 5 pm instead?": the user's yes is what
                # allows the next call, so this asks for confirmation.
                return DialogAct.CONFIRM_API, intent.name
            return SYSTEM_ACTS[primary], intent.name
        if primary == "OFFER_INTENT":
            if offered is None:
                raise _Skip("an offered intent not in the schema", f"turn {t}")
            return DialogAct.OFFER_API, self.service.intents[offered].name
        return SYSTEM_ACTS[primary], None
