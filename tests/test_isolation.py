"""No user can read, change or even learn of another user's skill: every URL pattern that
names a skill, a build or a session is walked as a second user, with the owner's real ids,
and must answer 404, whatever the method."""

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from studio.skills import selectors
from studio.skills.components import BY_SLUG, KINDS

METHODS = ("get", "post", "put", "patch", "delete")


def _patterns(resolver: URLResolver, namespace: str = ""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or ""
            yield from _patterns(p, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}", p


def _owned(skill):
    """The owner's real objects, so that every id in a walked URL names something that exists:
    a 404 then means "not yours", never "not there"."""
    from studio.builds.models import Build
    from studio.runtime.models import ConversationSession, ConversationTurn

    spec = json.loads(selectors.skill_export(skill=skill))
    build = Build.objects.create(
        skill=skill, number=1, started_by=skill.owner, status=Build.Status.READY, settings={}, spec=spec, spec_hash="x"
    )
    session = ConversationSession.objects.create(skill=skill, build=build, owner=skill.owner)
    result = {"text": "fly from Boston", "spans": [], "actions": [], "response": ""}  # TurnResult.to_dict()
    ConversationTurn.objects.create(session=session, number=0, text=result["text"], result=result)
    dialogue = selectors.component_list(skill=skill, kind=BY_SLUG["sample-dialogues"]).first()
    first_user_turn = dialogue.data["turns"][0]
    assert first_user_turn["speaker"] == "user" and first_user_turn["spans"]
    api = selectors.component_list(skill=skill, kind=BY_SLUG["apis"]).first()
    return {
        "dialogue_id": dialogue.pk,
        "turn": 0,
        "span_id": first_user_turn["spans"][0]["id"],
        "action": 0,
        "api": api.name,
        "build_id": build.pk,
        "session_id": session.pk,
        "number": 0,
    }


def _skill_urls(skill):
    """Every URL of every named pattern that takes a skill, a build or a session id, filled with
    ``skill``'s real objects (and its builds' and sessions')."""
    owned = _owned(skill)
    urls = []
    for name, pattern in _patterns(get_resolver()):
        params = set(pattern.pattern.converters)
        if not params & {"skill_id", "build_id", "session_id"}:
            continue
        slugs = [k.slug for k in KINDS] if "slug" in params else [None]
        for slug in slugs:
            kwargs = {"skill_id": skill.pk} if "skill_id" in params else {}
            if slug:
                kwargs["slug"] = slug
            kind = BY_SLUG.get(slug or "") if slug else None
            if kind is None:  # a REST route names its kind: api:apis-detail, api:slot-types-detail
                kind = next((k for k in KINDS if name.split(":")[-1].startswith(k.slug + "-")), None)
            if kind is None and "dialogue" in name:
                kind = BY_SLUG["sample-dialogues"]
            if kind is None and "slot" in name:
                kind = BY_SLUG["slot-types"]
            for param in params - {"skill_id", "slug"}:
                if param == "pk" and kind is not None:
                    kwargs["pk"] = selectors.component_list(skill=skill, kind=kind).first().pk
                else:
                    assert param in owned, f"{name}: no real object for <{param}>; add one to _owned"
                    kwargs[param] = owned[param]
            try:
                urls.append(reverse(name, kwargs=kwargs))
            except Exception:  # a slug the pattern's converter rejects
                continue
    return sorted(set(urls))


@pytest.mark.django_db
def test_every_skill_url_is_404_for_another_user(skill, other_user, client):
    urls = _skill_urls(skill)
    # Web pages, REST resources, the dialogue editor, builds and sessions: the walk covers them all.
    assert len(urls) >= 20, urls
    assert any(u.startswith("/api/") for u in urls) and any(not u.startswith("/api/") for u in urls)
    for part in ("/dialogues/", "/builds/", "/sessions/", "/console/"):
        assert any(part in u for u in urls), part

    client.force_login(other_user)
    token, _ = Token.objects.get_or_create(user=other_user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    before = selectors.skill_export(skill=skill)
    failures = []
    for url in urls:
        c = api if url.startswith("/api/") else client
        statuses: set[int] = set()
        for method in METHODS:
            response = (
                getattr(c, method)(url, {}, HTTP_HX_REQUEST="true") if method == "get" else getattr(c, method)(url)
            )
            if response.status_code not in (404, 405):
                failures.append(f"{method.upper()} {url} -> {response.status_code}")
            statuses.add(response.status_code)
            if skill.name in response.content.decode(errors="replace"):
                failures.append(f"{method.upper()} {url} leaks the skill's name")
        # 405 alone would say nothing about hiding the skill: some method must reach the lookup.
        if 404 not in statuses:
            failures.append(f"{url}: no method answered 404 ({sorted(statuses)})")
    assert failures == []
    assert selectors.skill_export(skill=skill) == before, "another user's request changed the skill"


@pytest.mark.django_db
def test_skill_lists_show_only_own_skills(skill, other_user, client):
    client.force_login(other_user)
    assert skill.name not in client.get(reverse("skills:list")).content.decode()
    token, _ = Token.objects.get_or_create(user=other_user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = api.get("/api/skills/").json()
    assert body["count"] == 0 and body["results"] == []
