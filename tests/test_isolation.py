"""No user can read, change or even learn of another user's skill: every URL pattern that
names a skill is walked as a second user and must answer 404, whatever the method."""

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


def _skill_urls(skill):
    """Every URL of every named pattern that takes a skill id, filled with ``skill``'s objects."""
    urls = []
    for name, pattern in _patterns(get_resolver()):
        params = set(pattern.pattern.converters)
        if "skill_id" not in params:
            continue
        slugs = [k.slug for k in KINDS] if "slug" in params else [None]
        for slug in slugs:
            kwargs = {"skill_id": skill.pk}
            if slug:
                kwargs["slug"] = slug
            kind = BY_SLUG.get(slug or "") if slug else None
            if kind is None and "dialogue" in name:
                kind = BY_SLUG["sample-dialogues"]
            if kind is None and "slot" in name:
                kind = BY_SLUG["slot-types"]
            for param in params - {"skill_id", "slug"}:
                if param == "pk" and kind is not None:
                    kwargs["pk"] = selectors.component_list(skill=skill, kind=kind).first().pk
                else:
                    kwargs[param] = 0
            try:
                urls.append(reverse(name, kwargs=kwargs))
            except Exception:  # a slug the pattern's converter rejects
                continue
    return sorted(set(urls))


@pytest.mark.django_db
def test_every_skill_url_is_404_for_another_user(skill, other_user, client):
    urls = _skill_urls(skill)
    # Web pages, REST resources and the dialogue editor: the walk must really cover them.
    assert len(urls) >= 20, urls
    assert any(u.startswith("/api/") for u in urls) and any(not u.startswith("/api/") for u in urls)

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
