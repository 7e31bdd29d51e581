"""Bad input never causes a server error: random JSON thrown at every write endpoint gets a 4xx
with a path-named error list, or is accepted as valid."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.skills import selectors
from studio.skills.components import KINDS

# Keys the spec knows, so that the generator often gets past "unknown field" to deeper checks.
KEYS = st.sampled_from(
    [
        "name",
        "description",
        "builtin",
        "values",
        "value",
        "synonyms",
        "arguments",
        "returns",
        "slot_type",
        "required",
        "default",
        "transactional",
        "act",
        "api",
        "requested",
        "variants",
        "test",
        "turns",
        "speaker",
        "text",
        "spans",
        "start",
        "end",
        "id",
        "actions",
        "kind",
        "spec_version",
        "slot_types",
        "apis",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 40),
    st.sampled_from(
        [
            "city",
            "SearchFlights",
            "e1",
            "c1.flight",
            "offer",
            "api",
            "user",
            "system",
            "DATE",
            "{flight}",
            "x y",
            "<script>",
            "\x00",
            "1.0",
        ]
    ),
    st.text(max_size=12),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _assert_client_error(response):
    assert response.status_code < 500, response.content[:500]
    if response.status_code == 400:
        errors = response.json()["errors"]
        assert errors and all(set(e) == {"path", "message"} for e in errors)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS, ids=[k.slug for k in KINDS])
@FUZZ
@given(body=JSON)
def test_component_writes_never_fail_with_a_server_error(api, skill, kind, body):
    before = selectors.skill_to_spec(skill=skill)
    response = api.post(f"/api/skills/{skill.pk}/{kind.slug}/", json.dumps(body), content_type="application/json")
    _assert_client_error(response)
    first = selectors.component_list(skill=skill, kind=kind).first()
    response = api.put(
        f"/api/skills/{skill.pk}/{kind.slug}/{first.pk}/", json.dumps(body), content_type="application/json"
    )
    _assert_client_error(response)
    if response.status_code >= 400:
        # A refused write changes nothing.
        assert selectors.component_list(skill=skill, kind=kind).get(pk=first.pk).data == getattr(before, kind.field)[
            0
        ].model_dump(mode="json")


@pytest.mark.django_db
@FUZZ
@given(body=JSON)
def test_imports_never_fail_with_a_server_error(api, mini_spec, body):
    response = api.post("/api/skills/import/", json.dumps(body), content_type="application/json")
    _assert_client_error(response)
    # Random parts spliced into a valid skill reach the semantic checks.
    if isinstance(body, dict):
        response = api.post("/api/skills/import/", json.dumps({**mini_spec, **body}), content_type="application/json")
        _assert_client_error(response)
