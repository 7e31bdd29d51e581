"""Semantic validation of a skill spec, and parsing with path-named errors."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pydantic

from .catalogue import form_key
from .context import base_id, result_id
from .fallback import DEFAULT_FALLBACK, FALLBACK_NAME, fallback_template, response_templates
from .index import by_name
from .models import (
    ACTS_NEEDING_API,
    Action,
    ActionKind,
    Api,
    DialogAct,
    SampleDialogue,
    Skill,
    SystemTurn,
    UserAct,
    UserTurn,
)
from .render import placeholders


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in a spec: where it is and why it is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecValidationError(ValueError):
    """Raised when a skill (or part of one) is not valid; ``issues`` lists every problem."""

    def __init__(self, issues: Sequence[Issue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


def join_path(*parts: str | int) -> str:
    """``join_path("apis", 1, "name") == "apis[1].name"``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part:
            out += f".{part}" if out else part
    return out


def _pydantic_issues(exc: pydantic.ValidationError, prefix: str = "") -> list[Issue]:
    issues = []
    for err in exc.errors():
        loc: list[str | int] = []
        for i, part in enumerate(err["loc"]):
            # Discriminated unions put the tag ("user"/"system") into the location.
            if part in ("user", "system") and i > 0 and isinstance(err["loc"][i - 1], int):
                continue
            # A bad dict key is located by the key itself.
            if part == "[key]":
                continue
            loc.append(part)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "string_pattern_mismatch":
            message = "must start with a letter and contain only letters, digits and _"
        issues.append(Issue(join_path(prefix, *loc) if prefix else join_path(*loc), message))
    return issues


M = TypeVar("M", bound=pydantic.BaseModel)


def parse_model(model: type[M], data: Any, *, path: str = "", check: Callable[[M], list[Issue]] | None = None) -> M:
    """Build ``model`` from plain data, raising :class:`SpecValidationError` with paths.

    ``check`` adds further (semantic) checks of the built object. When the only
    structural problems are badly spelled names, ``check`` still runs, on a stand-in
    whose names are respelled, so that every problem is reported at once.
    """
    try:
        obj = model.model_validate_json(data) if isinstance(data, str | bytes) else model.model_validate(data)
    except pydantic.ValidationError as exc:
        issues = _pydantic_issues(exc, path)
        stand_in = _stand_in(model, data, exc) if check is not None else None
        if stand_in is not None and check is not None:
            obj, respelled = stand_in
            bad = {i.path for i in issues}
            for issue in check(obj):
                if issue.path not in bad:
                    message = issue.message
                    for new, old in respelled.items():
                        message = re.sub(rf"\b{re.escape(new)}\b", old, message)
                    issues.append(Issue(issue.path, message))
        raise SpecValidationError(issues) from None
    # JSON allows \u0000 but PostgreSQL's jsonb and text columns do not, and no skill needs it.
    nul = [Issue(p, "must not contain the NUL character") for p in _nul_paths(obj.model_dump(mode="json"), path)]
    if nul:
        raise SpecValidationError(nul)
    if check is not None and (issues := check(obj)):
        raise SpecValidationError(issues)
    return obj


def _respell(name: str) -> str:
    """A valid name standing in for a badly spelled one; the same bad name always gives the same one."""
    respelled = re.sub(r"\W", "_", name, flags=re.ASCII)
    return respelled if respelled[:1].isalpha() else f"x{respelled}"


def _stand_in(model: type[M], data: Any, exc: pydantic.ValidationError) -> tuple[M, dict[str, str]] | None:
    """``data`` with every badly spelled name respelled, if that is all that is wrong with it,
    and which respelling stands for which name."""
    errors = exc.errors()
    if not errors or any(e["type"] != "string_pattern_mismatch" for e in errors):
        return None
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    data = copy.deepcopy(data)
    respelled: dict[str, str] = {}
    for err in errors:
        container: Any = data
        loc = list(err["loc"])
        for part in loc[:-1]:
            # Discriminated unions put their tag into the location; it is not a key of the data.
            if isinstance(container, dict) and isinstance(part, str) and part not in container:
                continue
            container = container[part]
        if not isinstance(container, dict | list) or not isinstance(err["input"], str):
            return None
        new = _respell(err["input"][:64])
        respelled[new] = err["input"]
        target: Any = container  # a dict keyed by name or a list indexed by position
        target[loc[-1]] = new
    # Consistent respelling keeps references between respelled names intact.
    try:
        return model.model_validate(data), respelled
    except pydantic.ValidationError:
        return None


def _nul_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nul_paths(v, join_path(path, str(k)))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, join_path(path, i))]
    return []


def parse_skill(data: str | bytes | dict[str, Any]) -> Skill:
    """Parse and fully validate a skill; raise :class:`SpecValidationError` on any problem."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SpecValidationError([Issue("", f"not valid JSON: {exc}")]) from None
    if not isinstance(data, dict):
        raise SpecValidationError([Issue("", "a skill must be a JSON object")])
    version = data.get("spec_version")
    if version is not None and not isinstance(version, str):
        raise SpecValidationError([Issue("spec_version", f'must be a string such as "1.0", not {json.dumps(version)}')])
    if version is not None and version != "1.0":
        raise SpecValidationError(
            [Issue("spec_version", f"unsupported spec version {version!r}; this Colloquy reads 1.0")]
        )
    return parse_model(Skill, data, check=validate_skill)


def _duplicates(names: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    dup: set[str] = set()
    for n in names:
        (dup if n in seen else seen).add(n)
    return dup


class _Checker:
    def __init__(self, skill: Skill):
        self.skill = skill
        self.issues: list[Issue] = []
        self.slot_types = {s.name for s in skill.slot_types}
        self.catalogues = {s.name: {v.value for v in s.values} for s in skill.slot_types if s.builtin is None}
        # The first of duplicate names wins, so only the duplicate itself is reported.
        self.apis = by_name(skill.apis)
        self.templates = by_name(response_templates(skill))  # the default fallback too

    def add(self, path: str, message: str) -> None:
        self.issues.append(Issue(path, message))

    def unique(self, items: Sequence[Any], path: str, what: str, attr: str = "name") -> None:
        names = [getattr(i, attr) for i in items]
        dups = _duplicates(names)
        for i, n in enumerate(names):
            if n in dups and names.index(n) != i:
                self.add(join_path(path, i, attr), f"duplicate {what} {n!r}")

    def slot_type(self, name: str, path: str) -> None:
        if name not in self.slot_types:
            self.add(path, f"unknown slot type {name!r}")

    def run(self) -> list[Issue]:
        s = self.skill
        self.unique(s.slot_types, "slot_types", "slot type name")
        self.unique(s.apis, "apis", "API name")
        self.unique(s.response_templates, "response_templates", "response template name")
        self.unique(s.utterance_sets, "utterance_sets", "utterance set name")
        self.unique(s.sample_dialogues, "sample_dialogues", "sample dialogue name")
        for i, t in enumerate(s.response_templates):
            if t.name in self.apis:
                self.add(
                    join_path("response_templates", i, "name"),
                    f"{t.name!r} is already an API name; actions share one namespace",
                )
            if t.name == FALLBACK_NAME and t.act is not DialogAct.FALLBACK:
                self.add(
                    join_path("response_templates", i, "name"),
                    f"{FALLBACK_NAME!r} is the name of the fallback response: give this {t.act.value} template "
                    "another name, or make its act fallback",
                )
        if fallback_template(s) is DEFAULT_FALLBACK:
            for i, api in enumerate(s.apis):
                if api.name == FALLBACK_NAME:
                    self.add(
                        join_path("apis", i, "name"),
                        f"{FALLBACK_NAME!r} is the name of the default fallback response; rename the API "
                        "or author a template of act fallback",
                    )
        for i, st in enumerate(s.slot_types):
            self.check_slot_type(i, st)
        for i, api in enumerate(s.apis):
            self.check_api(i, api)
        for i, t in enumerate(s.response_templates):
            self.check_template(i, t)
        for i, u in enumerate(s.utterance_sets):
            self.check_utterance_set(i, u)
        for i, d in enumerate(s.sample_dialogues):
            self.check_dialogue(i, d)
        return self.issues

    def check_slot_type(self, i: int, st: Any) -> None:
        path = join_path("slot_types", i)
        if st.builtin is not None and st.values:
            self.add(join_path(path, "values"), f"a built-in {st.builtin.value} slot type has no catalogue values")
        self.unique(st.values, join_path(path, "values"), "value", attr="value")
        owner: dict[str, str] = {}
        for j, v in enumerate(st.values):
            for k, form in enumerate([v.value, *v.synonyms]):
                other = owner.setdefault(form_key(form), v.value)
                if other != v.value:
                    where = join_path(path, "values", j, *(("synonyms", k - 1) if k else ("value",)))
                    self.add(where, f"{form!r} already stands for value {other!r}")

    def check_api(self, i: int, api: Api) -> None:
        path = join_path("apis", i)
        self.unique(api.arguments, join_path(path, "arguments"), "argument name")
        self.unique(api.returns, join_path(path, "returns"), "return field name")
        for j, arg in enumerate(api.arguments):
            self.slot_type(arg.slot_type, join_path(path, "arguments", j, "slot_type"))
            if arg.required and arg.default is not None:
                self.add(join_path(path, "arguments", j, "default"), "only an optional argument can have a default")
        for j, ret in enumerate(api.returns):
            self.slot_type(ret.slot_type, join_path(path, "returns", j, "slot_type"))

    def check_variants(self, path: str, variants: Sequence[str], declared: set[str], *, all_required: bool) -> set[str]:
        used_anywhere: set[str] = set()
        for j, text in enumerate(variants):
            vpath = join_path(path, "variants", j)
            try:
                used = set(placeholders(text))
            except ValueError as exc:
                self.add(vpath, str(exc))
                continue
            used_anywhere |= used
            for name in sorted(used - declared):
                self.add(vpath, f"placeholder {{{name}}} is not an argument")
            if all_required:
                for name in sorted(declared - used):
                    self.add(vpath, f"argument {name!r} has no {{{name}}} placeholder")
        return used_anywhere

    def check_template(self, i: int, t: Any) -> None:
        path = join_path("response_templates", i)
        self.unique(t.arguments, join_path(path, "arguments"), "argument name")
        for j, arg in enumerate(t.arguments):
            self.slot_type(arg.slot_type, join_path(path, "arguments", j, "slot_type"))
        api = None
        if t.api is not None:
            api = self.apis.get(t.api)
            if api is None:
                self.add(join_path(path, "api"), f"unknown API {t.api!r}")
        elif t.act in ACTS_NEEDING_API:
            self.add(join_path(path, "api"), f"a {t.act.value} template must name its API")
        if t.act is DialogAct.FALLBACK:
            # Said when the turn was not understood: there is no API or value it could be about.
            if t.api is not None:
                self.add(join_path(path, "api"), "a fallback template is about no API")
            if t.arguments:
                self.add(join_path(path, "arguments"), "a fallback template shows no values")
        if t.act is DialogAct.REQUEST_ARGS:
            if not t.requested:
                self.add(join_path(path, "requested"), "a request_args template must name the arguments it asks for")
            if api is not None:
                names = {a.name for a in api.arguments}
                for j, r in enumerate(t.requested):
                    if r not in names:
                        self.add(join_path(path, "requested", j), f"{r!r} is not an argument of API {api.name!r}")
        elif t.requested:
            self.add(join_path(path, "requested"), "only a request_args template asks for arguments")
        self.check_variants(path, t.variants, {a.name for a in t.arguments}, all_required=True)

    def check_utterance_set(self, i: int, u: Any) -> None:
        path = join_path("utterance_sets", i)
        self.unique(u.arguments, join_path(path, "arguments"), "argument name")
        for j, arg in enumerate(u.arguments):
            self.slot_type(arg.slot_type, join_path(path, "arguments", j, "slot_type"))
        if u.api is not None and u.api not in self.apis:
            self.add(join_path(path, "api"), f"unknown API {u.api!r}")
        if u.act is UserAct.INVOKE and u.api is None:
            self.add(join_path(path, "api"), "an invoke utterance set must name the API it invokes")
        declared = {a.name for a in u.arguments}
        used = self.check_variants(path, u.variants, declared, all_required=False)
        for j, arg in enumerate(u.arguments):
            if arg.name not in used:
                self.add(join_path(path, "arguments", j, "name"), f"argument {arg.name!r} is used by no variant")

    def check_dialogue(self, i: int, d: SampleDialogue) -> None:
        path = join_path("sample_dialogues", i)
        entity_ids: dict[str, tuple[int, str]] = {}  # id -> (turn, slot type)
        for t, turn in enumerate(d.turns):
            tpath = join_path(path, "turns", t)
            expected = "user" if t % 2 == 0 else "system"
            if turn.speaker != expected:
                self.add(
                    join_path(tpath, "speaker"),
                    f"turns alternate, starting with the user: turn {t} must be a {expected} turn",
                )
            if isinstance(turn, UserTurn):
                self.check_user_turn(tpath, t, turn, entity_ids)
            else:
                self.check_system_turn(tpath, t, turn, entity_ids)
        # Second pass for bindings, now that every entity's turn is known.
        for t, turn in enumerate(d.turns):
            if isinstance(turn, SystemTurn):
                for a, action in enumerate(turn.actions):
                    self.check_bindings(join_path(path, "turns", t, "actions", a), t, a, action, d, entity_ids)

    def check_user_turn(self, tpath: str, t: int, turn: UserTurn, ids: dict[str, tuple[int, str]]) -> None:
        ordered = sorted(range(len(turn.spans)), key=lambda k: (turn.spans[k].start, turn.spans[k].end))
        for k, span in enumerate(turn.spans):
            spath = join_path(tpath, "spans", k)
            self.slot_type(span.slot_type, join_path(spath, "slot_type"))
            catalogue = self.catalogues.get(span.slot_type)
            if span.value is not None and catalogue is not None and span.value not in catalogue:
                self.add(join_path(spath, "value"), f"{span.value!r} is not a value of slot type {span.slot_type!r}")
            if span.id in ids:
                self.add(join_path(spath, "id"), f"duplicate entity id {span.id!r}")
            else:
                ids[span.id] = (t, span.slot_type)
            if span.end <= span.start:
                self.add(join_path(spath, "end"), f"span end {span.end} must be greater than its start {span.start}")
            elif span.end > len(turn.text):
                self.add(join_path(spath, "end"), f"span end {span.end} is beyond the text's length {len(turn.text)}")
            elif (actual := turn.text[span.start : span.end]) != span.text:
                self.add(
                    join_path(spath, "text"),
                    f"span text {span.text!r} does not match the utterance at {span.start}:{span.end} ({actual!r})",
                )
        # Compare with the span reaching furthest so far, not just the previous one:
        # a long span can overlap several later ones.
        reach: int | None = None
        for cur in ordered:
            if reach is not None and turn.spans[cur].start < turn.spans[reach].end:
                a = turn.spans[reach]
                self.add(join_path(tpath, "spans", cur), f"span overlaps span {reach} ({a.start}:{a.end})")
            if reach is None or turn.spans[cur].end > turn.spans[reach].end:
                reach = cur

    def check_system_turn(self, tpath: str, t: int, turn: SystemTurn, ids: dict[str, tuple[int, str]]) -> None:
        for a, action in enumerate(turn.actions):
            apath = join_path(tpath, "actions", a)
            if action.kind is ActionKind.API:
                api = self.apis.get(action.name)
                if api is None:
                    self.add(join_path(apath, "name"), f"unknown API {action.name!r}")
                if not action.id:
                    self.add(join_path(apath, "id"), "an API call needs an id so that its results can be referred to")
                elif action.id in ids or any(k.startswith(action.id + ".") for k in ids):
                    self.add(join_path(apath, "id"), f"duplicate entity id {action.id!r}")
                elif api is not None:
                    ids[action.id] = (t, "")
                    for r in api.returns:
                        ids[result_id(action.id, r.name)] = (t, r.slot_type)
            else:
                if action.name not in self.templates:
                    self.add(join_path(apath, "name"), f"unknown response template {action.name!r}")
                if action.id is not None:
                    self.add(join_path(apath, "id"), "only an API call has an id")

    def check_bindings(
        self, apath: str, t: int, a: int, action: Action, d: SampleDialogue, ids: dict[str, tuple[int, str]]
    ) -> None:
        target: Any = self.apis.get(action.name) if action.kind is ActionKind.API else self.templates.get(action.name)
        if target is None:
            return
        params = by_name(target.arguments)
        for name, ref in action.arguments.items():
            bpath = join_path(apath, "arguments", name)
            param = params.get(name)
            if param is None:
                self.add(bpath, f"{target.name!r} has no argument {name!r}")
                continue
            known = ids.get(ref)
            if known is None or known[1] == "":
                self.add(bpath, f"bound to unknown entity {ref!r}")
                continue
            e_turn, e_type = known
            available = e_turn < t or (e_turn == t and "." in ref and self._call_index(d, t, ref) < a)
            if not available:
                self.add(bpath, f"bound to entity {ref} which is not available before turn {t}")
            elif e_type != param.slot_type:
                self.add(bpath, f"entity {ref} is a {e_type}, but {name!r} takes a {param.slot_type}")
        for p in target.arguments:
            needed = getattr(p, "required", True) and getattr(p, "default", None) is None
            if needed and p.name not in action.arguments:
                what = "required argument" if action.kind is ActionKind.API else "argument"
                self.add(join_path(apath, "arguments", p.name), f"{what} {p.name!r} is not bound")

    @staticmethod
    def _call_index(d: SampleDialogue, t: int, ref: str) -> int:
        call_id = base_id(ref)
        turn = d.turns[t]
        assert isinstance(turn, SystemTurn)
        return next(i for i, act in enumerate(turn.actions) if act.id == call_id)


def validate_skill(skill: Skill) -> list[Issue]:
    """Every semantic problem in ``skill`` (empty when it is valid), in document order."""
    return _Checker(skill).run()


def lint_skill(skill: Skill) -> list[Issue]:
    """Advice that does not make a skill invalid but will hurt its builds."""
    advice: list[Issue] = []
    for i, st in enumerate(skill.slot_types):
        if st.builtin is None and not st.values:
            advice.append(Issue(join_path("slot_types", i, "values"), "the catalogue is empty"))
    used = {a.name for d in skill.sample_dialogues for t in d.turns if isinstance(t, SystemTurn) for a in t.actions}
    for i, api in enumerate(skill.apis):
        if api.name not in used:
            advice.append(Issue(join_path("apis", i), f"API {api.name!r} is called in no sample dialogue"))
    apis, templates = by_name(skill.apis), by_name(skill.response_templates)
    for i, d in enumerate(skill.sample_dialogues):
        confirmed: set[str] = set()
        for t, turn in enumerate(d.turns):
            if not isinstance(turn, SystemTurn):
                continue
            for a, action in enumerate(turn.actions):
                if action.kind is ActionKind.RESPONSE:
                    tpl = templates.get(action.name)
                    if tpl is not None and tpl.act is DialogAct.CONFIRM_API and tpl.api:
                        confirmed.add(tpl.api)
                else:
                    api_ = apis.get(action.name)
                    if api_ is not None and api_.transactional and api_.name not in confirmed:
                        advice.append(
                            Issue(
                                join_path("sample_dialogues", i, "turns", t, "actions", a),
                                f"transactional API {api_.name!r} is called without a confirm_api response first",
                            )
                        )
                    confirmed.discard(action.name)
    if not skill.sample_dialogues:
        advice.append(Issue("sample_dialogues", "no sample dialogues: a build needs at least one"))
    return advice
