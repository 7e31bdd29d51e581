"""Conversations with a deployed dialogue manager: sessions, turns, API backends, corrections.

A turn runs the build's manager (loaded once per process, :mod:`studio.runtime.managers`) on
the session's state, answers its API calls through the skill's bindings (the mock backend,
or the developer's webhook), and stores everything the manager did. The stored turns are
the session: a process that has not seen the session (or restarted) replays them.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Mapping
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery

import skillspec
from modeling.runtime import TurnResult
from simulator.backend import MockBackend
from simulator.text import Value
from skillspec import Issue, SpecValidationError
from skillspec.annotated import AnnotatedActionKind
from skillspec.index import by_name
from studio.builds import selectors as build_selectors
from studio.builds.artifacts import artifact_problem
from studio.builds.models import Build
from studio.skills import services as skill_services
from studio.skills.components import SAMPLE_DIALOGUES
from studio.skills.models import SampleDialogue, Skill

from . import managers, selectors
from .models import ApiBinding, ConversationSession, ConversationTurn
from .webhooks import UnsafeWebhookURL, call_webhook, check_webhook_url


class SessionStateError(Exception):
    """What the session's state does not allow (a build that cannot be served)."""


def _fail(path: str, message: str) -> NoReturn:
    raise SpecValidationError([Issue(path, message)])


# --- sessions and turns ----------------------------------------------------------------------------


@transaction.atomic
def session_create(*, skill: Skill, user: User, build: Build | None = None) -> ConversationSession:
    """A new conversation with ``build`` (default: the skill's live build)."""
    if build is None:
        build = build_selectors.live_build(skill=skill)
        if build is None:
            _fail("build", "the skill has no live build: deploy one, or name a ready build")
    if build.skill_id != skill.pk:
        _fail("build", f"build {build.pk} is not a build of this skill")
    if build.status != Build.Status.READY:
        _fail("build", f"build {build.number} is {build.status}; only a ready build can converse")
    problem = artifact_problem(build)
    if problem:
        raise SessionStateError(f"build {build.number} cannot be served: {problem}")
    return ConversationSession.objects.create(
        skill=skill, build=build, owner=user, seed=random.SystemRandom().randrange(2**31)
    )


def _check_text(text: Any) -> str:
    if not isinstance(text, str):
        _fail("text", "must be a string: what the user says")
    said = str(text).strip()
    if not said:
        _fail("text", "type what the user says")
    limit = settings.COLLOQUY_MAX_UTTERANCE_CHARS
    if len(said) > limit:
        _fail("text", f"is {len(said):,} characters long; an utterance may have at most {limit:,}")
    return said


def turn_create(*, session: ConversationSession, text: Any) -> ConversationTurn:
    """Answer the user's ``text`` in ``session`` and store the turn."""
    text = _check_text(text)
    # Load the build's manager (seconds, the first time in a process) before the transaction:
    # its locks (on SQLite, the database's one write lock) are then held only while the turn runs.
    with contextlib.suppress(managers.ArtifactUnavailable):  # said inside, under the lock
        managers.manager_for(session.build)
    return _turn_create_locked(session=session, text=text)


@transaction.atomic
def _turn_create_locked(*, session: ConversationSession, text: str) -> ConversationTurn:
    # One turn of a session at a time: the row lock orders concurrent requests. Only the session's
    # row: locking the joined build too would serialise (and deadlock) all sessions of one build.
    # The lock and the turn count in one round trip (FOR UPDATE applies to the session's row only).
    stored = ConversationTurn.objects.filter(session=OuterRef("pk")).order_by().values("session")
    session = (
        selectors.sessions_with_build()
        .select_for_update(of=("self",))
        .annotate(stored_turns=Subquery(stored.annotate(n=Count("*")).values("n")))
        .get(pk=session.pk)
    )
    number = session.stored_turns or 0
    if number >= settings.COLLOQUY_MAX_SESSION_TURNS:
        _fail("text", f"the session has {number} turns, the most one may have; start a new one")
    try:
        manager = managers.manager_for(session.build)
    except managers.ArtifactUnavailable as exc:
        raise SessionStateError(str(exc)) from None
    state = managers.session_state(
        session.pk,
        manager,
        number,
        load=lambda: [t.result for t in session.turns.order_by("number")],
        today=session.created_at.date(),
    )
    started = time.perf_counter()
    executor = _executor(session=session, spec=manager.skill, number=number)
    try:
        result = manager.respond(state, text, executor=executor).to_dict()
    except BaseException:
        managers.forget_session(session.pk)  # the in-memory state may be half-updated
        raise
    seconds = time.perf_counter() - started
    turn = ConversationTurn.objects.create(session=session, number=number, text=text, result=result, seconds=seconds)
    session.save(update_fields=["updated_at"])
    return turn


# --- API backends -----------------------------------------------------------------------------------


def _executor(*, session: ConversationSession, spec: skillspec.Skill, number: int) -> managers.Executor:
    apis = by_name(spec.apis)
    mock = MockBackend(spec)
    bindings: dict[str, ApiBinding] | None = None  # read at the turn's first call: most turns make none
    # The mock's draws depend on the session and the turn only: a replayed turn draws the same.
    rng = random.Random(f"{session.seed}:{number}")

    def execute(api: str, arguments: dict[str, str]) -> Mapping[str, str] | None:
        nonlocal bindings
        if bindings is None:
            bindings = {b.api: b for b in ApiBinding.objects.filter(skill_id=session.skill_id)}
        binding = bindings.get(api)
        if binding is not None and binding.mode == ApiBinding.Mode.WEBHOOK:
            return call_webhook(
                url=binding.url,
                secret=binding.secret,
                api=apis[api],
                arguments=arguments,
                timeout=binding.timeout,
                allow_private=settings.COLLOQUY_WEBHOOK_ALLOW_PRIVATE,
                max_bytes=settings.COLLOQUY_WEBHOOK_MAX_BYTES,
            )
        types = {a.name: a.slot_type for a in apis[api].arguments}
        values = {n: Value(types[n], v, v) for n, v in arguments.items() if n in types}
        result = mock.call(api, values, rng)
        if not result.success or not result.rows:
            return None
        return {name: v.value for name, v in result.rows[0].items()}

    return execute


@transaction.atomic
def binding_update(
    *, skill: Skill, api: str, mode: str, url: str = "", secret: str = "", timeout: float = 5.0
) -> ApiBinding:
    """Bind ``api`` to the mock backend or to a webhook (checked now, and again at every call)."""
    spec_apis = {a.name for a in skill.apis.all()}
    if api not in spec_apis:
        _fail("api", f"the skill has no API {api!r}")
    issues: list[Issue] = []
    if mode not in ApiBinding.Mode.values:
        issues.append(Issue("mode", f"must be one of {', '.join(ApiBinding.Mode.values)}"))
    url, secret = (url or "").strip(), (secret or "").strip()
    existing = ApiBinding.objects.filter(skill=skill, api=api).first()
    if not secret and existing is not None:
        secret = existing.secret  # a blank secret field keeps the one saved (it is never shown again)
    if mode == ApiBinding.Mode.WEBHOOK:
        if not url:
            issues.append(Issue("url", "a webhook needs the URL to POST calls to"))
        elif len(url) > 500:
            issues.append(Issue("url", "must be at most 500 characters"))
        else:
            try:
                check_webhook_url(url, allow_private=settings.COLLOQUY_WEBHOOK_ALLOW_PRIVATE)
            except UnsafeWebhookURL as exc:
                issues.append(Issue("url", str(exc)))
        if len(secret) < 16:
            issues.append(Issue("secret", "must be at least 16 characters: it signs every call (HMAC-SHA256)"))
        elif len(secret) > 200:
            issues.append(Issue("secret", "must be at most 200 characters"))
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0.1 <= float(timeout) <= 30:
        issues.append(Issue("timeout", "must be a number of seconds between 0.1 and 30"))
    if issues:
        raise SpecValidationError(issues)
    binding, _ = ApiBinding.objects.update_or_create(
        skill=skill,
        api=api,
        defaults={"mode": mode, "url": url if mode == "webhook" else "", "secret": secret, "timeout": float(timeout)},
    )
    return binding


# --- corrections, and saving a conversation as a sample ----------------------------------------------


def entities_before(*, session: ConversationSession, number: int) -> dict[str, str]:
    """Entity key -> slot type of everything the turns before ``number`` introduced (corrections applied)."""
    known: dict[str, str] = {}
    spec = skillspec.Skill.model_validate(session.build.spec)
    returns = {a.name: {r.name: r.slot_type for r in a.returns} for a in spec.apis}
    for turn in session.turns.filter(number__lt=number).order_by("number"):
        annotation = turn_annotation(turn=turn)
        known.update({s["id"]: s["slot_type"] for s in annotation["spans"]})
        for a in annotation["actions"]:
            if a["kind"] == AnnotatedActionKind.API and a.get("id"):
                known.update({skillspec.result_id(a["id"], f): st for f, st in returns.get(a["name"], {}).items()})
    return known


def turn_annotation(*, turn: ConversationTurn) -> dict[str, Any]:
    """The turn as a sample dialogue would annotate it: the correction, else what the manager did."""
    if turn.correction is not None:
        return dict(turn.correction)
    result = TurnResult.from_dict(turn.result)
    spans = [
        {"id": s.entity, "start": s.start, "end": s.end, "slot_type": s.slot_type, "text": s.text}
        | ({"value": s.value} if s.value != s.text else {})
        for s in result.spans
    ]
    actions = []
    for a in result.actions:
        if a.kind is AnnotatedActionKind.WAIT:
            continue
        action: dict[str, Any] = {"kind": a.kind, "name": a.name}
        if a.kind is AnnotatedActionKind.API and a.call_id:
            action["id"] = a.call_id
        action["arguments"] = {g.name: g.entity for g in a.arguments if g.entity}
        actions.append(action)
    return {"spans": spans, "actions": actions}


@transaction.atomic
def turn_correct(*, turn: ConversationTurn, spans: Any, actions: Any) -> ConversationTurn:
    """Store the developer's annotation of ``turn``: spans of its text, the system's actions and the
    entity each argument takes. Every problem is reported with its path; nothing is stored then."""
    session = turn.session
    spec = skillspec.Skill.model_validate(session.build.spec)
    slot_types = {s.name for s in spec.slot_types}
    apis = by_name(spec.apis)
    templates = by_name(skillspec.response_templates(spec))
    issues: list[Issue] = []
    text = turn.text
    if not isinstance(spans, list):
        _fail("spans", "must be a list")
    if not isinstance(actions, list):
        _fail("actions", "must be a list")
    known = entities_before(session=session, number=turn.number)
    clean_spans: list[dict[str, Any]] = []
    ids = skillspec.EntityIds(known)  # an id given in the correction is kept where it is free
    for i, s in enumerate(spans):
        path = f"spans[{i}]"
        if not isinstance(s, dict):
            issues.append(Issue(path, "must be an object with start, end and slot_type"))
            continue
        start, end, st = s.get("start"), s.get("end"), s.get("slot_type")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            issues.append(Issue(path, f"start and end must pick characters of the text (0 to {len(text)})"))
            continue
        if text[start:end] != text[start:end].strip() or not text[start:end].strip():
            issues.append(Issue(path, "a span may not begin or end with a space"))
            continue
        if st not in slot_types:
            issues.append(Issue(f"{path}.slot_type", f"the skill has no slot type {st!r}"))
            continue
        if any(not (end <= o["start"] or start >= o["end"]) for o in clean_spans):
            issues.append(Issue(path, "overlaps another span"))
            continue
        sid = s.get("id")
        if isinstance(sid, str) and sid and "." not in sid and sid not in ids:
            ids.take(sid)
        else:
            sid = ids.span()
        span: dict[str, Any] = {"id": sid, "start": start, "end": end, "slot_type": st, "text": text[start:end]}
        clean_spans.append(span)
    available = dict(known) | {s["id"]: s["slot_type"] for s in clean_spans}
    clean_actions: list[dict[str, Any]] = []
    for i, a in enumerate(actions):
        path = f"actions[{i}]"
        if not isinstance(a, dict) or not isinstance(a.get("name"), str):
            issues.append(Issue(path, "must be an object naming an API or a response template"))
            continue
        name = a["name"]
        arguments = a.get("arguments") or {}
        if not isinstance(arguments, dict):
            issues.append(Issue(f"{path}.arguments", "must map argument names to entities"))
            continue
        if name in apis:
            kind, expected = AnnotatedActionKind.API, {g.name: g.slot_type for g in apis[name].arguments}
        elif name in templates:
            kind, expected = AnnotatedActionKind.RESPONSE, {g.name: g.slot_type for g in templates[name].arguments}
        else:
            issues.append(Issue(f"{path}.name", f"the skill has no API or response template {name!r}"))
            continue
        bound: dict[str, str] = {}
        for arg, entity in arguments.items():
            if entity in (None, ""):
                continue
            if arg not in expected:
                issues.append(Issue(f"{path}.arguments.{arg}", f"{name} has no argument {arg!r}"))
            elif entity not in available:
                issues.append(Issue(f"{path}.arguments.{arg}", f"no entity {entity!r} in the conversation so far"))
            elif available[entity] != expected[arg]:
                issues.append(
                    Issue(
                        f"{path}.arguments.{arg}",
                        f"{entity} is a {available[entity]}, but {arg} takes a {expected[arg]}",
                    )
                )
            else:
                bound[arg] = entity
        action: dict[str, Any] = {"kind": kind, "name": name}
        if kind is AnnotatedActionKind.API:
            given = a.get("id")
            if isinstance(given, str) and given and "." not in given and given not in ids:
                ids.take(call_id := given)
            else:
                call_id = ids.call()
            action["id"] = call_id
            for f, st in {r.name: r.slot_type for r in apis[name].returns}.items():
                available[skillspec.result_id(call_id, f)] = st
        action["arguments"] = bound
        clean_actions.append(action)
    if issues:
        raise SpecValidationError(issues)
    turn.correction = {"spans": clean_spans, "actions": clean_actions}
    turn.save(update_fields=["correction"])
    return turn


@transaction.atomic
def dialogue_create_from_session(*, session: ConversationSession, name: Any, test: bool = False) -> SampleDialogue:
    """Save the conversation, as corrected, as a new sample dialogue (or test conversation) of the skill."""
    if not isinstance(name, str) or not name.strip():
        _fail("name", "a sample dialogue needs a name")
    turns: list[dict[str, Any]] = []
    stored = list(session.turns.order_by("number"))
    if not stored:
        _fail("session", "the conversation has no turns yet")
    for turn in stored:
        annotation = turn_annotation(turn=turn)
        turns.append({"speaker": "user", "text": turn.text, "spans": annotation["spans"]})
        if not annotation["actions"]:
            _fail(
                f"turns[{turn.number}]",
                "the system did nothing in this turn: correct it with the actions it should take",
            )
        turns.append({"speaker": "system", "actions": annotation["actions"]})
    data = {"name": name.strip(), "test": bool(test), "turns": turns}
    row = skill_services.component_create(skill=session.skill, kind=SAMPLE_DIALOGUES, data=data)
    assert isinstance(row, SampleDialogue)
    return row
